using System.Globalization;
using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Ratings;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Aggregator.Proofs;

/// <summary>What an audit found: the audited summary and every difference between it and its inputs.</summary>
/// <param name="Summary">The audited summary, parsed (null when it could not be read).</param>
/// <param name="Differences">One sentence per difference or unchecked signature; empty when everything holds.</param>
public sealed record AuditResult(Summary? Summary, IReadOnlyList<string> Differences)
{
    public bool IsClean => Summary is not null && Differences.Count == 0;
}

/// <summary>
/// Recomputes a node's figures from the inputs its summary cites (its children's signed summaries and
/// its hosted units' reports) and reports every difference: a parent cannot bend a total, count an input
/// twice, or use another period's input without it showing. A signature that cannot be checked against
/// a trusted key is itself reported, so an audit is clean only when everything in it was verified.
/// </summary>
public static class Auditor
{
    /// <param name="bundle">The node's signed summary and its inputs.</param>
    /// <param name="catalogue">The catalogue the summary follows.</param>
    /// <param name="trustedKeys">Node id to public key, as the auditor trusts them.</param>
    public static AuditResult Audit(AuditBundle bundle, CatalogueIndex catalogue, IReadOnlyDictionary<string, byte[]> trustedKeys) =>
        Audit(bundle, catalogue, TrustedKeys.FromSingle(trustedKeys));

    /// <param name="bundle">The node's signed summary and its inputs.</param>
    /// <param name="catalogue">The catalogue the summary follows.</param>
    /// <param name="trustedKeys">The keys the auditor trusts, several per node when a node rotated its key.</param>
    public static AuditResult Audit(AuditBundle bundle, CatalogueIndex catalogue, TrustedKeys trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(trustedKeys);
        var differences = new List<string>();
        var summary = Read(bundle.Summary, trustedKeys, differences, "the audited summary");
        if (summary is null || !Period.TryParse(summary.Period, out var period))
        {
            differences.Add("the audited summary cannot be read or names no valid period.");
            return new AuditResult(null, differences);
        }

        // Inputs are found by the digest the summary cites; a duplicate input is simply the same bytes twice.
        var children = bundle.ChildSummaries.GroupBy(static s => Digests.ToHex(Digests.Sha256(s.SummaryBytes.Span))).ToDictionary(static g => g.Key, static g => g.First());
        var reports = bundle.UnitReports.GroupBy(static r => Digests.ToHex(Digests.Sha256(r.Span))).ToDictionary(static g => g.Key, static g => g.First());
        var tallies = bundle.LedgerTallies.GroupBy(static t => Digests.ToHex(Digests.Sha256(t.Span))).ToDictionary(static g => g.Key, static g => g.First());
        var parts = new List<IReadOnlyList<IndicatorAggregate>>();
        var histograms = new List<IReadOnlyList<StarHistogram>>();
        var counted = new HashSet<string>(StringComparer.Ordinal);
        uint expected = 0, reported = 0, onTime = 0;
        foreach (var contribution in summary.Contributions)
        {
            var digest = Digests.ToHex(contribution.Digest.Span);
            // A unit is cited at most once per kind: by its report, and by its ledger.
            if (!counted.Add(contribution.Kind == ContributionKind.Ledger ? "ledger|" + contribution.SourceId : contribution.SourceId))
            {
                differences.Add($"{contribution.SourceId}: cited more than once.");
                continue;
            }

            var counts = contribution.Kind switch
            {
                ContributionKind.ChildSummary when children.TryGetValue(digest, out var signed) => ChildCounts(signed, contribution, summary.Period, trustedKeys, parts, histograms, differences),
                ContributionKind.UnitReport when reports.TryGetValue(digest, out var bytes) => ReportCounts(bytes, contribution, period, catalogue, parts, differences),
                ContributionKind.Ledger when tallies.TryGetValue(digest, out var tally) => LedgerCounts(tally, contribution, summary, catalogue, parts, differences),
                _ => Missing(contribution, digest, differences),
            };
            if (counts is { } c)
            {
                (expected, reported, onTime) = (expected + c.Expected, reported + c.Reported, onTime + c.OnTime);
                CheckCount(differences, contribution.SourceId, "on-time leaves", contribution.OnTimeLeafCount, c.OnTime);
                CheckCount(differences, contribution.SourceId, "reported leaves", contribution.ReportedLeafCount, c.Reported);
            }
        }

        CompareAggregates(summary.Aggregates, Aggregates.MergeAll(parts), differences);
        var coverage = summary.Coverage ?? new Coverage();
        CheckCount(differences, summary.NodeId, "reported leaves", coverage.ReportedLeafCount, reported);
        CheckCount(differences, summary.NodeId, "on-time leaves", coverage.OnTimeLeafCount, onTime);
        CheckExpected(bundle, summary, expected, differences);
        CheckStarHistograms(bundle, summary, trustedKeys, histograms, differences);

        return new AuditResult(summary, differences);
    }

