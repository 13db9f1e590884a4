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
        return store.Database.GetCollection(NodeStore.Collections.Meta).FindById(CapacityId) is { } doc
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

    /// <summary>
    /// Records the allowance the parent stated. When it changes, every held child summary that no longer
    /// fits its child's allowance leaves the totals (it stays in the history, so proofs of earlier
    /// summaries still build) until the child sends one that fits, and the counts standing in for silent
    /// children are bounded the same way; the affected periods are marked for a rebuild.
    /// </summary>
    /// <returns>The children whose held summaries were set aside; null when nothing changed.</returns>
    public static IReadOnlyList<string>? Learn(WriteContext context, uint allowance)
    {
        ArgumentNullException.ThrowIfNull(context);
        var store = context.Store;
        if (allowance == 0 || allowance == Capacity(store))
        {
            return null;
        }

        store.Database.GetCollection(NodeStore.Collections.Meta).Upsert(new BsonDocument { ["_id"] = CapacityId, ["value"] = (long)allowance });
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
            foreach (var summary in store.Summaries.FindAll().ToList())
            {
                context.MarkDirty(summary.Id);
            }
        }

        return [.. setAside];
    }
}
