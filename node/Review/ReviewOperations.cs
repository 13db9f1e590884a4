using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Review;
using Federation.Aggregator.Signing;
using Federation.Node.Application;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Review;

/// <summary>A report's review state as a clerk or reviewer reads it.</summary>
internal sealed record ReviewView(ReviewState State, ulong ReportVersion, string Reason, SignedDecision? LastDecision, bool LockedAbove);

/// <summary>A page of hosted units and children, sorted by id.</summary>
internal sealed record UnitPage(IReadOnlyList<UnitEntry> Units);

/// <summary>A page of decisions, oldest first.</summary>
internal sealed record DecisionPage(IReadOnlyList<SignedDecision> Decisions, string NextPageToken);

/// <summary>
/// Review decisions (三级联审): checks each against the review rules, signs it with this node's key,
/// and keeps it for good in the same transaction as its effect (the lock, the withdrawal, the rebuild).
/// Decisions about a child (its summary, or the one report of a single-leaf child) are delivered to the
/// child, signed, before they are recorded here.
/// </summary>
internal sealed class ReviewOperations(StoreWriter writer, NodeStore store, NodeIdentity identity, PeerCalls peers, IOptions<NodeOptions> options, TimeProvider time) : IDisposable
{
    private readonly byte[]? _parentKey = Keys.TryParsePublicKey(options.Value.Parent.PublicKey, out var key) ? key : null;
    private readonly string _parentId = options.Value.Parent.Id;

    // A decision about a child is read, delivered and recorded while no other is: two reviewers cannot both deliver
    // conflicting decisions about one child, and the parent's own decision is not applied between a delivery and its
    // record. Held across one call to a child, bounded by the caller's deadline.
    private readonly SemaphoreSlim _deliveries = new(1, 1);

    public void Dispose() => _deliveries.Dispose();

    /// <summary>
    /// Approves, returns, reopens or withdraws a hosted unit's report for a period. A unit id that names an
    /// enrolled single-leaf child (a village running its own node) decides about that child's one report,
    /// delivered to it first; a withdrawal stays its clerk's.
    /// </summary>
    public async Task<Outcome<SignedDecision>> DecideUnitAsync(
        DecisionKind kind, string unitId, string period, string reason, string account, CallBudget budget)
    {
        if (NodeIds.Check(unitId, "unit_id") is { } badUnit)
        {
            return Rejection.Of(badUnit);
        }

        if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var canonical = parsed.ToString();
        if (kind != DecisionKind.Withdraw && store.Read(s => s.Units.ById(unitId) is null ? s.Children.ById(unitId) : null) is { } child)
        {
            return await DecideAboutChildAsync(kind, child.Id, canonical, reason, account, budget, asUnit: true);
        }

        return await writer.ExecuteAsync<Outcome<SignedDecision>>(context =>
        {
            var s = context.Store;
            if (s.Units.ById(unitId) is null)
            {
                return Rejection.Of(RejectionReason.UnknownUnit, s.Children.ById(unitId) is null
                    ? $"unit_id '{unitId}' is not hosted by node {identity.NodeId}."
                    : $"unit_id '{unitId}' is a child node's own unit: its clerk withdraws the report at that node.", "unit_id");
            }

            var report = s.Reports.ById(ReportDocument.KeyOf(unitId, canonical));
            var record = s.RecordOf(unitId, canonical);
            var step = ReviewRules.Decide(ReviewRules.Current(record, report?.Digest), kind, reason, s.UnitLockedAbove(unitId, canonical));
            if (!step.IsAllowed)
            {
                return Rejection.Of(step.Reason, $"unit '{unitId}' for {canonical}: {step.Message}", FieldOf(step.Reason, "unit_id"));
            }

            // A withdrawal is decided on the report it removes; every other decision on the current report.
            var decided = report!;
            var signed = Sign(kind, DecisionSubject.UnitReport, unitId, canonical, (ulong)decided.Version, decided.Digest, account, reason, context.UtcNow());
            Record(s, unitId, canonical, kind, step.Next, signed, decided.Digest, kind == DecisionKind.Approve ? decided.Version : (long)(record?.ApprovedVersion ?? 0), reason);
            if (kind == DecisionKind.Withdraw)
            {
                // Kept in the history by digest (proofs of summaries that cited it still resolve), gone from every total.
                s.ReportHistory.Upsert(decided.ToHistory());
                s.Reports.Delete(decided.Id);
            }

            if (kind != DecisionKind.Return)
            {
                context.MarkDirty(canonical);
            }

            return signed;
        }, budget.CancellationToken);
    }

