using Federation.Protos.V1;

namespace Federation.Aggregator.Review;

/// <summary>Where a unit's report, or a child's summary, stands in review for one period.</summary>
public enum ReviewState
{
    /// <summary>Nothing was sent for the period.</summary>
    NotSubmitted = 0,

    /// <summary>Sent (or corrected, or reopened) and waiting for a reviewer.</summary>
    Submitted,

    /// <summary>Sent back to the clerk with a reason; a correction submits it again.</summary>
    Returned,

    /// <summary>Accepted and locked until a reopen.</summary>
    Approved,

    /// <summary>Removed from every total; a new report submits it again.</summary>
    Withdrawn,
}

/// <summary>The last decision recorded for a subject and period, as the review rules need it.</summary>
/// <param name="State">The state the decision left.</param>
/// <param name="DecidedDigest">SHA-256 of the report or summary the decision was about.</param>
/// <param name="ApprovedVersion">The version last approved (0 when never approved); kept across reopens.</param>
/// <param name="DecidedAbove">The decision was the tier above's (a single-leaf node's parent reviewing its one report).</param>
public readonly record struct ReviewRecord(ReviewState State, byte[] DecidedDigest, ulong ApprovedVersion, bool DecidedAbove = false);

/// <summary>The outcome of applying a decision: the state it leaves, or why it does not apply.</summary>
public readonly record struct ReviewStep(ReviewState Next, RejectionReason Reason, string Message)
{
    public bool IsAllowed => Reason == RejectionReason.None;

    internal static ReviewStep To(ReviewState next) => new(next, RejectionReason.None, string.Empty);

    internal static ReviewStep Refuse(RejectionReason reason, string message) => new(default, reason, message);
}

/// <summary>
/// The review state machine (三级联审), pure: submitted → returned (with a reason) → submitted again by a
/// correction, or submitted → approved; approved → submitted by a reopen with a reason; submitted or returned
/// → withdrawn. Approved figures are locked: nothing changes them but a reopen by the approving tier.
/// A period approved by the tier above locks every unit of the node the same way. A single-leaf node (a village
/// running its own node, hosting only itself) has its one report reviewed by its parent, which decides and
/// delivers; a report the tier above approved is locked here until the tier above reopens it.
/// </summary>
public static class ReviewRules
{
    /// <summary>Longest reason kept, in characters.</summary>
    public const int MaxReasonLength = 500;

    /// <summary>
    /// The state now: the recorded decision's, except that a return or a withdrawal is followed by a
    /// submission once a report other than the one decided on is current.
    /// </summary>
    /// <param name="record">The last decision; null when none was made.</param>
    /// <param name="currentDigest">SHA-256 of the current report or summary; null when there is none.</param>
    public static ReviewState Current(ReviewRecord? record, byte[]? currentDigest)
    {
        if (record is not { } last)
        {
            return currentDigest is null ? ReviewState.NotSubmitted : ReviewState.Submitted;
        }

        return last.State switch
        {
            ReviewState.Returned or ReviewState.Withdrawn when currentDigest is not null && !currentDigest.AsSpan().SequenceEqual(last.DecidedDigest) => ReviewState.Submitted,
            ReviewState.Withdrawn or ReviewState.Returned when currentDigest is null => ReviewState.Withdrawn,
            _ => last.State,
        };
    }

    /// <summary>True when the current report was sent after an approval of an earlier version was reopened.</summary>
    public static bool CorrectedAfterApproval(ReviewRecord? record, ulong currentVersion) =>
        record is { ApprovedVersion: > 0 } last && currentVersion > last.ApprovedVersion;

    /// <summary>True when the last decision approving the report was the tier above's: only the tier above reopens it.</summary>
    public static bool ApprovedAbove(ReviewRecord? record) => record is { State: ReviewState.Approved, DecidedAbove: true };

    /// <summary>Whether a clerk's correction may replace the figures: not while approved here or above.</summary>
    public static ReviewStep Submit(ReviewState current, bool lockedAbove) =>
        current == ReviewState.Approved || lockedAbove
            ? ReviewStep.Refuse(RejectionReason.Locked, "the report is approved; a reviewer must reopen it before it is corrected.")
            : ReviewStep.To(ReviewState.Submitted);

    /// <summary>Applies a decision of <paramref name="kind"/> to <paramref name="current"/>.</summary>
    /// <param name="lockedAbove">The period is approved by the tier above: nothing below changes until it reopens.</param>
    public static ReviewStep Decide(ReviewState current, DecisionKind kind, string reason, bool lockedAbove)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (reason.Length > MaxReasonLength)
        {
            return ReviewStep.Refuse(RejectionReason.ValueTooLarge, $"reason is longer than {MaxReasonLength} characters.");
        }

        var hasReason = !string.IsNullOrWhiteSpace(reason);
        if (kind is DecisionKind.Return or DecisionKind.Reopen && !hasReason)
        {
            return ReviewStep.Refuse(RejectionReason.ReasonRequired, $"a {Name(kind)} needs a reason.");
        }

        if (current == ReviewState.NotSubmitted && kind != DecisionKind.Unspecified)
        {
            return ReviewStep.Refuse(RejectionReason.NoFigures, "nothing was submitted for the period.");
        }

