using Federation.Aggregator;
using Federation.Aggregator.Signing;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Storage;

namespace Federation.Node.Admin;

/// <summary>The node's state as an operator sees it.</summary>
internal sealed record NodeStatus(
    IReadOnlyList<string> OutboxPeriods, int PendingRebuildCount, int EquivocationCount, int HostedUnitCount, int ChildCount);

/// <summary>Enrolment of children and hosted units, and the node's status.</summary>
internal sealed class AdminOperations(NodeStore store, StoreWriter writer, NodeIdentity identity)
{
    public async Task<Outcome<string>> EnrolChildAsync(
        string childId, byte[] publicKey, string displayName, uint expectedLeafCount, string address, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(childId))
        {
            return Rejection.Of(RejectionReason.MissingField, "child_id is required.", "child_id");
        }

        if (childId == identity.NodeId)
        {
            return Rejection.Of(RejectionReason.IdInUse, $"child_id '{childId}' is this node's own id.", "child_id");
        }

        if (!string.IsNullOrWhiteSpace(address) && !Configuration.Keys.IsHttpAddress(address))
        {
            return Rejection.Of(RejectionReason.MalformedAddress, $"address '{address}' is not an http(s) address.", "address");
        }

        if (!NodeSigningKey.IsValidPublicKey(publicKey))
        {
            return Rejection.Of(RejectionReason.MalformedKey, "public_key must be a raw 32-byte Ed25519 public key.", "public_key");
        }

        var keyId = KeyIds.FromPublicKey(publicKey);
        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            if (context.Store.Units.FindById(childId) is not null)
            {
                return Rejection.Of(RejectionReason.IdInUse, $"child_id '{childId}' is a unit hosted by this node.", "child_id");
            }

            if (context.Store.Children.FindOne(c => c.KeyId == keyId) is { } other && other.Id != childId)
            {
                return Rejection.Of(RejectionReason.MalformedKey, $"public_key is already enrolled for child '{other.Id}'.", "public_key");
            }

            var existing = context.Store.Children.FindById(childId);
            if (existing is not null && existing.RetiredKeys.Any(k => k.KeyId == keyId))
            {
                // The configuration still names a key the child rotated away from; the signed rotation stands.
                return existing.KeyId;
            }

            var name = string.IsNullOrWhiteSpace(displayName) ? childId : displayName;
            var knownAddress = string.IsNullOrWhiteSpace(address) ? existing?.Address ?? string.Empty : address;
            if (existing is not null && existing.KeyId == keyId && existing.DisplayName == name && existing.Address == knownAddress)
            {
                // Configured children are enrolled at every start; an unchanged one writes nothing.
                return keyId;
            }

            context.Store.Children.Upsert(new ChildDocument
            {
                Id = childId,
                PublicKey = publicKey,
                KeyId = keyId,
                DisplayName = name,
                Address = knownAddress,
                ExpectedLeafCount = existing?.ExpectedLeafCount ?? (int)Math.Max(1, expectedLeafCount),
                EnrolledTicks = existing?.EnrolledTicks ?? context.UtcNow().UtcTicks,

                // A child enrolled again under another key (its old one lost) keeps the old one for what it signed.
                RetiredKeys = existing is null || existing.KeyId == keyId
                    ? existing?.RetiredKeys ?? []
                    : [.. existing.RetiredKeys, new RetiredKeyDocument { KeyId = existing.KeyId, PublicKey = existing.PublicKey, RetiredTicks = context.UtcNow().UtcTicks }],
            });
            MarkAllPeriodsDirty(context);
            return keyId;
        }, cancellationToken);
    }

    /// <summary>Adds a hosted unit; false when it is hosted already.</summary>
    public async Task<Outcome<string>> AddHostedUnitAsync(string unitId, string displayName, CancellationToken cancellationToken)
    {
        if (unitId == identity.NodeId && store.Read(static s => s.Children.Count()) > 0)
        {
            return Rejection.Of(RejectionReason.IdInUse, $"unit_id '{unitId}' is this node's own id, and the node has children.", "unit_id");
        }

        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            if (context.Store.Children.FindById(unitId) is not null)
            {
                return Rejection.Of(RejectionReason.IdInUse, $"unit_id '{unitId}' is an enrolled child of this node.", "unit_id");
            }

            if (context.Store.Units.FindById(unitId) is not null)
            {
                return unitId;
            }

            context.Store.Units.Insert(new UnitDocument
            {
                Id = unitId,
                DisplayName = string.IsNullOrWhiteSpace(displayName) ? unitId : displayName,
                AddedTicks = context.UtcNow().UtcTicks,
            });
            MarkAllPeriodsDirty(context);
            return unitId;
        }, cancellationToken);
    }

    public IReadOnlyList<ChildDocument> ListChildren(string afterId, int pageSize) =>
        store.Read(s => s.Children.Find(LiteDB.Query.GT("_id", afterId ?? string.Empty), limit: pageSize).ToList());

    public NodeStatus Status(int pendingRebuildCount) => store.Read(s => new NodeStatus(
        [.. s.Outbox.FindAll().Select(static o => o.Id).Order(StringComparer.Ordinal)],
        pendingRebuildCount,
        s.Equivocations.Count(),
        s.Units.Count(),
        s.Children.Count()));

    /// <summary>A new child or unit changes how many leaves every period expects.</summary>
    private static void MarkAllPeriodsDirty(WriteContext context)
    {
        foreach (var summary in context.Store.Summaries.FindAll())
        {
            context.MarkDirty(summary.Id);
        }
    }
}
