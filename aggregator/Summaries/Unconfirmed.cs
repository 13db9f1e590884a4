using Federation.Protos.V1;

namespace Federation.Aggregator.Summaries;

/// <summary>
/// Freshness all the way down: the nodes below, at any depth, whose figures a summary uses without
/// confirmation. A stale child counts with all its leaves; a fresh child passes on what its own summary
/// lists. The list is bounded; the leaf count never is, so a leader always sees how much is unconfirmed.
/// </summary>
public sealed class Unconfirmed
{
    /// <summary>Most nodes one summary lists; the rest are counted.</summary>
    public const int MaxListed = 1000;

    private readonly List<UnconfirmedNode> _nodes = [];
    private ulong _omitted;
    private ulong _leaves;

    /// <summary>A direct child that did not answer: all its leaves are unconfirmed.</summary>
    public void AddStale(string childId, uint leafCount, Google.Protobuf.WellKnownTypes.Timestamp? asOf)
    {
        _nodes.Add(new UnconfirmedNode { NodeId = childId, LeafCount = leafCount, AsOfTime = asOf });
        _leaves += leafCount;
    }

    /// <summary>What a fresh child's summary lists as unconfirmed below it.</summary>
    public void AddBelow(Coverage childCoverage)
    {
        ArgumentNullException.ThrowIfNull(childCoverage);
        _nodes.AddRange(childCoverage.UnconfirmedNodes);
        _omitted += childCoverage.UnconfirmedOmittedCount;
        _leaves += childCoverage.UnconfirmedLeafCount;
    }

    /// <summary>Writes the sorted, bounded list and the counts into <paramref name="coverage"/>.</summary>
    public void WriteTo(Coverage coverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        if (_nodes.Count > 0)
        {
            var sorted = _nodes.OrderBy(static n => n.NodeId, StringComparer.Ordinal).ToList();
            coverage.UnconfirmedNodes.AddRange(sorted.Take(MaxListed));
        }

        coverage.UnconfirmedOmittedCount = (uint)Math.Min(uint.MaxValue, _omitted + (ulong)Math.Max(0, _nodes.Count - MaxListed));
        // Bounded by the leaves expected: nested lists never count a leaf twice, but a lying child could try.
        coverage.UnconfirmedLeafCount = (uint)Math.Min(coverage.ExpectedLeafCount, _leaves);
    }

    /// <summary>Why a child's unconfirmed list cannot be right, or null: sorted unique ids, bounded, within its leaves.</summary>
    public static string? Problem(Coverage coverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        if (coverage.UnconfirmedNodes.Count > MaxListed)
        {
            return $"lists {coverage.UnconfirmedNodes.Count} unconfirmed nodes; at most {MaxListed}.";
        }

        ulong listed = 0;
        for (var i = 0; i < coverage.UnconfirmedNodes.Count; i++)
        {
            var node = coverage.UnconfirmedNodes[i];
            if (Identifiers.NodeIds.Check(node.NodeId, "unconfirmed_nodes.node_id") is not null)
            {
                return $"unconfirmed node {i} has a malformed id.";
            }

            if (i > 0 && string.CompareOrdinal(coverage.UnconfirmedNodes[i - 1].NodeId, node.NodeId) >= 0)
            {
                return "unconfirmed nodes must be sorted by id, each once.";
            }

            listed += node.LeafCount;
        }

        return listed > coverage.UnconfirmedLeafCount || coverage.UnconfirmedLeafCount > coverage.ExpectedLeafCount
            ? $"unconfirmed leaves must be listed ≤ counted ≤ expected, not {listed} ≤ {coverage.UnconfirmedLeafCount} ≤ {coverage.ExpectedLeafCount}."
            : null;
    }
}
