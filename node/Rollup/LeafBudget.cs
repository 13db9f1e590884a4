using Federation.Aggregator.Summaries;
using Federation.Node.Storage;
using Federation.Protos.V1;
using LiteDB;

namespace Federation.Node.Rollup;

/// <summary>
/// The leaves this node may cover, as its parent last stated (in a receipt or a refusal), and the
/// allowances of its own children that follow from it. Shares are cut from the node's own allowance,
/// not from the global bound, so that a child's claim cannot push this node past what its parent accepts.
/// </summary>
internal static class LeafBudget
{
    /// <summary>The google.rpc.ErrorInfo metadata key of a LEAF_ALLOWANCE_EXCEEDED refusal.</summary>
    public const string MetadataKey = "leaf_allowance";

    private const string CapacityId = "parent_leaf_allowance";

    /// <summary>The most leaves this node's summary may cover.</summary>
    public static uint Capacity(NodeStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.Database.GetCollection(NodeStore.Collections.Meta).ById(CapacityId) is { } doc
            ? (uint)Math.Clamp(doc["value"].AsInt64, 0, SummaryChecks.MaxLeafCount)
            : SummaryChecks.MaxLeafCount;
    }

    /// <summary>Each enrolled child's allowance under the node's current capacity.</summary>
    public static Dictionary<string, uint> Allowances(NodeStore store, IReadOnlyList<ChildDocument> children)
    {
        var hosted = (long)store.Units.Count();
        var counted = children.Where(static c => c.EnrolledLeafCount > 0).Sum(static c => (long)c.EnrolledLeafCount);
        var uncounted = children.Count(static c => c.EnrolledLeafCount == 0);
        var capacity = Capacity(store);
        return children.ToDictionary(
            static c => c.Id,
            c => LeafAllowance.Of((uint)c.EnrolledLeafCount, hosted, counted, uncounted, capacity),
            StringComparer.Ordinal);
    }

    /// <summary>Records the allowance the parent stated and applies it (see <see cref="Enforce"/>).</summary>
    /// <returns>The children whose held summaries were set aside; null when the allowance did not change.</returns>
    public static IReadOnlyList<string>? Learn(WriteContext context, uint allowance)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (allowance == 0 || allowance == Capacity(context.Store))
        {
            return null;
        }

        context.Store.Database.GetCollection(NodeStore.Collections.Meta).Upsert(new BsonDocument { ["_id"] = CapacityId, ["value"] = (long)allowance });
        return Enforce(context);
    }

    /// <summary>
    /// After the allowances changed (a smaller capacity, a child enrolled, a unit hosted): every held child
    /// summary that no longer fits its child's allowance leaves the totals (it stays in the history, so
    /// proofs of earlier summaries still build) until the child sends one that fits, and the counts
    /// standing in for silent children are bounded the same way; the affected periods are marked for a
    /// rebuild. Without this, a summary accepted under a larger share could crowd out a sibling's.
    /// </summary>
    /// <returns>The children whose held summaries were set aside.</returns>
    public static IReadOnlyList<string> Enforce(WriteContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var store = context.Store;
        var children = store.Children.FindAll().ToList();
        var allowances = Allowances(store, children);
        var setAside = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var held in store.ChildSummaries.FindAll().ToList())
        {
            var claimed = Summary.Parser.ParseFrom(held.SummaryBytes).Coverage?.ExpectedLeafCount ?? 0;
            if (allowances.TryGetValue(held.ChildId, out var childAllowance) && claimed > childAllowance)
            {
                store.ChildSummaryHistory.Upsert(held.ToHistory());
                store.ChildSummaries.Delete(held.Id);
                context.MarkDirty(held.Period);
                setAside.Add(held.ChildId);
            }
        }

        var standInChanged = false;
        foreach (var child in children)
        {
            var bounded = setAside.Contains(child.Id)
                ? Math.Max(1, child.EnrolledLeafCount)
                : (int)Math.Min(child.ExpectedLeafCount, allowances[child.Id]);
            if (bounded != child.ExpectedLeafCount)
            {
                child.ExpectedLeafCount = bounded;
                store.Children.Update(child);
                standInChanged = true;
            }
        }

        if (standInChanged)
        {
            context.MarkEveryPeriodDirty();
        }

        return [.. setAside];
    }
}
