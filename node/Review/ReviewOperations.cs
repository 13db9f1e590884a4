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
/// Decisions about a child's summary are delivered to the child, signed, before they are recorded here.
/// </summary>
internal sealed class ReviewOperations(StoreWriter writer, NodeStore store, NodeIdentity identity, PeerCalls peers, IOptions<NodeOptions> options, TimeProvider time)
{
    private readonly byte[]? _parentKey = Keys.TryParsePublicKey(options.Value.Parent.PublicKey, out var key) ? key : null;
    private readonly string _parentId = options.Value.Parent.Id;

    /// <summary>Approves, returns, reopens or withdraws a hosted unit's report for a period.</summary>
    public async Task<Outcome<SignedDecision>> DecideUnitAsync(
        DecisionKind kind, string unitId, string period, string reason, string account, CancellationToken cancellationToken)
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
        return await writer.ExecuteAsync<Outcome<SignedDecision>>(context =>
        {
            var s = context.Store;
            if (s.Units.FindById(unitId) is null)
            {
                return Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id");
            }

            var report = s.Reports.FindById(ReportDocument.KeyOf(unitId, canonical));
            var record = s.RecordOf(unitId, canonical);
            var step = ReviewRules.Decide(ReviewRules.Current(record, report?.Digest), kind, reason, s.LockedAbove(canonical));
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
        }, cancellationToken);
    }

    /// <summary>Approves or reopens an enrolled child's summary for a period, telling the child first.</summary>
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

        var canonical = parsed.ToString();
        var (child, held, record, lockedAbove) = store.Read(s => (
            s.Children.FindById(childId),
            s.ChildSummaries.FindById(ChildSummaryDocument.KeyOf(childId, canonical)),
            s.RecordOf(childId, canonical),
            s.LockedAbove(canonical)));
        if (child is null)
        {
            return Rejection.Of(RejectionReason.UnknownNode, $"node_id '{childId}' is not an enrolled child of node {identity.NodeId}.", "node_id");
        }

        var step = ReviewRules.Decide(ReviewRules.Current(record, held?.Digest), kind, reason, lockedAbove);
        if (step.IsAllowed && kind == DecisionKind.Approve)
        {
            step = ReviewRules.BelowApproved(Summary.Parser.ParseFrom(held!.SummaryBytes).Coverage);
        }

        if (!step.IsAllowed)
        {
            return Rejection.Of(step.Reason, $"child '{childId}' for {canonical}: {step.Message}", FieldOf(step.Reason, "node_id"));
        }

        var signed = Sign(kind, DecisionSubject.ChildSummary, childId, canonical, (ulong)held!.Version, held.Digest, account, reason, time.GetUtcNow());
        var answer = await peers.AskAsync(child, peers.Down(budget), (channel, call) =>
            new ReviewService.ReviewServiceClient(channel).ApplyParentDecisionAsync(new ApplyParentDecisionRequest { Decision = signed }, call).ResponseAsync);
        if (!answer.Answered)
        {
            return Rejection.Of(RejectionReason.ChildUnreachable,
                $"child '{childId}' could not be told of the decision ({answer.Error?.Status.Detail ?? answer.Status.ToString()}); nothing was decided.", "node_id");
        }

        var next = kind == DecisionKind.Approve ? ReviewState.Approved : ReviewState.Submitted;
        var before = ReviewRules.Current(record, held.Digest);
        return await writer.ExecuteAsync<Outcome<SignedDecision>>(context =>
        {
            // Another reviewer's decision about the same child may have landed while this one travelled.
            var now = context.Store.ChildSummaries.FindById(ChildSummaryDocument.KeyOf(childId, canonical));
            if (ReviewRules.Current(context.Store.RecordOf(childId, canonical), now?.Digest) != before)
            {
                return Rejection.Of(RejectionReason.WrongReviewState, $"child '{childId}' for {canonical}: another decision was recorded meanwhile; look again.", "node_id");
            }

            Record(context.Store, childId, canonical, kind, next, signed, held.Digest, kind == DecisionKind.Approve ? held.Version : (long)(record?.ApprovedVersion ?? 0), reason);
            return signed;
        }, budget.CancellationToken);
    }

    /// <summary>
    /// Applies the parent's signed decision about this node's summary: verified against the pinned parent
    /// key, naming the parent as decider and this node as subject, newer than the last one applied.
    /// </summary>
    public async Task<Outcome<ApplyParentDecisionResponse>> ApplyParentDecisionAsync(SignedDecision? signed, CancellationToken cancellationToken)
    {
        if (signed is null || signed.DecisionBytes.IsEmpty)
        {
            return Rejection.Of(RejectionReason.MissingField, "decision is required.", "decision");
        }

        if (_parentKey is null)
        {
            return Rejection.Of(RejectionReason.UnknownSigner, "no parent key is pinned (Node:Parent:PublicKey); a parent's decision cannot be verified.", "decision");
        }

        var verification = SignedMessages.VerifyDecision(signed, _parentKey);
        if (!verification.IsValid)
        {
            return Rejection.Of(verification.Reason, verification.Message, "decision");
        }

        var decision = verification.Value!;
        if (decision.NodeId != _parentId || decision.Subject != DecisionSubject.ChildSummary || decision.SubjectId != identity.NodeId)
        {
            return Rejection.Of(RejectionReason.SenderMismatch,
                $"the decision is by '{Echo.Of(decision.NodeId)}' about '{Echo.Of(decision.SubjectId)}'; this node takes only its parent's decisions about itself.", "decision");
        }

        if (decision.Kind is not (DecisionKind.Approve or DecisionKind.Reopen))
        {
            return Rejection.Of(RejectionReason.WrongReviewState, "a parent approves or reopens a child's summary; nothing else.", "decision");
        }

        if (NodeIds.CheckPeriod(decision.Period, "decision.period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var period = parsed.ToString();
        var decideTicks = decision.DecideTime?.ToDateTimeOffset().UtcTicks ?? 0;
        return await writer.ExecuteAsync<Outcome<ApplyParentDecisionResponse>>(context =>
        {
            var s = context.Store;
            var last = s.ReviewStates.FindById(ReviewStateDocument.KeyOf(string.Empty, period));
            var lastDecision = last is null ? null : s.Decisions.FindById(last.LastDecisionId);
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
                decision.Kind == DecisionKind.Approve ? (long)decision.SubjectVersion : last?.ApprovedVersion ?? 0, decision.Reason, decideTicks);
            return new ApplyParentDecisionResponse();
        }, cancellationToken);
    }

    /// <summary>Where a hosted unit's report stands in review.</summary>
    public Outcome<ReviewView> Status(string unitId, string period)
    {
        if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var canonical = parsed.ToString();
        var (hosted, report, state, lastDecision, lockedAbove) = store.Read(s =>
        {
            var state = s.ReviewStates.FindById(ReviewStateDocument.KeyOf(unitId, canonical));
            return (s.Units.FindById(unitId) is not null, s.Reports.FindById(ReportDocument.KeyOf(unitId, canonical)), state,
                state is null ? null : s.Decisions.FindById(state.LastDecisionId), s.LockedAbove(canonical));
        });
        if (!hosted)
        {
            return Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id");
        }

        return new ReviewView(
            ReviewRules.Current(state?.ToRecord(), report?.Digest), (ulong)(report?.Version ?? 0), state?.Reason ?? string.Empty,
            lastDecision is null ? null : ToSigned(lastDecision), lockedAbove);
    }

    /// <summary>The decisions about a subject and period, oldest first, after <paramref name="pageToken"/>.</summary>
    public Outcome<DecisionPage> Decisions(string subjectId, string period, int pageSize, string pageToken)
    {
        if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var subjectKey = ReviewStateDocument.KeyOf(subjectId, parsed.ToString());
        var page = store.Read(s => s.Decisions.Find(d => d.SubjectKey == subjectKey)
            .Where(d => string.CompareOrdinal(d.Id, pageToken) > 0)
            .OrderBy(static d => d.Id, StringComparer.Ordinal)
            .Take(pageSize)
            .ToList());
        return new DecisionPage([.. page.Select(ToSigned)], page.Count == pageSize ? page[^1].Id : string.Empty);
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
            var report = s.Reports.FindById(ReportDocument.KeyOf(unit.Id, period));
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
            var held = s.ChildSummaries.FindById(ChildSummaryDocument.KeyOf(child.Id, period));
            var coverage = held is null ? null : Summary.Parser.ParseFrom(held.SummaryBytes).Coverage;
            entry.ReviewStatus = ToStatus(ReviewRules.Current(s.RecordOf(child.Id, period), held?.Digest));
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
        long? decideTicks = null)
    {
        var stateKey = ReviewStateDocument.KeyOf(subjectId, period);
        var state = s.ReviewStates.FindById(stateKey) ?? new ReviewStateDocument { Id = stateKey };
        state.DecisionCount++;
        var id = DecisionDocument.KeyOf(stateKey, state.DecisionCount);
        s.Decisions.Insert(new DecisionDocument
        {
            Id = id,
            SubjectKey = stateKey,
            Kind = (int)kind,
            DecisionBytes = signed.DecisionBytes.ToByteArray(),
            Signature = signed.Signature.ToByteArray(),
            KeyId = signed.KeyId,
            DecideTicks = decideTicks ?? Decision.Parser.ParseFrom(signed.DecisionBytes).DecideTime.ToDateTimeOffset().UtcTicks,
        });
        state.State = (int)next;
        state.DecidedDigest = decidedDigest;
        state.ApprovedVersion = approvedVersion;
        state.Reason = reason.Trim();
        state.LastDecisionId = id;
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
