using System.Globalization;
using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;

namespace Federation.Aggregator.Proofs;

/// <summary>What an audit found: the audited summary and every difference between it and its inputs.</summary>
/// <param name="Summary">The audited summary, parsed (null when it could not be read).</param>
/// <param name="Differences">One sentence per difference; empty when the arithmetic holds.</param>
public sealed record AuditResult(Summary? Summary, IReadOnlyList<string> Differences)
{
    public bool IsClean => Summary is not null && Differences.Count == 0;
}

/// <summary>
/// Recomputes a node's figures from the inputs its summary cites (its children's signed summaries and
/// its hosted units' reports) and reports every difference: a parent cannot bend a total without it showing.
/// </summary>
public static class Auditor
{
    /// <param name="bundle">The node's signed summary and its inputs.</param>
    /// <param name="catalogue">The catalogue the summary follows.</param>
    /// <param name="trustedKeys">Node id to public key; signatures of nodes listed here are checked.</param>
    public static AuditResult Audit(AuditBundle bundle, CatalogueIndex catalogue, IReadOnlyDictionary<string, byte[]> trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(trustedKeys);
        var differences = new List<string>();
        var summary = Read(bundle.Summary, trustedKeys, differences, "the audited summary");
        if (summary is null)
        {
            return new AuditResult(null, differences);
        }

        var children = bundle.ChildSummaries
            .Select(s => (Signed: s, Digest: Digests.Sha256(s.SummaryBytes.Span)))
            .ToDictionary(static c => Digests.ToHex(c.Digest), static c => c.Signed);
        var reports = bundle.UnitReports.ToDictionary(static r => Digests.ToHex(Digests.Sha256(r.Span)), static r => r);
        var parts = new List<IReadOnlyList<IndicatorAggregate>>();
        uint reported = 0;
        uint onTime = 0;
        foreach (var contribution in summary.Contributions)
        {
            var digest = Digests.ToHex(contribution.Digest.Span);
            if (contribution.Kind == ContributionKind.ChildSummary && children.TryGetValue(digest, out var signedChild))
            {
                var child = Read(signedChild, trustedKeys, differences, $"child {contribution.SourceId}");
                if (child is null || !Cites(child.NodeId, child.Version, contribution, differences))
                {
                    continue;
                }

                parts.Add(child.Aggregates);
                reported += child.Coverage.ReportedLeafCount;
                onTime += child.Coverage.OnTimeLeafCount;
                CheckCount(differences, contribution.SourceId, "reported leaves", contribution.ReportedLeafCount, child.Coverage.ReportedLeafCount);
            }
            else if (contribution.Kind == ContributionKind.UnitReport && reports.TryGetValue(digest, out var reportBytes))
            {
                var report = UnitReport.Parser.ParseFrom(reportBytes);
                if (!Cites(report.UnitId, report.Version, contribution, differences))
                {
                    continue;
                }

                parts.Add(Aggregates.FromReport(catalogue, report.Values));
                reported++;
                onTime += contribution.OnTimeLeafCount;
            }
            else
            {
                differences.Add($"{contribution.SourceId}: the input with digest {digest} was not supplied.");
            }
        }

        CompareAggregates(summary.Aggregates, Aggregates.MergeAll(parts), differences);
        CheckCount(differences, summary.NodeId, "reported leaves", summary.Coverage.ReportedLeafCount, reported);
        CheckCount(differences, summary.NodeId, "on-time leaves", summary.Coverage.OnTimeLeafCount, onTime);
        return new AuditResult(summary, differences);
    }

    private static Summary? Read(SignedSummary? signed, IReadOnlyDictionary<string, byte[]> trustedKeys, List<string> differences, string what)
    {
        if (signed is null)
        {
            differences.Add($"{what} is missing.");
            return null;
        }

        var candidates = trustedKeys.Where(k => KeyIds.FromPublicKey(k.Value) == signed.KeyId).ToList();
        if (candidates.Count == 0)
        {
            // No trusted key: the arithmetic can still be checked, the signature cannot.
            return Summary.Parser.ParseFrom(signed.SummaryBytes);
        }

        var verification = SignedMessages.VerifySummary(signed, candidates[0].Value);
        if (!verification.IsValid)
        {
            differences.Add($"{what}: {verification.Message}");
            return null;
        }

        if (!candidates.Any(c => c.Key == verification.Value!.NodeId))
        {
            differences.Add($"{what}: names {verification.Value!.NodeId} but is signed with a key trusted for {string.Join(", ", candidates.Select(static c => c.Key))}.");
            return null;
        }

        return verification.Value;
    }

    private static bool Cites(string sourceId, ulong version, Contribution contribution, List<string> differences)
    {
        if (sourceId == contribution.SourceId && version == contribution.Version)
        {
            return true;
        }

        differences.Add($"{contribution.SourceId}: the supplied input is {sourceId} v{version}, the summary cites v{contribution.Version}.");
        return false;
    }

    private static void CompareAggregates(IReadOnlyList<IndicatorAggregate> stated, IReadOnlyList<IndicatorAggregate> recomputed, List<string> differences)
    {
        var byId = recomputed.ToDictionary(static a => a.IndicatorId, StringComparer.Ordinal);
        foreach (var aggregate in stated)
        {
            if (!byId.Remove(aggregate.IndicatorId, out var expected))
            {
                differences.Add($"{aggregate.IndicatorId}: stated, but no input reports it.");
            }
            else if (!aggregate.Equals(expected))
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{aggregate.IndicatorId}: stated total {aggregate.Total} over {aggregate.UnitCount} units, recomputed {expected.Total} over {expected.UnitCount} ({aggregate} vs {expected})."));
            }
        }

        differences.AddRange(byId.Keys.Order(StringComparer.Ordinal).Select(static id => $"{id}: reported by the inputs but missing from the summary."));
    }

    private static void CheckCount(List<string> differences, string source, string what, uint stated, uint recomputed)
    {
        if (stated != recomputed)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"{source}: {what} stated {stated}, recomputed {recomputed}."));
        }
    }
}
