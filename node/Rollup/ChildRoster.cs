using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Rollup;

/// <summary>
/// What taking a child's summary reads besides the summary: the enrolled children, their leaf allowances,
/// and the leaves each held summary of the period claims. Read once and handed from one push to the next
/// in the same group commit (<see cref="WriteContext.Kept{T}"/>), and kept true by each of them, so that a
/// township taking 245 villages' pushes at once reads its children once, not once a push.
/// </summary>
internal sealed class ChildRoster
{
    private readonly Dictionary<string, ChildDocument> _children;
    private readonly Dictionary<string, uint> _allowances;
    private readonly Dictionary<string, uint> _claims;

    private ChildRoster(string period, List<ChildDocument> children, Dictionary<string, uint> allowances, Dictionary<string, uint> claims, long hostedCount, uint capacity)
    {
        Period = period;
        _children = children.ToDictionary(static c => c.Id, StringComparer.Ordinal);
        _allowances = allowances;
        _claims = claims;
        HostedCount = hostedCount;
        Capacity = capacity;
    }

    public string Period { get; }

    /// <summary>Units this node hosts, each a leaf of its summary.</summary>
    public long HostedCount { get; }

    /// <summary>The most leaves this node's summary may cover (<see cref="LeafBudget.Capacity"/>).</summary>
    public uint Capacity { get; }

    /// <summary>The roster the previous push of the batch kept for this period, or a fresh read.</summary>
    public static ChildRoster For(WriteContext context, string period)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Kept<ChildRoster>() is { } kept && kept.Period == period)
        {
            return kept;
        }

        var store = context.Store;
        var children = store.Children.FindAll().ToList();
        var claims = store.ChildSummaries.Find(s => s.Period == period)
            .ToDictionary(static s => s.ChildId, static s => Summary.Parser.ParseFrom(s.SummaryBytes).Coverage?.ExpectedLeafCount ?? 0, StringComparer.Ordinal);
        return new ChildRoster(period, children, LeafBudget.Allowances(store, children), claims, store.Units.Count(), LeafBudget.Capacity(store));
    }

    /// <summary>The enrolled child, as this roster keeps it (updates to it must also be written to the store).</summary>
    public ChildDocument? Child(string childId) => _children.GetValueOrDefault(childId);

    public uint AllowanceOf(string childId) => _allowances[childId];

    /// <summary>
    /// The leaves the period's summary would cover if <paramref name="childId"/> claimed <paramref name="claimed"/>:
    /// hosted units, this claim, and for every other child its held summary's claim or, without one, its stand-in count.
    /// </summary>
    public long TotalWith(string childId, uint claimed)
    {
        var total = HostedCount + claimed;
        foreach (var other in _children.Values)
        {
            if (other.Id != childId)
            {
                total += _claims.TryGetValue(other.Id, out var held) ? held : Math.Max(0, other.ExpectedLeafCount);
            }
        }

        return total;
    }

    /// <summary>Records that the child's held summary of the period now claims <paramref name="claimed"/> leaves.</summary>
    public void Hold(string childId, uint claimed) => _claims[childId] = claimed;
}
