using Federation.Protos.V1;

namespace Federation.Aggregator.Promotion;

/// <summary>
/// Counts how leaf units moved between the grades of a ranked CATEGORY indicator (晋位升级): per starting
/// grade, how many moved up, stayed or moved down, against the catalogue's share to move up. Tallies of
/// subtrees merge by addition, so a node adds its children's answers to its own units'. Pure.
/// </summary>
public sealed class PromotionTally
{
    /// <summary>Most units listed as not moved; the rest are counted.</summary>
    public const int MaxListedUnits = 1000;

    /// <summary>
    /// Most nodes listed as not answering, the first by node id; unanswered_node_count counts them all. A province
    /// whose villages run their own nodes could otherwise list tens of thousands, past gRPC's 4 MiB message limit.
    /// </summary>
    public const int MaxListedNodes = 1000;

    /// <summary>The grade indicator asked for when none is named.</summary>
    public const string DefaultIndicatorId = "classification_grade";

    private readonly Indicator _indicator;
    private readonly Dictionary<string, int> _rank;
    private readonly GetPromotionResponse _answer;
    private readonly List<PromotionUnit> _notMoved = [];
    private uint _omitted;
    private uint _unanswered;

    public PromotionTally(Indicator indicator, GetPromotionResponse header)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        ArgumentNullException.ThrowIfNull(header);
        _indicator = indicator;
        _rank = indicator.Categories.Select(static (c, i) => (c.Code, i)).ToDictionary(static p => p.Code, static p => p.i, StringComparer.Ordinal);
        _answer = header.Clone();
        _answer.Grades.Clear();
        _answer.Grades.AddRange(indicator.Categories.Select(static c => new PromotionGrade
        {
            Code = c.Code, NameZh = c.NameZh, NameEn = c.NameEn, TargetPercent = c.PromotionTargetPercent,
        }));
    }

    /// <summary>True when the indicator can be tallied: a CATEGORY with at least one promotion target.</summary>
    public static bool IsRanked(Indicator indicator)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        return indicator.Kind == ValueKind.Category && indicator.Categories.Any(static c => c.PromotionTargetPercent > 0);
    }

    /// <summary>Adds one leaf unit: its grade code in each period, or null where it reported none (or one the catalogue lacks).</summary>
    public void Add(string unitId, string displayName, string hostNodeId, string? fromCode, string? toCode)
    {
        if (fromCode is null || toCode is null || !_rank.TryGetValue(fromCode, out var from) || !_rank.TryGetValue(toCode, out var to))
        {
            _answer.UngradedCount++;
            return;
        }

        var grade = _answer.Grades[from];
        grade.StartCount++;
        // Categories are listed best first: a smaller index is a better grade.
        if (to < from)
        {
            grade.MovedUpCount++;
            return;
        }

        if (to == from)
        {
            grade.StayedCount++;
        }
        else
        {
            grade.MovedDownCount++;
        }

        if (grade.TargetPercent > 0)
        {
            List(new PromotionUnit { UnitId = unitId, DisplayName = displayName, FromCode = fromCode, ToCode = toCode, HostNodeId = hostNodeId });
        }
    }

    /// <summary>Adds a child's answer for its subtree: counts by grade code, its not-moved units, the nodes that did not answer below it.</summary>
    public void Merge(GetPromotionResponse child)
    {
        ArgumentNullException.ThrowIfNull(child);
        foreach (var theirs in child.Grades)
        {
            if (_rank.TryGetValue(theirs.Code, out var index))
            {
                var ours = _answer.Grades[index];
                ours.StartCount += theirs.StartCount;
                ours.MovedUpCount += theirs.MovedUpCount;
                ours.StayedCount += theirs.StayedCount;
                ours.MovedDownCount += theirs.MovedDownCount;
            }
            else
            {
                // A grade this catalogue does not know cannot be placed; its units are ungraded here.
                _answer.UngradedCount += theirs.StartCount;
            }
        }

        _answer.UngradedCount += child.UngradedCount;
        foreach (var unit in child.NotMoved)
        {
            List(unit);
        }

        _omitted += child.NotMovedOmittedCount;
        _unanswered += UnansweredCountOf(child);
        _answer.UnansweredNodeIds.AddRange(child.UnansweredNodeIds);
        _answer.UnansweredLeafCount += child.UnansweredLeafCount;
        _answer.UnansweredNodes.AddRange(child.UnansweredNodes);
    }

    /// <summary>Records a child that did not answer, and the leaves below it that are therefore not counted.</summary>
    public void Unanswered(string nodeId, uint leafCount)
    {
        _unanswered++;
        _answer.UnansweredNodeIds.Add(nodeId);
        _answer.UnansweredLeafCount += leafCount;
        _answer.UnansweredNodes.Add(new UnansweredNode { NodeId = nodeId, LeafCount = leafCount });
    }

    /// <summary>The answer: each grade judged against its target, lists sorted and bounded.</summary>
    public GetPromotionResponse Finish()
    {
        var answer = _answer.Clone();
        foreach (var grade in answer.Grades)
        {
            // moved / start ≥ percent / 100, compared in integers.
            grade.Met = grade.TargetPercent > 0 && grade.StartCount > 0 && (ulong)grade.MovedUpCount * 100 >= (ulong)grade.TargetPercent * grade.StartCount;
        }

        var sorted = _notMoved.OrderBy(static u => u.UnitId, StringComparer.Ordinal).ToList();
        answer.NotMoved.AddRange(sorted.Take(MaxListedUnits));
        answer.NotMovedOmittedCount = _omitted + (uint)Math.Max(0, sorted.Count - MaxListedUnits);
        // Each child lists its own first nodes by id, so the first of all of them are among those gathered.
        var unanswered = answer.UnansweredNodeIds.Order(StringComparer.Ordinal).Take(MaxListedNodes).ToList();
        answer.UnansweredNodeIds.Clear();
        answer.UnansweredNodeIds.AddRange(unanswered);
        var nodes = answer.UnansweredNodes.OrderBy(static n => n.NodeId, StringComparer.Ordinal).Take(MaxListedNodes).ToList();
        answer.UnansweredNodes.Clear();
        answer.UnansweredNodes.AddRange(nodes);
        answer.UnansweredNodeCount = _unanswered;
        return answer;
    }

    /// <summary>
    /// How many nodes below did not answer, in an answer of any version: a node that predates
    /// unanswered_node_count sends none, and lists every such node instead.
    /// </summary>
    public static uint UnansweredCountOf(GetPromotionResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return Math.Max(answer.UnansweredNodeCount, (uint)answer.UnansweredNodeIds.Count);
    }

    // Every list gathered is bounded: a node's hosted units and children, and at most MaxListedUnits and MaxListedNodes from each child.
    private void List(PromotionUnit unit) => _notMoved.Add(unit);
}
