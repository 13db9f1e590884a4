using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Promotion;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

/// <summary>The nodes below that did not answer: listed up to a bound, the first by node id, and all of them counted.</summary>
public sealed class PromotionTallyTests
{
    private static PromotionTally NewTally()
    {
        Assert.True(CatalogueIndex.Default.TryGet(PromotionTally.DefaultIndicatorId, out var indicator));
        return new PromotionTally(indicator, new GetPromotionResponse { NodeId = "3701", IndicatorId = indicator.Id, FromPeriod = "2025", ToPeriod = "2026" });
    }

    private static string Village(int i) => $"370113{i:D6}";

    [Fact]
    public void Finish_MoreUnansweredThanTheBound_ListsTheFirstByIdAndCountsThemAll()
    {
        // A child that listed its own first 1,000 of 2,500, a child of an older version that lists its 3 and counts none,
        // and 1,200 children of this node that did not answer.
        var tally = NewTally();
        var child = new GetPromotionResponse { NodeId = "370113", UnansweredNodeCount = 2500, UnansweredLeafCount = 2500 * 4 };
        child.UnansweredNodeIds.AddRange(Enumerable.Range(0, PromotionTally.MaxListedNodes).Select(static i => Village(i * 2)));
        child.UnansweredNodes.AddRange(child.UnansweredNodeIds.Select(static id => new UnansweredNode { NodeId = id, LeafCount = 4 }));
        tally.Merge(child);
        var older = new GetPromotionResponse { NodeId = "370112", UnansweredNodeIds = { "370112001", "370112002", "370112003" }, UnansweredLeafCount = 3 };
        older.UnansweredNodes.AddRange(older.UnansweredNodeIds.Select(static id => new UnansweredNode { NodeId = id, LeafCount = 1 }));
        tally.Merge(older);
        for (var i = 0; i < 1200; i++)
        {
            tally.Unanswered(Village((i * 2) + 1), 1);
        }

        var answer = tally.Finish();

        var expected = child.UnansweredNodeIds.Concat(older.UnansweredNodeIds).Concat(Enumerable.Range(0, 1200).Select(static i => Village((i * 2) + 1)))
            .Order(StringComparer.Ordinal).Take(PromotionTally.MaxListedNodes).ToList();
        Assert.Equal(expected, answer.UnansweredNodeIds);
        Assert.Equal(expected, answer.UnansweredNodes.Select(static n => n.NodeId));
        Assert.Equal(2500u + 3 + 1200, answer.UnansweredNodeCount);
        Assert.Equal((2500u * 4) + 3 + 1200, answer.UnansweredLeafCount);
        Assert.Equal(answer.UnansweredNodeCount, PromotionTally.UnansweredCountOf(answer));
    }

    [Fact]
    public void Finish_FewUnanswered_ListsAndCountsEach()
    {
        var tally = NewTally();
        tally.Unanswered("370113002", 13);
        tally.Unanswered("370113001", 9);

        var answer = tally.Finish();

        Assert.Equal(["370113001", "370113002"], answer.UnansweredNodeIds);
        Assert.Equal(2u, answer.UnansweredNodeCount);
        Assert.Equal(22u, answer.UnansweredLeafCount);
    }
}
