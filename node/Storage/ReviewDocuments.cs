using Federation.Aggregator.Review;

namespace Federation.Node.Storage;

/// <summary>
/// A signed review decision, kept for good. Id "subject|period|sequence" (sequence zero-padded, from 1),
/// so that ids sort oldest first; the subject is a hosted unit, an enrolled child, or empty for this
/// node's own summary (decisions its parent delivered).
/// </summary>
internal sealed class DecisionDocument
{
    public string Id { get; set; } = string.Empty;

    /// <summary>"subject|period": what <see cref="ReviewStateDocument"/> is keyed by.</summary>
    public string SubjectKey { get; set; } = string.Empty;

    public int Kind { get; set; }

    /// <summary>The serialized Decision, exactly as signed.</summary>
    public byte[] DecisionBytes { get; set; } = [];

    public byte[] Signature { get; set; } = [];

    public string KeyId { get; set; } = string.Empty;

    public long DecideTicks { get; set; }

    public static string KeyOf(string subjectKey, int sequence) =>
        subjectKey + "|" + sequence.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The last decision about a subject and period: the state it left. Id "subject|period".</summary>
internal sealed class ReviewStateDocument
{
    public string Id { get; set; } = string.Empty;

    /// <summary>The <c>ReviewState</c> the last decision left, as its number.</summary>
    public int State { get; set; }

    /// <summary>SHA-256 of the report or summary the last decision was about.</summary>
    public byte[] DecidedDigest { get; set; } = [];

    /// <summary>The version last approved; 0 when never approved. Kept across reopens.</summary>
    public long ApprovedVersion { get; set; }

    /// <summary>The last decision's reason.</summary>
    public string Reason { get; set; } = string.Empty;

    /// <summary>How many decisions were made about the subject and period.</summary>
    public int DecisionCount { get; set; }

    /// <summary>Id of the last <see cref="DecisionDocument"/>.</summary>
    public string LastDecisionId { get; set; } = string.Empty;

    /// <summary>True when the last decision was the parent's (about this node's summary, or its one report).</summary>
    public bool DecidedAbove { get; set; }

    /// <summary>Decide time (UTC ticks) of the last decision of the parent applied here; 0 when none. A parent's older decision is stale.</summary>
    public long AboveDecideTicks { get; set; }

    public static string KeyOf(string subjectId, string period) => subjectId + "|" + period;

    /// <summary>What the review rules need of this record.</summary>
    public ReviewRecord ToRecord() => new((ReviewState)State, DecidedDigest, (ulong)ApprovedVersion, DecidedAbove);
}

/// <summary>Review lookups over the store, for the writer and readers alike.</summary>
internal static class ReviewLookups
{
    /// <summary>The last decision about a subject (a unit, a child, or empty for this node) and period; null when none.</summary>
    public static ReviewRecord? RecordOf(this NodeStore store, string subjectId, string period) =>
        store.ReviewStates.ById(ReviewStateDocument.KeyOf(subjectId, period))?.ToRecord();

    /// <summary>True when this node's parent approved the node's summary for the period and has not reopened it.</summary>
    public static bool LockedAbove(this NodeStore store, string period) =>
        store.ReviewStates.ById(ReviewStateDocument.KeyOf(string.Empty, period)) is { State: (int)ReviewState.Approved };

    /// <summary>
    /// True when nothing at this node may change a hosted unit's report for the period: the period is approved above,
    /// or the report itself was approved by the tier above (a single-leaf node's parent).
    /// </summary>
    public static bool UnitLockedAbove(this NodeStore store, string unitId, string period) =>
        store.UnitLockedAbove(period, store.RecordOf(unitId, period));

    /// <summary>The same, for a unit whose review record the caller has already read.</summary>
    public static bool UnitLockedAbove(this NodeStore store, string period, ReviewRecord? record) =>
        store.LockedAbove(period) || ReviewRules.ApprovedAbove(record);
}
