using System.Globalization;
using Federation.Aggregator.Summaries;

namespace Federation.Tests.Core;

/// <summary>No child can claim more leaves than would keep its parent's summary in bounds, and default enrolments just work.</summary>
public sealed class LeafAllowanceTests
{
    private static readonly int s_baseSeed = Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 1978;

    [Theory]
    [InlineData(3)]
    [InlineData(245)]
    [InlineData(4000)]
    public void Of_ChildrenEnrolledWithoutACount_EachGetRoomForAWholeTownshipAndTogetherStayInBounds(int childCount)
    {
        var allowance = LeafAllowance.Of(0, hostedUnitCount: 2, countedLeafTotal: 0, uncountedChildCount: childCount);

        Assert.True(allowance >= 200, $"{allowance} leaves each for {childCount} children");
        Assert.True(2 + ((long)allowance * childCount) <= SummaryChecks.MaxLeafCount);
    }

    [Fact]
    public void Of_ChildEnrolledWithACount_MayClaimExactlyThatCount()
    {
        Assert.Equal(17u, LeafAllowance.Of(17, hostedUnitCount: 5, countedLeafTotal: 17, uncountedChildCount: 3));
    }

    [Fact]
    public void Of_AnyMixOfHostedUnitsAndChildrenThatFits_NeverLetsTheTotalPassTheBound()
    {
        for (var round = 0; round < 500; round++)
        {
            var seed = s_baseSeed + round;
            var rng = new Random(seed);
            var hosted = rng.Next(0, 1000);
            var counted = Enumerable.Range(0, rng.Next(0, 50)).Select(_ => (uint)rng.Next(1, 20_000)).ToList();
            var uncounted = rng.Next(0, 3000);
            if (!LeafAllowance.Fits(hosted, counted.Sum(static c => (long)c), uncounted))
            {
                continue;
            }

            // Every child claims all it is allowed.
            var total = hosted + counted.Sum(c => (long)LeafAllowance.Of(c, hosted, counted.Sum(static x => (long)x), uncounted)) +
                ((long)uncounted * LeafAllowance.Of(0, hosted, counted.Sum(static x => (long)x), uncounted));

            Assert.True(total <= SummaryChecks.MaxLeafCount, $"seed {seed}: {total} leaves");
        }
    }
}
