using Federation.Aggregator.Summaries;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

/// <summary>Freshness all the way down: what a summary says is unconfirmed below it, and what a parent refuses.</summary>
public sealed class UnconfirmedTests
{
    [Fact]
    public void WriteTo_StaleChildAndFreshChildsList_MergedSortedAndCountedOnce()
    {
        var below = new Coverage { ExpectedLeafCount = 500, UnconfirmedLeafCount = 245, UnconfirmedNodes = { new UnconfirmedNode { NodeId = "370113009", LeafCount = 245 } } };
        var tally = new Unconfirmed();
        tally.AddBelow(below);
        tally.AddStale("370113001", 30, null);
        var coverage = new Coverage { ExpectedLeafCount = 1000 };

        tally.WriteTo(coverage);

        Assert.Equal(["370113001", "370113009"], coverage.UnconfirmedNodes.Select(static n => n.NodeId));
        Assert.Equal(275u, coverage.UnconfirmedLeafCount);
        Assert.Null(Unconfirmed.Problem(coverage));
    }

    [Fact]
    public void WriteTo_MoreThanTheBound_ListsTheFirstAndCountsTheRest()
    {
        var tally = new Unconfirmed();
        for (var i = 0; i < Unconfirmed.MaxListed + 5; i++)
        {
            tally.AddStale($"3701{i:D5}", 1, null);
        }

        var coverage = new Coverage { ExpectedLeafCount = 2000 };
        tally.WriteTo(coverage);

        Assert.Equal(Unconfirmed.MaxListed, coverage.UnconfirmedNodes.Count);
        Assert.Equal(5u, coverage.UnconfirmedOmittedCount);
        Assert.Equal((uint)Unconfirmed.MaxListed + 5, coverage.UnconfirmedLeafCount);
    }

    [Theory]
    [InlineData("370113002", "370113001", 1u, 1u, 2u, "sorted")]
    [InlineData("370113001", "370113001", 1u, 1u, 2u, "sorted")]
    [InlineData("370113001", "370113002", 5u, 5u, 2u, "listed ≤ counted")]
    [InlineData("370113001", "370113002", 1u, 1u, 50u, "≤ expected")]
    public void Problem_AChildsListThatCannotBeRight_IsNamed(string first, string second, uint firstLeaves, uint secondLeaves, uint counted, string expected)
    {
        var coverage = new Coverage
        {
            ExpectedLeafCount = 10,
            UnconfirmedLeafCount = counted,
            UnconfirmedNodes = { new UnconfirmedNode { NodeId = first, LeafCount = firstLeaves }, new UnconfirmedNode { NodeId = second, LeafCount = secondLeaves } },
        };

        Assert.Contains(expected, Unconfirmed.Problem(coverage), StringComparison.Ordinal);
    }
}
