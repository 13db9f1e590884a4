using Federation.Aggregator.Review;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Review;

/// <summary>
/// What this node holds about an enrolled child for one period, as review needs it: the held summary, whether it
/// shows a single-leaf node (then the child's one report is what this node reviews), the last decision here and
/// what it was about.
/// </summary>
internal sealed record ChildReview(
    ChildDocument Child, ChildSummaryDocument? Held, Summary? Summary, bool SingleLeaf, Contribution? Report, ReviewRecord? Record, DecisionSubject StandingSubject)
{
    public static ChildReview Read(NodeStore s, ChildDocument child, string period)
    {
        var held = s.ChildSummaries.ById(ChildSummaryDocument.KeyOf(child.Id, period));
        var summary = held is null ? null : Summary.Parser.ParseFrom(held.SummaryBytes);
        Contribution? report = null;
        var singleLeaf = summary is not null && ReviewRules.IsSingleLeaf(summary, child.Id, out report);
        var state = s.ReviewStates.ById(ReviewStateDocument.KeyOf(child.Id, period));
        var last = state is null ? null : s.Decisions.ById(state.LastDecisionId);
        return new(child, held, summary, singleLeaf, report, state?.ToRecord(),
            last is null ? DecisionSubject.Unspecified : Decision.Parser.ParseFrom(last.DecisionBytes).Subject);
    }

    /// <summary>
    /// What a decision of <paramref name="kind"/> is about: a reopen lifts what was approved; otherwise a single-leaf
    /// child's report, or any other child's summary.
    /// </summary>
    public DecisionSubject SubjectOf(DecisionKind kind) =>
        kind == DecisionKind.Reopen && Record is { State: ReviewState.Approved } && StandingSubject is DecisionSubject.ChildReport or DecisionSubject.ChildSummary
            ? StandingSubject
            : SingleLeaf ? DecisionSubject.ChildReport : DecisionSubject.ChildSummary;

    /// <summary>The digest the review state is compared with: the report's for a report, the held summary's otherwise.</summary>
    public byte[]? CurrentDigest(DecisionSubject subject) => subject == DecisionSubject.ChildReport ? Report?.Digest.ToByteArray() : Held?.Digest;

    /// <summary>Where the child stands in review here.</summary>
    public ReviewState State => ReviewRules.Current(Record, CurrentDigest(SubjectOf(DecisionKind.Unspecified)));
}
