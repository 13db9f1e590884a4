using LiteDB;

namespace Federation.Node.Storage;

/// <summary>Collection names of the history's retention, fixed: renaming one is a migration.</summary>
internal static class HistoryCollections
{
    public const string Pruned = "history_pruned";
}

/// <summary>
/// What the retention rule let go of one period's history (id = period): how many replaced versions of each kind,
/// and when it last removed one. A digest asked for in a period with such a record may have been let go.
/// </summary>
internal sealed class PrunedHistoryDocument
{
    public string Id { get; set; } = string.Empty;

    public long ReportCount { get; set; }

    public long ChildSummaryCount { get; set; }

    /// <summary>This node's own replaced summaries let go.</summary>
    public long SummaryCount { get; set; }

    /// <summary>When a replaced version of the period was last let go (UTC ticks).</summary>
    public long LastPrunedTicks { get; set; }
}

/// <summary>One period's versions, current and replaced, as the retention rule reads them.</summary>
internal sealed record PeriodVersions(
    IReadOnlyList<SummaryDocument> OwnSummaries,
    SummaryDocument? CurrentSummary,
    IReadOnlyList<ReportDocument> Reports,
    IReadOnlyList<ReportDocument> ReplacedReports,
    IReadOnlyList<ChildSummaryDocument> ChildSummaries,
    IReadOnlyList<ChildSummaryDocument> ReplacedChildSummaries,
    bool OutboxWaits,
    IReadOnlyList<byte[]> EquivocationDigests);

/// <summary>Lookups of the history for the retention rule and for proofs.</summary>
internal static class HistoryLookups
{
    public static ILiteCollection<PrunedHistoryDocument> PrunedHistory(this NodeStore store) =>
        store.Database.GetCollection<PrunedHistoryDocument>(HistoryCollections.Pruned);

    /// <summary>Periods this node has signed a summary of: every period with a report or a child summary gets one.</summary>
    public static List<string> SummarisedPeriods(this NodeStore store) =>
        [.. store.Summaries.Query().Select(static s => s.Id).ToEnumerable()];

    /// <summary>Everything of one period the retention rule weighs (materialized: read under the gate, used after it).</summary>
    public static PeriodVersions VersionsOf(this NodeStore store, string period) => new(
        [.. store.SummaryHistory.Find(s => s.Period == period)],
        store.Summaries.ById(period),
        [.. store.Reports.Find(r => r.Period == period)],
        [.. store.ReportHistory.Find(r => r.Period == period)],
        [.. store.ChildSummaries.Find(s => s.Period == period)],
        [.. store.ChildSummaryHistory.Find(s => s.Period == period)],
        store.Outbox.ById(period) is not null,
        [.. store.Equivocations.FindAll().Where(e => e.Period == period).Select(static e => e.HeldDigest)]);
}
