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
/// trusted for its node, the first cites the report's digest, and each later one cites the digest,
/// version and node of the one before. Needs nothing but the proof and the public keys.
/// </summary>
public static class ProofVerifier
{
    /// <param name="proof">The chain.</param>
    /// <param name="trustedKeys">Node id to raw 32-byte public key, as the verifier trusts them.</param>
    public static ProofResult Verify(Proof proof, IReadOnlyDictionary<string, byte[]> trustedKeys) => Verify(proof, TrustedKeys.FromSingle(trustedKeys));

    /// <param name="proof">The chain.</param>
    /// <param name="trustedKeys">The keys the verifier trusts, several per node when a node rotated its key.</param>
    public static ProofResult Verify(Proof proof, TrustedKeys trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(trustedKeys);
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

        return new ProofResult(true, string.Empty, report, summaries);
    }

    private static ProofResult Fail(string message) => new(false, message, null, []);
}