        if (lockedAbove && kind is not DecisionKind.Unspecified)
        {
            return ReviewStep.Refuse(RejectionReason.Locked, "the period is approved by the tier above; it must reopen it first.");
        }

        return (kind, current) switch
        {
            (DecisionKind.Approve, ReviewState.Submitted) => ReviewStep.To(ReviewState.Approved),
            (DecisionKind.Return, ReviewState.Submitted) => ReviewStep.To(ReviewState.Returned),
            (DecisionKind.Reopen, ReviewState.Approved) => ReviewStep.To(ReviewState.Submitted),
            (DecisionKind.Withdraw, ReviewState.Submitted or ReviewState.Returned) => ReviewStep.To(ReviewState.Withdrawn),
            (DecisionKind.Return or DecisionKind.Withdraw, ReviewState.Approved) =>
                ReviewStep.Refuse(RejectionReason.Locked, $"the figures are approved; reopen them before a {Name(kind)}."),
            (DecisionKind.Unspecified, _) => ReviewStep.Refuse(RejectionReason.MissingField, "the decision kind is required."),
            _ => ReviewStep.Refuse(RejectionReason.WrongReviewState, $"a {Name(kind)} does not apply to figures that are {Name(current)}."),
        };
    }

    /// <summary>
    /// Applies, at a single-leaf node, its parent's decision about the node's one report. As <see cref="Decide"/>,
    /// except that the tier above's approval supersedes an approval made here (from then on only the tier above
    /// reopens it), the tier above reopens only what it approved, and it never withdraws: that is the clerk's.
    /// </summary>
    /// <param name="record">The last decision about the report at this node; null when none.</param>
    /// <param name="currentDigest">SHA-256 of the current report; null when there is none.</param>
    /// <param name="lockedAbove">This node's own summary is approved by the tier above.</param>
    public static ReviewStep DecideFromAbove(ReviewRecord? record, byte[]? currentDigest, DecisionKind kind, string reason, bool lockedAbove)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (kind == DecisionKind.Withdraw)
        {
            return ReviewStep.Refuse(RejectionReason.WrongReviewState, "the tier above approves, returns or reopens a report; a withdrawal is its clerk's.");
        }

        var current = Current(record, currentDigest);
        var approvedHere = current == ReviewState.Approved && record is { DecidedAbove: false };
        return (kind, approvedHere) switch
        {
            // The same checks as a first approval (reason, lock), then the tier above holds the approval.
            (DecisionKind.Approve, true) => Decide(ReviewState.Submitted, kind, reason, lockedAbove),
            (DecisionKind.Reopen, true) => ReviewStep.Refuse(RejectionReason.WrongReviewState,
                "the report was approved by this node's own reviewer, not by the tier above; only this node reopens it."),
            _ => Decide(current, kind, reason, lockedAbove),
        };
    }

    /// <summary>
    /// Whether a child's summary shows a single-leaf node: it expects exactly one leaf, a unit with the child's
    /// own id, and holds nothing else but that unit's own ledger (a village running its own node). Its parent then reviews that report as if
    /// it hosted the unit. <paramref name="report"/> is the report's contribution, null when the unit has not
    /// reported (or withdrew).
    /// </summary>
    public static bool IsSingleLeaf(Summary summary, string childId, out Contribution? report)
    {
        ArgumentNullException.ThrowIfNull(summary);
        report = null;
        if (summary.NodeId != childId || summary.Coverage is not { ExpectedLeafCount: 1 } coverage)
        {
            return false;
        }

        // The unit's own rectification ledger is cited beside its report; it adds no leaf and decides nothing here.
        var cited = summary.Contributions.Where(c => c.Kind != ContributionKind.Ledger || c.SourceId != childId).ToList();
        if (cited.Count == 0)
        {
            return coverage.SilentSourceIds.Count == 1 && coverage.SilentSourceIds[0] == childId;
        }

        if (cited.Count == 1 && cited[0] is { Kind: ContributionKind.UnitReport } only && only.SourceId == childId)
        {
            report = only;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Whether a child's summary may be approved: every leaf expected below it reported and is approved.
    /// Leaves are counted by the child's own coverage, which sums approvals up from each unit's host.
    /// </summary>
    public static ReviewStep BelowApproved(Coverage? coverage)
    {
        var c = coverage ?? new Coverage();
        return c.ExpectedLeafCount > 0 && c.ApprovedLeafCount >= c.ExpectedLeafCount
            ? ReviewStep.To(ReviewState.Approved)
            : ReviewStep.Refuse(RejectionReason.BelowNotApproved,
                $"{c.ApprovedLeafCount} of the {c.ExpectedLeafCount} leaf units below are approved; all must be before the summary is.");
    }

    private static string Name(DecisionKind kind) => kind switch
    {
        DecisionKind.Approve => "approval",
        DecisionKind.Return => "return",
        DecisionKind.Reopen => "reopen",
        DecisionKind.Withdraw => "withdrawal",
        _ => "decision",
    };

    private static string Name(ReviewState state) => state switch
    {
        ReviewState.NotSubmitted => "not submitted",
        _ => state.ToString().ToLowerInvariant(),
    };
}