    /// <summary>
    /// Approves or reopens an enrolled child's summary for a period, telling the child first. For a single-leaf
    /// child the decision is about its one report, exactly as <see cref="DecideUnitAsync"/> with the child's id.
    /// </summary>
    public async Task<Outcome<SignedDecision>> DecideChildAsync(
        DecisionKind kind, string childId, string period, string reason, string account, CallBudget budget)
    {
        if (NodeIds.Check(childId, "node_id") is { } badChild)
        {
            return Rejection.Of(badChild);
        }

        if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        return await DecideAboutChildAsync(kind, childId, parsed.ToString(), reason, account, budget, asUnit: false);
    }

    private async Task<Outcome<SignedDecision>> DecideAboutChildAsync(
        DecisionKind kind, string childId, string period, string reason, string account, CallBudget budget, bool asUnit)
    {
        var field = asUnit ? "unit_id" : "node_id";
        await _deliveries.WaitAsync(budget.CancellationToken);
        try
        {
            var (view, lockedAbove) = store.Read(s => s.Children.ById(childId) is { } child
                ? (ChildReview.Read(s, child, period), s.LockedAbove(period))
                : (null, false));
            if (view is null)
            {
                return Rejection.Of(RejectionReason.UnknownNode, $"node_id '{childId}' is not an enrolled child of node {identity.NodeId}.", field);
            }

            var subject = view.SubjectOf(kind);
            if (asUnit && subject == DecisionSubject.ChildSummary && !view.SingleLeaf && view.Held is not null)
            {
                return Rejection.Of(RejectionReason.UnknownUnit,
                    $"unit_id '{childId}' is not hosted by node {identity.NodeId}, and child {childId} is not a single-leaf node (it covers " +
                    $"{view.Summary!.Coverage?.ExpectedLeafCount ?? 0} leaf units): approve or reopen its summary (ApproveChild, ReopenChild).", field);
            }

            var what = asUnit || subject == DecisionSubject.ChildReport ? $"unit '{childId}'" : $"child '{childId}'";
            var step = ReviewRules.Decide(ReviewRules.Current(view.Record, view.CurrentDigest(subject)), kind, reason, lockedAbove);
            if (step.IsAllowed && kind == DecisionKind.Approve && subject == DecisionSubject.ChildSummary)
            {
                step = ReviewRules.BelowApproved(view.Summary!.Coverage);
            }

            if (!step.IsAllowed)
            {
                return Rejection.Of(step.Reason, $"{what} for {period}: {step.Message}", FieldOf(step.Reason, field));
            }

            // What is decided on: the report the child's summary cites, or the summary held; a reopen of what is no
            // longer held falls back on what was approved.
            var (version, digest) = subject == DecisionSubject.ChildReport
                ? view.Report is { } cited ? (cited.Version, cited.Digest.ToByteArray()) : (view.Record!.Value.ApprovedVersion, view.Record.Value.DecidedDigest)
                : view.Held is { } held ? ((ulong)held.Version, held.Digest) : (view.Record!.Value.ApprovedVersion, view.Record.Value.DecidedDigest);
            var signed = Sign(kind, subject, childId, period, version, digest, account, reason, time.GetUtcNow());
            var answer = await peers.AskAsync(view.Child, peers.Down(budget), (channel, call) =>
                new ReviewService.ReviewServiceClient(channel).ApplyParentDecisionAsync(new ApplyParentDecisionRequest { Decision = signed }, call).ResponseAsync);
            if (!answer.Answered)
            {
                return NotDelivered(childId, answer.Status, answer.Error, field);
            }

            // The child holds the decision now: it is recorded here even if the caller has gone meanwhile.
            return await writer.ExecuteAsync<Outcome<SignedDecision>>(context =>
            {
                Record(context.Store, childId, period, kind, step.Next, signed, digest, kind == DecisionKind.Approve ? (long)version : (long)(view.Record?.ApprovedVersion ?? 0), reason);
                return signed;
            }, CancellationToken.None);
        }
        finally
        {
            _deliveries.Release();
        }
    }