    /// <summary>
    /// Expected leaves are recomputed exactly: the cited inputs' counts, one per silent hosted unit, and for each
    /// silent child the count the bundle states for it (a child with no summary for the period cites nothing).
    /// </summary>
    private static void CheckExpected(AuditBundle bundle, Summary summary, uint citedExpected, List<string> differences)
    {
        var coverage = summary.Coverage ?? new Coverage();
        var silentChildren = bundle.SilentChildren.GroupBy(static c => c.ChildId, StringComparer.Ordinal).ToDictionary(static g => g.Key, static g => g.First(), StringComparer.Ordinal);
        var silent = coverage.SilentSourceIds.ToHashSet(StringComparer.Ordinal);
        ulong expected = citedExpected;
        foreach (var id in silent)
        {
            expected += silentChildren.TryGetValue(id, out var child) ? child.ExpectedLeafCount : 1u;
        }

        foreach (var id in silentChildren.Keys.Where(id => !silent.Contains(id)).Order(StringComparer.Ordinal))
        {
            differences.Add($"{id}: given as a silent child, but the summary does not list it as silent.");
        }

        if (coverage.ExpectedLeafCount != expected)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture,
                $"{summary.NodeId}: expected leaves stated {coverage.ExpectedLeafCount}, recomputed {expected} from its inputs and silent sources."));
        }
    }

    /// <summary>
    /// The star histograms are recomputed exactly: the merge of the cited children's and of the node's own rating
    /// statement, which must be the one the summary cites, verify with the node's key, and recompute from what it embeds.
    /// </summary>
    private static void CheckStarHistograms(
        AuditBundle bundle, Summary summary, TrustedKeys trustedKeys, List<IReadOnlyList<StarHistogram>> histograms, List<string> differences)
    {
        if (summary.Rating is { } citation)
        {
            var statement = ReadStatement(bundle.RatingStatement, summary, citation, trustedKeys, differences);
            if (statement is not null)
            {
                histograms.Add(statement.Histograms);
                differences.AddRange(StarRating.Recheck(statement).Select(d => $"{summary.NodeId}'s rating statement: {d}"));
            }
        }
        else if (bundle.RatingStatement is not null)
        {
            differences.Add($"{summary.NodeId}: a rating statement was supplied, but the summary cites none.");
        }

        var recomputed = StarHistograms.Merge(histograms);
        if (!recomputed.SequenceEqual(summary.StarHistograms))
        {
            differences.Add($"{summary.NodeId}: star histograms stated [{string.Join("; ", summary.StarHistograms)}], recomputed [{string.Join("; ", recomputed)}].");
        }
    }

    private static RatingStatement? ReadStatement(
        SignedRatingStatement? signed, Summary summary, RatingCitation citation, TrustedKeys trustedKeys, List<string> differences)
    {
        if (signed is null)
        {
            differences.Add($"{summary.NodeId}: the rating statement the summary cites (v{citation.Version}) was not supplied.");
            return null;
        }

        if (!Digests.Sha256(signed.StatementBytes.Span).AsSpan().SequenceEqual(citation.Digest.Span))
        {
            differences.Add($"{summary.NodeId}: the supplied rating statement is not the one the summary cites (digest differs).");
            return null;
        }

        var key = trustedKeys.ForKeyId(signed.KeyId).Where(k => k.NodeId == summary.NodeId).Select(static k => k.PublicKey).FirstOrDefault();
        if (key is null)
        {
            differences.Add($"{summary.NodeId}: rating statement signature not checked, key id {signed.KeyId} is not trusted for {summary.NodeId}.");
            return null;
        }

        var verification = SignedMessages.VerifyRatingStatement(signed, key);
        if (!verification.IsValid)
        {
            differences.Add($"{summary.NodeId}: rating statement: {verification.Message}");
            return null;
        }

        var statement = verification.Value!;
        if (statement.NodeId != summary.NodeId || statement.Year != summary.Period || statement.Version != citation.Version ||
            (uint)statement.Units.Count != citation.RatedUnitCount)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture,
                $"{summary.NodeId}: the rating statement is {statement.NodeId}'s v{statement.Version} of {statement.Year} rating {statement.Units.Count} units; the summary cites v{citation.Version} of {summary.Period} rating {citation.RatedUnitCount}."));
            return null;
        }

        return statement;
    }

    private static (uint Expected, uint Reported, uint OnTime)? ChildCounts(
        SignedSummary signed, Contribution contribution, string period, TrustedKeys trustedKeys,
        List<IReadOnlyList<IndicatorAggregate>> parts, List<IReadOnlyList<StarHistogram>> histograms, List<string> differences)
    {
        var child = Read(signed, trustedKeys, differences, $"child {contribution.SourceId}");
        if (child is null || !Cites(child.NodeId, child.Version, child.Period, period, contribution, differences))
        {
            return null;
        }

        parts.Add(child.Aggregates);
        histograms.Add(child.StarHistograms);
        var coverage = child.Coverage ?? new Coverage();
        return (coverage.ExpectedLeafCount, coverage.ReportedLeafCount, coverage.OnTimeLeafCount);
    }

    private static (uint Expected, uint Reported, uint OnTime)? ReportCounts(
        ByteString bytes, Contribution contribution, Period period, CatalogueIndex catalogue, List<IReadOnlyList<IndicatorAggregate>> parts, List<string> differences)
    {
        UnitReport report;
        try
        {
            report = UnitReport.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            differences.Add($"{contribution.SourceId}: the supplied report is not a UnitReport.");
            return null;
        }

        if (!Cites(report.UnitId, report.Version, report.Period, period.ToString(), contribution, differences))
        {
            return null;
        }

        if (report.Values.FirstOrDefault(v => !catalogue.TryGet(v.IndicatorId, out _)) is { } unknown)
        {
            differences.Add($"{contribution.SourceId}: the report names '{unknown.IndicatorId}', which the catalogue does not know.");
            return null;
        }

        parts.Add(Aggregates.FromReport(catalogue, LedgerTallies.WithoutComputed(catalogue, report.Values)));
        var inTime = report.ReceiveTime is null || Timeliness.IsOnTime(catalogue, period, report.ReceiveTime.ToDateTimeOffset());
        return (1, 1, inTime ? 1u : 0u);
    }

    /// <summary>
    /// A unit's ledger tally: it must be the unit's for the summary's period at the version cited, and every overdue mark must
    /// be what the rules give at the summary's build time; its counts are the unit's ledger-computed values. It adds no leaves.
    /// </summary>
    private static (uint Expected, uint Reported, uint OnTime)? LedgerCounts(
        ByteString bytes, Contribution contribution, Summary summary, CatalogueIndex catalogue, List<IReadOnlyList<IndicatorAggregate>> parts, List<string> differences)
    {
        LedgerTally tally;
        try
        {
            tally = LedgerTally.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            differences.Add($"{contribution.SourceId}: the supplied ledger tally is not a LedgerTally.");
            return null;
        }

        if (!Cites(tally.UnitId, LedgerTallies.Version(tally), tally.Period, summary.Period, contribution, differences))
        {
            return null;
        }

        differences.AddRange(LedgerTallies.MisjudgedOverdue(tally, summary.BuildTime?.ToDateTimeOffset() ?? DateTimeOffset.MinValue));
        parts.Add(Aggregates.FromReport(catalogue, LedgerTallies.Values(catalogue, tally)));
        return (0, 0, 0);
    }

    private static (uint Expected, uint Reported, uint OnTime)? Missing(Contribution contribution, string digest, List<string> differences)
    {
        differences.Add($"{contribution.SourceId}: the input with digest {digest} was not supplied.");
        return null;
    }

    private static Summary? Read(SignedSummary? signed, TrustedKeys trustedKeys, List<string> differences, string what)
    {
        if (signed is null)
        {
            differences.Add($"{what} is missing.");
            return null;
        }

        var candidates = trustedKeys.ForKeyId(signed.KeyId);
        if (candidates.Count == 0)
        {
            differences.Add($"{what}: signature not checked, key id {signed.KeyId} is not among the trusted keys.");
            try
            {
                // The arithmetic can still be checked; the result is not clean.
                return Summary.Parser.ParseFrom(signed.SummaryBytes);
            }
            catch (InvalidProtocolBufferException)
            {
                differences.Add($"{what} is not a Summary.");
                return null;
            }
        }

        var verification = SignedMessages.VerifySummary(signed, candidates[0].PublicKey);
        if (!verification.IsValid)
        {
            differences.Add($"{what}: {verification.Message}");
            return null;
        }

        if (!candidates.Any(c => c.NodeId == verification.Value!.NodeId))
        {
            differences.Add($"{what}: names {verification.Value!.NodeId} but is signed with a key trusted for {string.Join(", ", candidates.Select(static c => c.NodeId))}.");
            return null;
        }

        return verification.Value;
    }

    private static bool Cites(string sourceId, ulong version, string inputPeriod, string period, Contribution contribution, List<string> differences)
    {
        if (sourceId == contribution.SourceId && version == contribution.Version && inputPeriod == period)
        {
            return true;
        }

        differences.Add($"{contribution.SourceId}: the supplied input is {sourceId} v{version} of {inputPeriod}; the summary cites v{contribution.Version} of {period}.");
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
