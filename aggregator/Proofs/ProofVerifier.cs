using Federation.Aggregator.Signing;
using Federation.Protos.V1;

namespace Federation.Aggregator.Proofs;

/// <summary>The outcome of checking a proof chain offline.</summary>
/// <param name="IsValid">True when every link verifies and cites the one below.</param>
/// <param name="Message">Why it failed, naming the link; empty when valid.</param>
/// <param name="Report">The proven report (parsed), when valid.</param>
/// <param name="Summaries">The verified summaries from the unit's host up to the ancestor, when valid.</param>
public sealed record ProofResult(bool IsValid, string Message, UnitReport? Report, IReadOnlyList<Summary> Summaries);

/// <summary>
/// Checks that a unit's report is inside an ancestor's figures: every summary verifies with the key
/// trusted for its node, the first cites the report's digest, each later one cites the digest, version
/// and node of the one before, and the last is the ancestor the verifier asked about. Needs nothing but
/// the proof and the public keys.
/// </summary>
/// <remarks>
/// The expected top node is part of the call, not read from the proof: every prefix of a valid chain is
/// itself a valid chain, so a proof with its last links dropped would otherwise still verify, proving
/// the report is inside a township's figures while the reader believes it is inside the city's.
/// </remarks>
public static class ProofVerifier
{
    /// <param name="proof">The chain.</param>
    /// <param name="trustedKeys">Node id to raw 32-byte public key, as the verifier trusts them.</param>
    /// <param name="expectedTopNodeId">The ancestor whose figures the report must be inside: the last link's node.</param>
    /// <param name="expectedTopDigest">
    /// When given, the SHA-256 of the exact summary the verifier asked about (e.g. the one GetTotals returned);
    /// the last link must be that summary, not another version.
    /// </param>
    public static ProofResult Verify(
        Proof proof, IReadOnlyDictionary<string, byte[]> trustedKeys, string expectedTopNodeId, ReadOnlySpan<byte> expectedTopDigest = default) =>
        Verify(proof, TrustedKeys.FromSingle(trustedKeys), expectedTopNodeId, expectedTopDigest);

    /// <param name="proof">The chain.</param>
    /// <param name="trustedKeys">The keys the verifier trusts, several per node when a node rotated its key.</param>
    /// <param name="expectedTopNodeId">The ancestor whose figures the report must be inside: the last link's node.</param>
    /// <param name="expectedTopDigest">When given, the SHA-256 of the exact summary the verifier asked about.</param>
    public static ProofResult Verify(Proof proof, TrustedKeys trustedKeys, string expectedTopNodeId, ReadOnlySpan<byte> expectedTopDigest = default)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(trustedKeys);
        ArgumentException.ThrowIfNullOrEmpty(expectedTopNodeId);
        if (proof.Links.Count == 0)
        {
            return Fail("the proof has no signed summaries.");
        }

        UnitReport report;
        try
        {
            report = UnitReport.Parser.ParseFrom(proof.UnitReportBytes);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException ex)
        {
            return Fail("unit_report_bytes is not a UnitReport: " + ex.Message);
        }

        if (report.UnitId != proof.UnitId || report.Period != proof.Period)
        {
            return Fail($"the report is of {report.UnitId} {report.Period}, not {proof.UnitId} {proof.Period}.");
        }

        // One key may be trusted for several nodes; the signed node id then decides which.
        var cited = (Id: report.UnitId, Kind: ContributionKind.UnitReport, Version: report.Version, Digest: Digests.Sha256(proof.UnitReportBytes.Span));
        var summaries = new List<Summary>(proof.Links.Count);
        for (var i = 0; i < proof.Links.Count; i++)
        {
            var link = proof.Links[i];
            var signers = trustedKeys.ForKeyId(link.KeyId);
            if (signers.Count == 0)
            {
                return Fail($"link {i}: key id {link.KeyId} is not among the trusted keys.");
            }

            var verification = SignedMessages.VerifySummary(link, signers[0].PublicKey);
            if (!verification.IsValid)
            {
                return Fail($"link {i} ({signers[0].NodeId}): {verification.Message}");
            }

            var summary = verification.Value!;
            if (summary.Period != proof.Period || !signers.Any(s => s.NodeId == summary.NodeId))
            {
                return Fail($"link {i}: a summary of {summary.NodeId} {summary.Period} signed with a key not trusted for {summary.NodeId}.");
            }

            var cites = summary.Contributions.Any(c =>
                c.SourceId == cited.Id && c.Kind == cited.Kind && c.Version == cited.Version && c.Digest.Span.SequenceEqual(cited.Digest));
            if (!cites)
            {
                return Fail($"link {i} ({summary.NodeId} v{summary.Version}) does not cite {cited.Id} v{cited.Version} with digest {Digests.ToHex(cited.Digest)}.");
            }

            summaries.Add(summary);
            cited = (summary.NodeId, ContributionKind.ChildSummary, summary.Version, verification.Digest);
        }

        if (cited.Id != expectedTopNodeId)
        {
            return Fail($"the chain ends at {cited.Id} v{cited.Version}, not at {expectedTopNodeId} as asked.");
        }

        if (!expectedTopDigest.IsEmpty && !expectedTopDigest.SequenceEqual(cited.Digest))
        {
            return Fail($"the chain ends at {cited.Id} v{cited.Version} with digest {Digests.ToHex(cited.Digest)}, not the summary asked about ({Digests.ToHex(expectedTopDigest)}).");
        }

        return new ProofResult(true, string.Empty, report, summaries);
    }

    private static ProofResult Fail(string message) => new(false, message, null, []);
}
