using Federation.Aggregator;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;

namespace Federation.Node.Admin;

/// <summary>A period whose summary the parent refused for good.</summary>
internal sealed record RefusedPeriod(string Period, long Version, string Reason, DateTimeOffset Since);

/// <summary>The node's state as an operator sees it.</summary>
internal sealed record NodeStatus(
    IReadOnlyList<string> OutboxPeriods, int PendingRebuildCount, long EquivocationCount, int HostedUnitCount, int ChildCount,
    IReadOnlyList<RefusedPeriod> Alerts);

/// <summary>What an operator's reset of a child released.</summary>
internal sealed record ChildReset(string ChildId, int ReleasedSummaryCount);

/// <summary>Enrolment of children and hosted units, and the node's status.</summary>
internal sealed class AdminOperations(NodeStore store, StoreWriter writer, NodeIdentity identity, ILogger<AdminOperations> logger)
{
    public async Task<Outcome<string>> EnrolChildAsync(
        string childId, byte[] publicKey, string displayName, uint expectedLeafCount, string address, CancellationToken cancellationToken)
    {
        if (Aggregator.Identifiers.NodeIds.Check(childId, "child_id") is { } badId)
        {
            return Rejection.Of(badId);
        }

        if (childId == identity.NodeId)
        {
            return Rejection.Of(RejectionReason.IdInUse, $"child_id '{childId}' is this node's own id.", "child_id");
        }

        if (!string.IsNullOrWhiteSpace(address) && !Configuration.Keys.IsPeerAddress(address))
        {
            return Rejection.Of(RejectionReason.MalformedAddress, $"address '{Aggregator.Identifiers.Echo.Of(address)}' is not an https:// address (http:// only to a loopback address).", "address");
        }

        if (!NodeSigningKey.IsValidPublicKey(publicKey))
        {
            return Rejection.Of(RejectionReason.MalformedKey, "public_key must be a raw 32-byte Ed25519 public key.", "public_key");
        }

        var keyId = KeyIds.FromPublicKey(publicKey);
        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            if (context.Store.Units.ById(childId) is not null)
            {
                return Rejection.Of(RejectionReason.IdInUse, $"child_id '{childId}' is a unit hosted by this node.", "child_id");
            }

            if (context.Store.Children.FindOne(c => c.KeyId == keyId) is { } other && other.Id != childId)
            {
                return Rejection.Of(RejectionReason.MalformedKey, $"public_key is already enrolled for child '{other.Id}'.", "public_key");
            }

            var existing = context.Store.Children.ById(childId);
            if (existing is not null && existing.RetiredKeys.Any(k => k.KeyId == keyId))
            {
                // The configuration still names a key the child rotated away from; the signed rotation stands.
                return existing.KeyId;
            }

            var name = string.IsNullOrWhiteSpace(displayName) ? childId : displayName;
            var knownAddress = string.IsNullOrWhiteSpace(address) ? existing?.Address ?? string.Empty : address;
            var enrolledCount = (int)expectedLeafCount;
            if (existing is not null && existing.KeyId == keyId && existing.DisplayName == name && existing.Address == knownAddress &&
                existing.EnrolledLeafCount == enrolledCount)
            {
                // Configured children are enrolled at every start; an unchanged one writes nothing.
                return keyId;
            }

            var others = context.Store.Children.Find(c => c.Id != childId).ToList();
            if (!LeafAllowance.Fits(
                context.Store.Units.Count(),
                others.Sum(static c => (long)c.EnrolledLeafCount) + enrolledCount,
                others.Count(static c => c.EnrolledLeafCount == 0) + (enrolledCount == 0 ? 1 : 0)))
            {
                return Rejection.Of(RejectionReason.LeafAllowanceExceeded,
                    $"expected_leaf_count {expectedLeafCount} with the other children and hosted units exceeds the {SummaryChecks.MaxLeafCount} leaves one summary may cover.",
                    "expected_leaf_count");
            }

            context.Store.Children.Upsert(new ChildDocument
            {
                Id = childId,
                PublicKey = publicKey,
                KeyId = keyId,
                DisplayName = name,
                Address = knownAddress,
                EnrolledLeafCount = enrolledCount,

                // Until the child reports, the operator's count (or one leaf) stands for it.
                ExpectedLeafCount = enrolledCount > 0 ? enrolledCount : existing?.ExpectedLeafCount ?? 1,
                ResetTicks = existing?.ResetTicks ?? 0,
                UnrecordedEquivocationCount = existing?.UnrecordedEquivocationCount ?? 0,
                AddressTicks = existing?.AddressTicks ?? 0,
                EnrolledTicks = existing?.EnrolledTicks ?? context.UtcNow().UtcTicks,

                // A child enrolled again under another key (its old one lost) keeps the old one for what it signed.
                RetiredKeys = existing is null || existing.KeyId == keyId
                    ? existing?.RetiredKeys ?? []
                    : [.. existing.RetiredKeys, new RetiredKeyDocument { KeyId = existing.KeyId, PublicKey = existing.PublicKey, RetiredTicks = context.UtcNow().UtcTicks }],
            });
            context.MarkEveryPeriodDirty();
            LeafBudget.Enforce(context);
            return keyId;
        }, cancellationToken);
    }

    /// <summary>
    /// Adds a hosted unit. Adding one that is hosted already changes nothing, unless the name differs: then it
    /// is refused (ID_IN_USE) unless <paramref name="rename"/> is set, and a rename keeps the former name.
    /// </summary>
    public async Task<Outcome<string>> AddHostedUnitAsync(string unitId, string displayName, bool rename, CancellationToken cancellationToken)
    {
        if (Aggregator.Identifiers.NodeIds.Check(unitId, "unit_id") is { } badId)
        {
            return Rejection.Of(badId);
        }

        if (unitId == identity.NodeId && store.Read(static s => s.Children.Count()) > 0)
        {
            return Rejection.Of(RejectionReason.IdInUse, $"unit_id '{unitId}' is this node's own id, and the node has children.", "unit_id");
        }

        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            if (context.Store.Children.ById(unitId) is not null)
            {
                return Rejection.Of(RejectionReason.IdInUse, $"unit_id '{unitId}' is an enrolled child of this node.", "unit_id");
            }

            if (context.Store.Units.ById(unitId) is { } existing)
            {
                switch (UnitRules.IsRename(existing.DisplayName, displayName, rename))
                {
                    case null:
                        return unitId;
                    case false:
                        return Rejection.Of(RejectionReason.IdInUse,
                            $"unit_id '{unitId}' is hosted already as '{existing.DisplayName}'; set rename to rename it.", "unit_id");
                    default:
                        existing.FormerNames.Add(new FormerNameDocument { DisplayName = existing.DisplayName, UntilTicks = context.UtcNow().UtcTicks });
                        existing.DisplayName = displayName.Trim();
                        context.Store.UpdateUnit(existing);
                        return unitId;
                }
            }

            var children = context.Store.Children.FindAll().ToList();
            if (!LeafAllowance.Fits(
                context.Store.Units.Count() + 1,
                children.Sum(static c => (long)c.EnrolledLeafCount),
                children.Count(static c => c.EnrolledLeafCount == 0)))
            {
                return Rejection.Of(RejectionReason.LeafAllowanceExceeded,
                    $"one more hosted unit would exceed the {SummaryChecks.MaxLeafCount} leaves one summary may cover.", "unit_id");
            }

            context.Store.InsertUnit(new UnitDocument
            {
                Id = unitId,
                DisplayName = string.IsNullOrWhiteSpace(displayName) ? unitId : displayName,
                AddedTicks = context.UtcNow().UtcTicks,
            });
            context.MarkEveryPeriodDirty();
            LeafBudget.Enforce(context);
            return unitId;
        }, cancellationToken);
    }

    /// <summary>
    /// Retires a hosted unit from <paramref name="fromPeriod"/> on: it stays in every earlier period and is no
    /// longer expected (nor listed as missing) from then on. Every summary is rebuilt.
    /// </summary>
    public async Task<Outcome<string>> RetireHostedUnitAsync(string unitId, string fromPeriod, CancellationToken cancellationToken)
    {
        if (Aggregator.Identifiers.NodeIds.Check(unitId, "unit_id") is { } badId)
        {
            return Rejection.Of(badId);
        }

        if (Aggregator.Identifiers.NodeIds.CheckPeriod(fromPeriod, "from_period", out var period) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            if (context.Store.Units.ById(unitId) is not { } unit)
            {
                return Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id");
            }

            unit.RetiredFromPeriod = period.ToString();
            unit.RetiredTicks = context.UtcNow().UtcTicks;
            context.Store.UpdateUnit(unit);
            context.MarkEveryPeriodDirty();
            return unitId;
        }, cancellationToken);
    }

    public IReadOnlyList<ChildDocument> ListChildren(string afterId, int pageSize) =>
        store.Read(s => s.Children.Find(LiteDB.Query.GT("_id", afterId ?? string.Empty), limit: pageSize).ToList());

    public NodeStatus Status(int pendingRebuildCount) => store.Read(s =>
    {
        var outbox = s.Outbox.FindAll().OrderBy(static o => o.Id, StringComparer.Ordinal).ToList();
        var children = s.Children.FindAll().ToList();
        return new NodeStatus(
            [.. outbox.Select(static o => o.Id)],
            pendingRebuildCount,
            s.Equivocations.Count() + children.Sum(static c => c.UnrecordedEquivocationCount),
            s.Units.Count(),
            children.Count,
            [.. outbox.Where(static o => o.Refused).Select(static o => new RefusedPeriod(o.Id, o.Version, o.LastError, new DateTimeOffset(o.RefusedTicks, TimeSpan.Zero)))]);
    });

    /// <summary>
    /// Releases what the node holds against a child: the versions held for it no longer bound the versions
    /// it may send (its figures stay until it sends new ones), and its last announcement time is forgotten.
    /// For a child restarted honestly whose earlier versions or clock ran ahead.
    /// </summary>
    public async Task<Outcome<ChildReset>> ResetChildAsync(string childId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(childId))
        {
            return Rejection.Of(RejectionReason.MissingField, "child_id is required.", "child_id");
        }

        var outcome = await writer.ExecuteAsync<Outcome<ChildReset>>(context =>
        {
            if (context.Store.Children.ById(childId) is not { } child)
            {
                return Rejection.Of(RejectionReason.UnknownNode, $"child_id '{childId}' is not enrolled at node {identity.NodeId}.", "child_id");
            }

            child.ResetTicks = context.UtcNow().UtcTicks;
            child.AddressTicks = 0;
            context.Store.Children.Update(child);
            return new ChildReset(childId, context.Store.ChildSummaries.Count(c => c.ChildId == childId));
        }, cancellationToken);
        if (outcome.Value is { } reset)
        {
            AdminLog.ChildReset(logger, reset.ChildId, reset.ReleasedSummaryCount);
        }

        return outcome;
    }

    /// <summary>A new child or unit changes how many leaves every period expects.</summary>
}

/// <summary>Source-generated log messages of operator actions.</summary>
internal static partial class AdminLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "Operator reset child {ChildId}: the {SummaryCount} versions held for it no longer bound what it may send, and its announcement time is forgotten")]
    public static partial void ChildReset(ILogger logger, string childId, int summaryCount);
}
