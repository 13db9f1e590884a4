using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Units;
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

namespace Federation.Node.Ledger;

/// <summary>Who makes a ledger write, as the endpoint found them: a reviewer (else a clerk), and the token's account.</summary>
internal readonly record struct LedgerCaller(bool IsReviewer, string Account);

/// <summary>An item after a step, and the signed step.</summary>
internal sealed record LedgerStepResult(LedgerItem Item, SignedLedgerStep Step);

/// <summary>A page of items, sorted by unit id then number.</summary>
internal sealed record LedgerPage(IReadOnlyList<LedgerItem> Items, string NextPageToken);

/// <summary>An item and its signed steps, oldest first.</summary>
internal sealed record LedgerHistory(LedgerItem Item, IReadOnlyList<SignedLedgerStep> Steps);

/// <summary>
/// The rectification ledger (整改台账, 挂牌销号) at the node holding the items: each step checked against the ledger rules,
/// signed with this node's key and kept for good in the same transaction as its effect, which marks the item's period for
/// a rebuild. A step of the tier above about a village running its own node (a single-leaf child) is signed here and
/// delivered to that child, which holds the item; nothing is recorded here.
/// </summary>
internal sealed class LedgerOperations(
    StoreWriter writer, NodeStore store, NodeIdentity identity, CatalogueIndex catalogue, PeerCalls peers, IOptions<NodeOptions> options, TimeProvider time)
{
    /// <summary>Items in a page when the request names no size.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Most items in one page.</summary>
    public const int MaxPageSize = 1000;

    private const int MaxPageTokenLength = 80;
    private readonly byte[]? _parentKey = Keys.TryParsePublicKey(options.Value.Parent.PublicKey, out var key) ? key : null;
    private readonly string _parentId = options.Value.Parent.Id;

    /// <summary>True when <paramref name="id"/> is an enrolled child: its ledger is kept at its own node.</summary>
    public bool IsChild(string id) => id.Length > 0 && store.Read(s => s.Children.ById(id)) is not null;

    /// <summary>Lists a problem for a hosted unit, or, by a reviewer here, for a single-leaf child (delivered to it).</summary>
    public async Task<Outcome<LedgerStepResult>> AddAsync(string unitId, LedgerEntry? entry, string note, LedgerCaller caller, CallBudget budget)
    {
        if (NodeIds.Check(unitId, "unit_id") is { } badUnit)
        {
            return Rejection.Of(badUnit);
        }

        var checkedEntry = LedgerRules.CheckEntry(catalogue, entry, time.GetUtcNow());
        if (!checkedEntry.IsValid)
        {
            return Rejection.Of(checkedEntry.Violations);
        }

        var listed = checkedEntry.Entry!;
        if (store.Read(s => s.Units.ById(unitId) is null ? s.Children.ById(unitId) : null) is { } child)
        {
            return caller.IsReviewer
                ? await ListAtChildAsync(child, listed, note, caller, budget)
                : KeptAtChild(child.Id);
        }

        var actor = ActorFor(unitId, caller);
        if (LedgerRules.Step(LedgerItemStatus.Unspecified, LedgerStepKind.List, actor, note, 0) is { IsAllowed: false } refused)
        {
            return Refusal(refused, unitId, string.Empty);
        }

        return await writer.ExecuteAsync<Outcome<LedgerStepResult>>(context =>
        {
            var s = context.Store;
            if (HostedFor(s, unitId, listed.Period) is { } notHosted)
            {
                return notHosted;
            }

            var (number, full) = NextNumber(s, unitId, listed.Period);
            if (full is not null)
            {
                return full;
            }

            var now = context.UtcNow();
            var signed = SignedMessages.SignLedgerStep(new LedgerStep
            {
                NodeId = identity.NodeId,
                HolderNodeId = identity.NodeId,
                UnitId = unitId,
                Kind = LedgerStepKind.List,
                Sequence = 1,
                Entry = listed,
                Note = note.Trim(),
                Account = caller.Account,
                StepTime = Timestamp.FromDateTimeOffset(now),
                ByTierAbove = actor == LedgerActor.TierAbove,
            }, identity.Key);
            var item = NewItem(unitId, number, listed, signed, now);
            Record(s, item, signed, LedgerStep.Parser.ParseFrom(signed.StepBytes));
            context.MarkDirty(item.Period);
            return new LedgerStepResult(ToItem(item, now), signed);
        }, budget.CancellationToken);
    }

    /// <summary>
    /// Reports a fix (the unit's clerk), accepts it or sends it back (a reviewer of the tier above) for an item of a hosted
    /// unit; for a single-leaf child, accepts or sends back by delivering the step to the child.
    /// </summary>
    public async Task<Outcome<LedgerStepResult>> StepAsync(LedgerStepKind kind, string unitId, string itemId, string note, LedgerCaller caller, CallBudget budget)
    {
        if (NodeIds.Check(unitId, "unit_id") is { } badUnit)
        {
            return Rejection.Of(badUnit);
        }

        if (LedgerItemDocument.NumberOf(itemId) is not { } number)
        {
            return itemId.Length == 0
                ? Rejection.Of(RejectionReason.MissingField, "item_id is required.", "item_id")
                : UnknownItem(unitId, itemId);
        }

        if (store.Read(s => s.Units.ById(unitId) is null ? s.Children.ById(unitId) : null) is { } child)
        {
            return caller.IsReviewer && kind is LedgerStepKind.Accepted or LedgerStepKind.SentBack
                ? await StepAtChildAsync(child, kind, itemId, note, caller, budget)
                : KeptAtChild(child.Id);
        }

        // Who may act is settled before the item is looked up: a unit's own reviewer learns that first.
        var actor = ActorFor(unitId, caller);
        if (LedgerRules.Allows(kind, actor) is { } refused)
        {
            return Refusal(refused, unitId, itemId);
        }

        return await writer.ExecuteAsync<Outcome<LedgerStepResult>>(context =>
        {
            var s = context.Store;
            if (s.Units.ById(unitId) is null)
            {
                return NotHosted(unitId);
            }

            if (s.LedgerItems.ById(LedgerItemDocument.KeyOf(unitId, number)) is not { } item)
            {
                return UnknownItem(unitId, itemId);
            }

            var check = LedgerRules.Step(item.ItemStatus, kind, actor, note, item.StepCount);
            if (!check.IsAllowed)
            {
                return Refusal(check, unitId, itemId);
            }

            var now = context.UtcNow();
            var signed = SignedMessages.SignLedgerStep(NextStep(item, identity.NodeId, kind, note, caller.Account, now, actor == LedgerActor.TierAbove), identity.Key);
            Record(s, item, signed, LedgerStep.Parser.ParseFrom(signed.StepBytes));
            context.MarkDirty(item.Period);
            return new LedgerStepResult(ToItem(item, now), signed);
        }, budget.CancellationToken);
    }

    /// <summary>The items held here, after <paramref name="pageToken"/>, filtered; sorted by unit id then number.</summary>
    public Outcome<LedgerPage> List(string unitId, string period, LedgerItemStatus status, bool overdueOnly, int pageSize, string pageToken)
    {
        var canonical = string.Empty;
        if (period.Length > 0)
        {
            if (NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
            {
                return Rejection.Of(badPeriod);
            }

            canonical = parsed.ToString();
        }

        if (status is not (LedgerItemStatus.Unspecified or LedgerItemStatus.Open or LedgerItemStatus.FixReported or LedgerItemStatus.Cleared))
        {
            return Rejection.Of(RejectionReason.MalformedRequest, $"status {(int)status} is not a ledger item status this node knows.", "status");
        }

        var after = string.Empty;
        if (pageToken.Length > 0)
        {
            if (PageToken.Parse(pageToken) is not { } cursor)
            {
                return Rejection.Of(RejectionReason.MalformedRequest, $"page_token '{Echo.Of(pageToken)}' is not a token ListLedgerItems issued.", "page_token");
            }

            after = cursor;
        }

        var now = time.GetUtcNow();
        return store.Read<Outcome<LedgerPage>>(s =>
        {
            if (unitId.Length > 0 && s.Units.ById(unitId) is null)
            {
                return NotHosted(unitId);
            }

            // Item ids are "unit|number", and ids never hold '|' or '}', so one unit's items lie between "unit|" and "unit}".
            var lower = unitId.Length > 0 && string.CompareOrdinal(after, unitId + "|") < 0 ? unitId + "|" : after;
            var query = s.LedgerItems.Query().Where(LiteDB.Query.GT("_id", lower));
            if (unitId.Length > 0)
            {
                query = query.Where(LiteDB.Query.LT("_id", unitId + "}"));
            }

            if (canonical.Length > 0)
            {
                query = query.Where(i => i.Period == canonical);
            }

            if (status != LedgerItemStatus.Unspecified)
            {
                query = query.Where(i => i.Status == (int)status);
            }

            if (overdueOnly)
            {
                var nowTicks = now.UtcTicks;
                query = query.Where(i => i.OverdueFromTicks <= nowTicks);
            }

            var found = query.OrderBy(static i => i.Id).Limit(pageSize + 1).ToList();
            var page = found.Take(pageSize).ToList();
            return new LedgerPage([.. page.Select(i => ToItem(i, now))], found.Count > pageSize ? PageToken.Of(page[^1]) : string.Empty);
        });
    }

    /// <summary>An item held here and its signed steps, oldest first.</summary>
    public Outcome<LedgerHistory> History(string unitId, string itemId)
    {
        if (LedgerItemDocument.NumberOf(itemId) is not { } number)
        {
            return itemId.Length == 0 ? Rejection.Of(RejectionReason.MissingField, "item_id is required.", "item_id") : UnknownItem(unitId, itemId);
        }

        var now = time.GetUtcNow();
        return store.Read<Outcome<LedgerHistory>>(s =>
        {
            if (s.Units.ById(unitId) is null)
            {
                return NotHosted(unitId);
            }

            if (s.LedgerItems.ById(LedgerItemDocument.KeyOf(unitId, number)) is not { } item)
            {
                return UnknownItem(unitId, itemId);
            }

            var steps = s.LedgerSteps.Find(x => x.ItemKey == item.Id).OrderBy(static x => x.Id, StringComparer.Ordinal).Select(static x => x.ToSigned()).ToList();
            return new LedgerHistory(ToItem(item, now), steps);
        });
    }

    /// <summary>
    /// Records the parent's signed step about this node's one unit (a village running its own node): verified against the
    /// pinned parent key, by the parent about this node, chained to the item's last step. The same step again changes nothing.
    /// </summary>
    public async Task<Outcome<ApplyParentLedgerStepResponse>> ApplyParentStepAsync(SignedLedgerStep? signed, CancellationToken cancellationToken)
    {
        var checkedStep = ParentStatements.Verify(signed is null || signed.StepBytes.IsEmpty, _parentKey, "step", "ledger step",
            key => SignedMessages.VerifyLedgerStep(signed!, key));
        if (checkedStep.Rejection is { } refused)
        {
            return refused;
        }

        var present = signed!; // ParentStatements refused a missing one

        var verification = checkedStep.Value!;
        var step = verification.Value!;
        var digest = verification.Digest;
        if (step.NodeId != _parentId || step.HolderNodeId != identity.NodeId || step.UnitId != identity.NodeId)
        {
            return Rejection.Of(RejectionReason.SenderMismatch,
                $"the step is by '{Echo.Of(step.NodeId)}' about unit '{Echo.Of(step.UnitId)}' held at '{Echo.Of(step.HolderNodeId)}'; this node takes only its parent's steps about itself.", "step");
        }

        if (!step.ByTierAbove || step.Kind is not (LedgerStepKind.List or LedgerStepKind.Accepted or LedgerStepKind.SentBack))
        {
            return Rejection.Of(RejectionReason.WrongReviewState, "the tier above lists a problem, accepts a fix or sends it back; nothing else.", "step");
        }

        LedgerEntry? listed = null;
        if (step.Kind == LedgerStepKind.List)
        {
            var checkedEntry = LedgerRules.CheckEntry(catalogue, step.Entry, time.GetUtcNow(), "step.entry");
            if (!checkedEntry.IsValid)
            {
                return Rejection.Of(checkedEntry.Violations);
            }

            listed = checkedEntry.Entry!;
            if (step.Sequence != 1 || !step.PreviousStepDigest.IsEmpty || step.ItemId.Length > 0 || listed.Period != step.Entry.Period)
            {
                return Rejection.Of(RejectionReason.MalformedRequest, "a listing is step 1, names no item or previous step, and a canonical period.", "step");
            }
        }

        return await writer.ExecuteAsync<Outcome<ApplyParentLedgerStepResponse>>(context =>
        {
            var s = context.Store;
            var unitId = identity.NodeId;
            if (s.Units.ById(unitId) is null || s.Units.Count() != 1 || s.Children.Count() != 0)
            {
                return Rejection.Of(RejectionReason.UnknownUnit,
                    $"node {unitId} does not host exactly one unit, itself: its parent keeps the ledger of the units it hosts.", "step");
            }

            var now = context.UtcNow();
            LedgerItemDocument item;
            if (listed is not null)
            {
                var hex = Convert.ToHexStringLower(digest);
                if (s.LedgerItems.FindOne(i => i.ListDigest == hex) is { } already)
                {
                    return new ApplyParentLedgerStepResponse { Item = ToItem(already, now) };
                }

                if (HostedFor(s, unitId, listed.Period) is { } notHosted)
                {
                    return notHosted;
                }

                var (number, full) = NextNumber(s, unitId, listed.Period);
                if (full is not null)
                {
                    return full;
                }

                item = NewItem(unitId, number, listed, present, step.StepTime?.ToDateTimeOffset() ?? now);
            }
            else
            {
                if (LedgerItemDocument.NumberOf(step.ItemId) is not { } number || s.LedgerItems.ById(LedgerItemDocument.KeyOf(unitId, number)) is not { } held)
                {
                    return UnknownItem(unitId, step.ItemId);
                }

                item = held;
                if (item.LastStepDigest.AsSpan().SequenceEqual(digest))
                {
                    return new ApplyParentLedgerStepResponse { Item = ToItem(item, now) };
                }

                if (step.Sequence != item.StepCount + 1 || !step.PreviousStepDigest.Span.SequenceEqual(item.LastStepDigest))
                {
                    return Rejection.Of(RejectionReason.StaleVersion, string.Create(CultureInfo.InvariantCulture,
                        $"the step follows step {step.Sequence - 1} of item {item.Number}, which has {item.StepCount} steps here (a step was taken meanwhile)."), "step");
                }

                var check = LedgerRules.Step(item.ItemStatus, step.Kind, LedgerActor.TierAbove, step.Note, item.StepCount);
                if (!check.IsAllowed)
                {
                    return Refusal(check, unitId, step.ItemId);
                }
            }

            Record(s, item, present, step);
            context.MarkDirty(item.Period);
            return new ApplyParentLedgerStepResponse { Item = ToItem(item, now) };
        }, cancellationToken);
    }

    /// <summary>A reviewer here lists a problem of a single-leaf child: signed here, held by the child once it takes it.</summary>
    private async Task<Outcome<LedgerStepResult>> ListAtChildAsync(ChildDocument child, LedgerEntry listed, string note, LedgerCaller caller, CallBudget budget)
    {
        if (LedgerRules.Step(LedgerItemStatus.Unspecified, LedgerStepKind.List, LedgerActor.TierAbove, note, 0) is { IsAllowed: false } refused)
        {
            return Refusal(refused, child.Id, string.Empty);
        }

        return await DeliverAsync(child, new LedgerStep
        {
            NodeId = identity.NodeId,
            HolderNodeId = child.Id,
            UnitId = child.Id,
            Kind = LedgerStepKind.List,
            Sequence = 1,
            Entry = listed,
            Note = note.Trim(),
            Account = caller.Account,
            StepTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            ByTierAbove = true,
        }, budget);
    }

    /// <summary>
    /// A reviewer here accepts or sends back a single-leaf child's item: the child's history is read, its last step verified
    /// with the child's key, and the step chained to it is signed here and delivered.
    /// </summary>
    private async Task<Outcome<LedgerStepResult>> StepAtChildAsync(ChildDocument child, LedgerStepKind kind, string itemId, string note, LedgerCaller caller, CallBudget budget)
    {
        var read = await peers.AskAsync(child, peers.Down(budget), (channel, call) => new LedgerService.LedgerServiceClient(channel)
            .GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = child.Id, ItemId = itemId }, call).ResponseAsync);
        if (!read.Answered)
        {
            // "No such item" (or unit) is the child's answer about its own ledger, passed on as it is; any other refusal
            // is the child refusing, as for a delivery.
            return read.Error is { } error && RpcErrors.ReasonOf(error) is RejectionReason.UnknownItem or RejectionReason.UnknownUnit
                ? Rejection.Of(RpcErrors.ReasonOf(error)!.Value, $"child '{child.Id}': {Echo.Truncate(error.Status.Detail, 300)}", "item_id")
                : NotDelivered(child.Id, read.Status, read.Error);
        }

        if (VerifiedLastStep(child, itemId, read.Value!) is not { } last)
        {
            return Rejection.Of(RejectionReason.ChildRefused,
                $"child '{child.Id}' answered item {Echo.Of(itemId)} with a history whose last step does not verify as its own; nothing was decided.", "item_id");
        }

        var check = LedgerRules.Step(LedgerRules.StatusAfter(last.Step.Kind), kind, LedgerActor.TierAbove, note, (int)last.Step.Sequence);
        if (!check.IsAllowed)
        {
            return Refusal(check, child.Id, itemId);
        }

        return await DeliverAsync(child, new LedgerStep
        {
            NodeId = identity.NodeId,
            HolderNodeId = child.Id,
            UnitId = child.Id,
            ItemId = itemId,
            Kind = kind,
            Sequence = last.Step.Sequence + 1,
            PreviousStepDigest = ByteString.CopyFrom(last.Digest),
            Note = note.Trim(),
            Account = caller.Account,
            StepTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            ByTierAbove = true,
        }, budget);
    }

    /// <summary>The child's last step of the item, verified with the key that signed it (the child's, or this node's own); null when it does not verify.</summary>
    private (LedgerStep Step, byte[] Digest)? VerifiedLastStep(ChildDocument child, string itemId, GetLedgerHistoryResponse history)
    {
        if (history.Steps.Count == 0 || history.Item?.ItemId != itemId)
        {
            return null;
        }

        var last = history.Steps[^1];
        (string Signer, byte[]? Key) signing = last.KeyId == identity.Key.KeyId ? (identity.NodeId, identity.Key.PublicKeyBytes)
            : last.KeyId == child.KeyId ? (child.Id, child.PublicKey)
            : (child.Id, child.RetiredKeys.FirstOrDefault(k => k.KeyId == last.KeyId)?.PublicKey);
        var (signer, publicKey) = signing;
        if (publicKey is null || SignedMessages.VerifyLedgerStep(last, publicKey) is not { IsValid: true } verification)
        {
            return null;
        }

        var step = verification.Value!;
        var sameItem = step.ItemId == itemId || (step.Kind == LedgerStepKind.List && step.ItemId.Length == 0 && step.Sequence == 1);
        return step.NodeId == signer && step.HolderNodeId == child.Id && step.UnitId == child.Id && sameItem && step.Sequence == history.Steps.Count
            ? (step, verification.Digest)
            : null;
    }

    /// <summary>Signs <paramref name="step"/> and delivers it to the child that holds the item; only the child records it.</summary>
    private async Task<Outcome<LedgerStepResult>> DeliverAsync(ChildDocument child, LedgerStep step, CallBudget budget)
    {
        var signed = SignedMessages.SignLedgerStep(step, identity.Key);
        var answer = await peers.AskAsync(child, peers.Down(budget), (channel, call) => new LedgerService.LedgerServiceClient(channel)
            .ApplyParentLedgerStepAsync(new ApplyParentLedgerStepRequest { Step = signed }, call).ResponseAsync);
        return answer.Answered
            ? new LedgerStepResult(answer.Value!.Item ?? new LedgerItem(), signed)
            : NotDelivered(child.Id, answer.Status, answer.Error);
    }

    /// <summary>Why a step the child did not take is recorded nowhere: it could not be reached, or it refused.</summary>
    private static Rejection NotDelivered(string childId, StatusCode status, RpcException? error)
    {
        var refusal = error is null ? null : RpcErrors.ReasonOf(error);
        if (refusal is null or RejectionReason.RateLimited)
        {
            return Rejection.Of(RejectionReason.ChildUnreachable,
                $"child '{childId}' could not be given the ledger step ({error?.Status.Detail ?? status.ToString()}); nothing was recorded.", "unit_id");
        }

        var reasonText = RpcErrors.ReasonText(refusal.Value);
        return Rejection.Of(RejectionReason.ChildRefused,
            $"child '{childId}' refused the ledger step ({reasonText}: {Echo.Truncate(error!.Status.Detail, 300)}); nothing was recorded.", "unit_id") with
        {
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["child_reason"] = reasonText },
        };
    }

    /// <summary>A reviewer of the unit's own node is not the tier above it; any other reviewer here is (the node hosts the unit).</summary>
    private LedgerActor ActorFor(string unitId, LedgerCaller caller) =>
        !caller.IsReviewer ? LedgerActor.UnitClerk : unitId == identity.NodeId ? LedgerActor.OwnReviewer : LedgerActor.TierAbove;

    /// <summary>The unit must be hosted here and expected for the period (not retired before it). Runs inside the writer's transaction.</summary>
    private Rejection? HostedFor(NodeStore s, string unitId, string period) =>
        s.Units.ById(unitId) is not { } unit ? NotHosted(unitId)
        : UnitRules.IsExpected(unit.RetiredFromPeriod, Period.Parse(period)) ? null
        : Rejection.Of(RejectionReason.UnknownUnit, $"unit '{unitId}' is retired from {unit.RetiredFromPeriod}; it takes no ledger items for {period}.", "unit_id");

    /// <summary>The next item number of the unit, or a refusal when it already has the most items one period may have.</summary>
    private static (int Number, Rejection? Full) NextNumber(NodeStore s, string unitId, string period)
    {
        var items = s.LedgerItems.Find(LiteDB.Query.And(LiteDB.Query.GT("_id", unitId + "|"), LiteDB.Query.LT("_id", unitId + "}"))).ToList();
        if (items.Count(i => i.Period == period) >= LedgerRules.MaxItemsPerUnitPeriod)
        {
            return (0, Rejection.Of(RejectionReason.ValueTooLarge,
                $"unit '{unitId}' already has {LedgerRules.MaxItemsPerUnitPeriod} ledger items for {period}, the most one period may hold.", "unit_id"));
        }

        return (items.Count == 0 ? 1 : items.Max(static i => i.Number) + 1, null);
    }

    private static LedgerItemDocument NewItem(string unitId, int number, LedgerEntry listed, SignedLedgerStep signed, DateTimeOffset listTime) => new()
    {
        Id = LedgerItemDocument.KeyOf(unitId, number),
        UnitId = unitId,
        Number = number,
        Period = listed.Period,
        Category = listed.Category,
        Problem = listed.Problem,
        Measure = listed.Measure,
        Deadline = listed.Deadline,
        Responsible = listed.Responsible,
        ListTicks = listTime.UtcTicks,
        ListDigest = Convert.ToHexStringLower(Digests.Sha256(signed.StepBytes.Span)),
    };

    private static LedgerStep NextStep(LedgerItemDocument item, string nodeId, LedgerStepKind kind, string note, string account, DateTimeOffset now, bool byTierAbove) => new()
    {
        NodeId = nodeId,
        HolderNodeId = nodeId,
        UnitId = item.UnitId,
        ItemId = item.Number.ToString(CultureInfo.InvariantCulture),
        Kind = kind,
        Sequence = (uint)item.StepCount + 1,
        PreviousStepDigest = ByteString.CopyFrom(item.LastStepDigest),
        Note = note.Trim(),
        Account = account,
        StepTime = Timestamp.FromDateTimeOffset(now),
        ByTierAbove = byTierAbove,
    };

    /// <summary>Keeps the signed step for good and the state it leaves. Runs inside the writer's transaction.</summary>
    private static void Record(NodeStore s, LedgerItemDocument item, SignedLedgerStep signed, LedgerStep step)
    {
        var status = LedgerRules.StatusAfter(step.Kind);
        var stepTime = step.StepTime?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;
        item.StepCount = (int)step.Sequence;
        item.Status = (int)status;
        item.LastStepKind = (int)step.Kind;
        item.LastNote = step.Note;
        item.LastStepDigest = Digests.Sha256(signed.StepBytes.Span);
        item.LastStepTicks = stepTime.UtcTicks;
        item.OverdueFromTicks = status == LedgerItemStatus.Cleared ? long.MaxValue : LedgerRules.OverdueFrom(item.Deadline)!.Value.UtcTicks;
        s.LedgerItems.Upsert(item);
        s.LedgerSteps.Insert(new LedgerStepDocument
        {
            Id = LedgerStepDocument.KeyOf(item.Id, item.StepCount),
            ItemKey = item.Id,
            Kind = (int)step.Kind,
            StepBytes = signed.StepBytes.ToByteArray(),
            Signature = signed.Signature.ToByteArray(),
            KeyId = signed.KeyId,
            StepTicks = stepTime.UtcTicks,
        });
    }

    /// <summary>The wire form of an item, with whether it is overdue at <paramref name="now"/>.</summary>
    private LedgerItem ToItem(LedgerItemDocument item, DateTimeOffset now) => new()
    {
        NodeId = identity.NodeId,
        UnitId = item.UnitId,
        ItemId = item.Number.ToString(CultureInfo.InvariantCulture),
        Entry = new LedgerEntry
        {
            Period = item.Period,
            Category = item.Category,
            Problem = item.Problem,
            Measure = item.Measure,
            Deadline = item.Deadline,
            Responsible = item.Responsible,
        },
        Status = item.ItemStatus,
        Overdue = LedgerRules.IsOverdue(item.ItemStatus, item.Deadline, now),
        StepCount = (uint)item.StepCount,
        LastStepKind = (LedgerStepKind)item.LastStepKind,
        LastNote = item.LastNote,
        ListTime = SummaryRebuilder.ToTimestamp(item.ListTicks),
        LastStepTime = SummaryRebuilder.ToTimestamp(item.LastStepTicks),
        LastStepDigest = ByteString.CopyFrom(item.LastStepDigest),
    };

    private static Rejection Refusal(LedgerStepCheck check, string unitId, string itemId) =>
        Rejection.Of(check.Reason, itemId.Length == 0 ? $"unit '{unitId}': {check.Message}" : $"unit '{unitId}' item {itemId}: {check.Message}", check.Field);

    private Rejection NotHosted(string unitId) =>
        Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}, nor a village running its own node below it.", "unit_id");

    private static Rejection KeptAtChild(string childId) =>
        Rejection.Of(RejectionReason.UnknownUnit,
            $"unit '{childId}' runs its own node, which keeps its ledger: its clerk lists problems and reports fixes there; a reviewer here lists, accepts and sends back.", "unit_id");

    private static Rejection UnknownItem(string unitId, string itemId) =>
        Rejection.Of(RejectionReason.UnknownItem, $"unit '{unitId}' has no ledger item '{Echo.Of(itemId)}' here.", "item_id");

    /// <summary>Page tokens: "unit~number" of the last item listed, opaque to clients; anything else is refused.</summary>
    private static class PageToken
    {
        public static string Of(LedgerItemDocument item) => item.UnitId + "~" + item.Number.ToString(CultureInfo.InvariantCulture);

        public static string? Parse(string token)
        {
            var tilde = token.LastIndexOf('~');
            return token.Length <= MaxPageTokenLength && tilde > 0 && NodeIds.Check(token[..tilde], "page_token") is null &&
                   LedgerItemDocument.NumberOf(token[(tilde + 1)..]) is { } number
                ? LedgerItemDocument.KeyOf(token[..tilde], number)
                : null;
        }
    }
}