    /// <summary>Why a decision the child did not take is not recorded: it could not be reached, or it refused.</summary>
    private static Rejection NotDelivered(string childId, StatusCode status, RpcException? error, string field)
    {
        var refusal = error is null ? null : RpcErrors.ReasonOf(error);
        if (refusal is null or RejectionReason.RateLimited)
        {
            return Rejection.Of(RejectionReason.ChildUnreachable,
                $"child '{childId}' could not be told of the decision ({error?.Status.Detail ?? status.ToString()}); nothing was decided.", field);
        }

        var reasonText = RpcErrors.ReasonText(refusal.Value);
        return Rejection.Of(RejectionReason.ChildRefused,
            $"child '{childId}' refused the decision ({reasonText}: {Echo.Truncate(error!.Status.Detail, 300)}); nothing was decided.", field) with
        {
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["child_reason"] = reasonText },
        };
    }

    /// <summary>
    /// Applies the parent's signed decision about this node: verified against the pinned parent key, naming the
    /// parent as decider and this node as subject, newer than the last one applied. A decision about the node's
    /// summary locks or unlocks the period; one about its report (a single-leaf node) acts on its one hosted unit.
    /// </summary>
    public async Task<Outcome<ApplyParentDecisionResponse>> ApplyParentDecisionAsync(SignedDecision? signed, CancellationToken cancellationToken)
    {
        var checkedDecision = ParentStatements.Verify(signed is null || signed.DecisionBytes.IsEmpty, _parentKey, "decision", "decision",
            key => SignedMessages.VerifyDecision(signed!, key));
        if (checkedDecision.Rejection is { } refused)
        {
            return refused;
        }

        var present = signed!; // ParentStatements refused a missing one

        var decision = checkedDecision.Value!.Value!;
        if (decision.NodeId != _parentId || decision.Subject is not (DecisionSubject.ChildSummary or DecisionSubject.ChildReport) || decision.SubjectId != identity.NodeId)
        {
            return Rejection.Of(RejectionReason.SenderMismatch,
                $"the decision is by '{Echo.Of(decision.NodeId)}' about '{Echo.Of(decision.SubjectId)}'; this node takes only its parent's decisions about itself.", "decision");
        }

        if (decision.Subject == DecisionSubject.ChildSummary && decision.Kind is not (DecisionKind.Approve or DecisionKind.Reopen))
        {
            return Rejection.Of(RejectionReason.WrongReviewState, "a parent approves or reopens a child's summary; nothing else.", "decision");
        }

        if (NodeIds.CheckPeriod(decision.Period, "decision.period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var period = parsed.ToString();
        var decideTicks = decision.DecideTime?.ToDateTimeOffset().UtcTicks ?? 0;

        // One at a time with this node's own deliveries to its children (see _deliveries).
        await _deliveries.WaitAsync(cancellationToken);
        try
        {
            return await writer.ExecuteAsync<Outcome<ApplyParentDecisionResponse>>(
                context => decision.Subject == DecisionSubject.ChildReport
                    ? ApplyToReport(context, present, decision, period, decideTicks)
                    : ApplyToSummary(context.Store, present, decision, period, decideTicks),
                cancellationToken);
        }
        finally
        {
            _deliveries.Release();
        }
    }

    /// <summary>The parent's approval or reopen of this node's summary: the period's lock. Runs inside the writer's transaction.</summary>
    private static Outcome<ApplyParentDecisionResponse> ApplyToSummary(NodeStore s, SignedDecision signed, Decision decision, string period, long decideTicks)
    {
        var last = s.ReviewStates.ById(ReviewStateDocument.KeyOf(string.Empty, period));
        var lastDecision = last is null ? null : s.Decisions.ById(last.LastDecisionId);
        if (lastDecision is not null && lastDecision.DecisionBytes.AsSpan().SequenceEqual(signed.DecisionBytes.Span))
        {
            return new ApplyParentDecisionResponse();
        }

        if (lastDecision is not null && decideTicks <= lastDecision.DecideTicks)
        {
            return Rejection.Of(RejectionReason.StaleVersion, "the decision is not newer than the last one applied for the period.", "decision");
        }

        var next = decision.Kind == DecisionKind.Approve ? ReviewState.Approved : ReviewState.Submitted;
        Record(s, string.Empty, period, decision.Kind, next, signed, decision.SubjectDigest.ToByteArray(),
            decision.Kind == DecisionKind.Approve ? (long)decision.SubjectVersion : last?.ApprovedVersion ?? 0, decision.Reason, decideTicks, decidedAbove: true);
        return new ApplyParentDecisionResponse();
    }

    /// <summary>
    /// The parent's return, approval or reopen of this single-leaf node's one report, applied to its hosted unit as a
    /// decision of the tier above. The decision must be about the report held now. Runs inside the writer's transaction.
    /// </summary>
    private Outcome<ApplyParentDecisionResponse> ApplyToReport(Storage.WriteContext context, SignedDecision signed, Decision decision, string period, long decideTicks)
    {
        var s = context.Store;
        var unitId = identity.NodeId;
        if (s.Units.ById(unitId) is null || s.Units.Count() != 1 || s.Children.Count() != 0)
        {
            return Rejection.Of(RejectionReason.UnknownUnit,
                $"node {unitId} does not host exactly one unit, itself: its parent reviews its summary, not a report.", "decision");
        }

        var state = s.ReviewStates.ById(ReviewStateDocument.KeyOf(unitId, period));
        var last = state is null ? null : s.Decisions.ById(state.LastDecisionId);
        if (last is not null && last.DecisionBytes.AsSpan().SequenceEqual(signed.DecisionBytes.Span))
        {
            return new ApplyParentDecisionResponse();
        }

        var report = s.Reports.ById(ReportDocument.KeyOf(unitId, period));
        if (report is null)
        {
            return Rejection.Of(RejectionReason.NoFigures, $"node {unitId} holds no report for {period}; there is nothing to decide on.", "decision");
        }

        if (!decision.SubjectDigest.Span.SequenceEqual(report.Digest))
        {
            return Rejection.Of(RejectionReason.StaleVersion, string.Create(CultureInfo.InvariantCulture,
                $"the decision is about version {decision.SubjectVersion} of the report for {period}; version {report.Version} is current here (a correction arrived meanwhile)."), "decision");
        }

        if (state is { DecidedAbove: true } && last is not null && (DecisionKind)last.Kind == decision.Kind &&
            state.DecidedDigest.AsSpan().SequenceEqual(report.Digest))
        {
            // The parent decided the same again (it could not record its earlier delivery): already in force here.
            return new ApplyParentDecisionResponse();
        }

        if (state is not null && decideTicks <= state.AboveDecideTicks)
        {
            return Rejection.Of(RejectionReason.StaleVersion, "the decision is not newer than the last one of the tier above applied to the report.", "decision");
        }

        var record = state?.ToRecord();
        var step = ReviewRules.DecideFromAbove(record, report.Digest, decision.Kind, decision.Reason, s.LockedAbove(period));
        if (!step.IsAllowed)
        {
            return Rejection.Of(step.Reason, $"unit '{unitId}' for {period}: {step.Message}", "decision");
        }

        Record(s, unitId, period, decision.Kind, step.Next, signed, report.Digest,
            decision.Kind == DecisionKind.Approve ? report.Version : (long)(record?.ApprovedVersion ?? 0), decision.Reason, decideTicks, decidedAbove: true);
        if (decision.Kind != DecisionKind.Return)
        {
            // The approval count in this node's summary changes, and travels up.
            context.MarkDirty(period);
        }

        return new ApplyParentDecisionResponse();
    }

    /// <summary>Where a hosted unit's report, or a single-leaf child's one report, stands in review.</summary>
    public Outcome<ReviewView> Status(string unitId, string period)
    {
        if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var canonical = parsed.ToString();
        return store.Read<Outcome<ReviewView>>(s =>
        {
            var state = s.ReviewStates.ById(ReviewStateDocument.KeyOf(unitId, canonical));
            var lastDecision = state is null || s.Decisions.ById(state.LastDecisionId) is not { } last ? null : ToSigned(last);
            if (s.Units.ById(unitId) is not null)
            {
                var report = s.Reports.ById(ReportDocument.KeyOf(unitId, canonical));
                return new ReviewView(ReviewRules.Current(state?.ToRecord(), report?.Digest), (ulong)(report?.Version ?? 0), state?.Reason ?? string.Empty,
                    lastDecision, s.UnitLockedAbove(unitId, canonical));
            }

            if (s.Children.ById(unitId) is { } child && ChildReview.Read(s, child, canonical) is { SingleLeaf: true } view)
            {
                return new ReviewView(view.State, view.Report?.Version ?? 0, state?.Reason ?? string.Empty, lastDecision, s.LockedAbove(canonical));
            }

            return Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}, nor a single-leaf child of it.", "unit_id");
        });
    }

    /// <summary>
    /// The decisions about a subject and period, oldest first, after <paramref name="pageToken"/>: the sequence
    /// number of the last decision of the previous page (digits only, so that it passes the id rule).
    /// </summary>
    public Outcome<DecisionPage> Decisions(string subjectId, string period, int pageSize, string pageToken)
    {
        if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var subjectKey = ReviewStateDocument.KeyOf(subjectId, parsed.ToString());
        var after = pageToken.Length == 0 ? string.Empty : subjectKey + "|" + pageToken;
        var page = store.Read(s => s.Decisions.Find(d => d.SubjectKey == subjectKey)
            .Where(d => string.CompareOrdinal(d.Id, after) > 0)
            .OrderBy(static d => d.Id, StringComparer.Ordinal)
            .Take(pageSize)
            .ToList());
        return new DecisionPage([.. page.Select(ToSigned)], page.Count == pageSize ? page[^1].Id[(page[^1].Id.LastIndexOf('|') + 1)..] : string.Empty);
    }

    /// <summary>Hosted units and children after <paramref name="afterId"/>, sorted by id, with their review state for a period if given.</summary>
    public Outcome<UnitPage> ListUnits(string afterId, int pageSize, string period)
    {
        string? canonical = null;
        if (period.Length > 0)
        {
            if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
            {
                return Rejection.Of(badPeriod);
            }

            canonical = parsed.ToString();
        }

        return store.Read(s =>
        {
            var units = s.Units.Find(LiteDB.Query.GT("_id", afterId), limit: pageSize).Select(u => HostedEntry(s, u, canonical));
            var children = s.Children.Find(LiteDB.Query.GT("_id", afterId), limit: pageSize).Select(c => ChildEntry(s, c, canonical));
            return new UnitPage([.. units.Concat(children).OrderBy(static e => e.Id, StringComparer.Ordinal).Take(pageSize)]);
        });
    }

    private static UnitEntry HostedEntry(NodeStore s, UnitDocument unit, string? period)
    {
        var entry = new UnitEntry { Id = unit.Id, DisplayName = unit.DisplayName, Kind = UnitEntryKind.HostedUnit, RetiredFromPeriod = unit.RetiredFromPeriod };
        entry.FormerDisplayNames.AddRange(unit.FormerNames.Select(static n => n.DisplayName));
        if (period is not null)
        {
            var report = s.Reports.ById(ReportDocument.KeyOf(unit.Id, period));
            var state = ReviewRules.Current(s.RecordOf(unit.Id, period), report?.Digest);
            entry.ReviewStatus = ToStatus(state);
            entry.ExpectedLeafCount = 1;
            entry.ApprovedLeafCount = state == ReviewState.Approved ? 1u : 0u;
        }

        return entry;
    }

    private static UnitEntry ChildEntry(NodeStore s, ChildDocument child, string? period)
    {
        var entry = new UnitEntry { Id = child.Id, DisplayName = child.DisplayName, Kind = UnitEntryKind.ChildNode };
        if (period is not null)
        {
            // The state is this node's decision (about a single-leaf child's report, or the summary); the counts are the held summary's.
            var view = ChildReview.Read(s, child, period);
            var coverage = view.Summary?.Coverage;
            entry.ReviewStatus = ToStatus(view.State);
            entry.ExpectedLeafCount = coverage?.ExpectedLeafCount ?? (uint)child.ExpectedLeafCount;
            entry.ApprovedLeafCount = coverage?.ApprovedLeafCount ?? 0;
        }

        return entry;
    }

    /// <summary>The wire form of a review state.</summary>
    public static ReviewStatus ToStatus(ReviewState state) => state switch
    {
        ReviewState.Submitted => ReviewStatus.Submitted,
        ReviewState.Returned => ReviewStatus.Returned,
        ReviewState.Approved => ReviewStatus.Approved,
        ReviewState.Withdrawn => ReviewStatus.Withdrawn,
        _ => ReviewStatus.NotSubmitted,
    };

    private SignedDecision Sign(
        DecisionKind kind, DecisionSubject subject, string subjectId, string period, ulong version, byte[] digest, string account, string reason, DateTimeOffset now) =>
        SignedMessages.SignDecision(new Decision
        {
            NodeId = identity.NodeId,
            Kind = kind,
            Subject = subject,
            SubjectId = subjectId,
            Period = period,
            SubjectVersion = version,
            SubjectDigest = ByteString.CopyFrom(digest),
            Account = account,
            Reason = reason.Trim(),
            DecideTime = Timestamp.FromDateTimeOffset(now),
        }, identity.Key);

    /// <summary>Keeps the signed decision for good and the state it leaves. Runs inside the writer's transaction.</summary>
    private static void Record(
        NodeStore s, string subjectId, string period, DecisionKind kind, ReviewState next, SignedDecision signed, byte[] decidedDigest, long approvedVersion, string reason,
        long? decideTicks = null, bool decidedAbove = false)
    {
        var stateKey = ReviewStateDocument.KeyOf(subjectId, period);
        var state = s.ReviewStates.ById(stateKey) ?? new ReviewStateDocument { Id = stateKey };
        state.DecisionCount++;
        var id = DecisionDocument.KeyOf(stateKey, state.DecisionCount);
        var ticks = decideTicks ?? Decision.Parser.ParseFrom(signed.DecisionBytes).DecideTime.ToDateTimeOffset().UtcTicks;
        s.Decisions.Insert(new DecisionDocument
        {
            Id = id,
            SubjectKey = stateKey,
            Kind = (int)kind,
            DecisionBytes = signed.DecisionBytes.ToByteArray(),
            Signature = signed.Signature.ToByteArray(),
            KeyId = signed.KeyId,
            DecideTicks = ticks,
        });
        state.State = (int)next;
        state.DecidedDigest = decidedDigest;
        state.ApprovedVersion = approvedVersion;
        state.Reason = reason.Trim();
        state.LastDecisionId = id;
        state.DecidedAbove = decidedAbove;
        if (decidedAbove)
        {
            state.AboveDecideTicks = ticks;
        }

        s.ReviewStates.Upsert(state);
    }

    private static SignedDecision ToSigned(DecisionDocument d) => new()
    {
        DecisionBytes = ByteString.CopyFrom(d.DecisionBytes),
        Signature = ByteString.CopyFrom(d.Signature),
        KeyId = d.KeyId,
    };

    private static string? FieldOf(RejectionReason reason, string subjectField) =>
        reason == RejectionReason.ReasonRequired || reason == RejectionReason.ValueTooLarge ? "reason" : subjectField;
}
