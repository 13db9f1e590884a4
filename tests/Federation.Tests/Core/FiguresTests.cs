using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Totals;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Core;

/// <summary>Headline values and target attainment, rebuilt exactly from aggregates.</summary>
public sealed class FiguresTests
{
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;

    [Fact]
    public void Compute_CollegeDegreeShare_JudgedAgainst85PercentOfUnits()
    {
        // 17 of 20 units is exactly 85%: met. 16 of 20 is 80%: short.
        var met = Figure("secretary_college_degree", Enumerable.Range(0, 20).Select(i => Reports.Flag("secretary_college_degree", i < 17)));
        var shortOf = Figure("secretary_college_degree", Enumerable.Range(0, 20).Select(i => Reports.Flag("secretary_college_degree", i < 16)));

        Assert.Equal(new Rational(17, 20), met.Value);
        Assert.True(met.Attainment!.Met);
        Assert.False(shortOf.Attainment!.Met);
        Assert.Equal(16u, shortOf.Attainment.MeetingUnitCount);
    }

    [Fact]
    public void Compute_ReserveCadres_PerUnitThresholdOfTwo()
    {
        var figure = Figure("reserve_cadres", [Reports.Count("reserve_cadres", 2), Reports.Count("reserve_cadres", 5), Reports.Count("reserve_cadres", 1)]);

        Assert.Equal(new Rational(8, 1), figure.Value);
        Assert.Equal(2u, figure.Attainment!.MeetingUnitCount);
        Assert.Equal(3u, figure.Attainment.UnitCount);
        Assert.False(figure.Attainment.Met);
    }

    [Fact]
    public void Compute_GroupLeaderShare_OneThirdIsExactNotRounded()
    {
        var aggregates = Merge(
            [Reports.Count("group_leaders", 3), Reports.Count("party_group_leaders", 1)],
            [Reports.Count("group_leaders", 6), Reports.Count("party_group_leaders", 2)]);

        var figure = Figures.Compute(s_catalogue, aggregates).Single(static f => f.Indicator.Id == "party_group_leader_share");

        Assert.Equal(new Rational(3, 9), figure.Value);
        Assert.True(figure.Attainment!.Met);
        Assert.Equal(2u, figure.Attainment.MeetingUnitCount);
    }

    [Fact]
    public void Compute_SecretaryAge_MeanFromSumAndCount()
    {
        var figure = Figure("secretary_age", [Reports.Measure("secretary_age", 40), Reports.Measure("secretary_age", 45), Reports.Measure("secretary_age", 52)]);

        Assert.Equal(new Rational(137, 3), figure.Value);
        Assert.Equal(40, figure.Aggregate.Min);
        Assert.Equal(52, figure.Aggregate.Max);
        Assert.Null(figure.Attainment);
    }

    [Fact]
    public void Compute_NothingReported_HasNoValueAndIsNotMet()
    {
        var figure = Figures.Compute(s_catalogue, []).Single(static f => f.Indicator.Id == "satisfaction_rate");

        Assert.Null(figure.Value);
        Assert.False(figure.Attainment!.Met);
        Assert.Equal(0u, figure.Aggregate.UnitCount);
    }

    [Fact]
    public void Rational_ComparesExactlyWithoutOverflow()
    {
        var big = new Rational(long.MaxValue - 1, long.MaxValue);

        Assert.True(big < new Rational(1, 1));
        Assert.True(new Rational(85, 100) >= new Rational(17, 20));
        Assert.False(new Rational(84_999_999, 100_000_000) >= new Rational(85, 100));
    }

    [Fact]
    public void Compute_CountTarget_IsMetOnlyWhenEveryReportingUnitMeetsItNotByTheSum()
    {
        // The sum (6) is far above 2, but one unit has a single reserve cadre.
        var oneShort = Figure("reserve_cadres", [Reports.Count("reserve_cadres", 5), Reports.Count("reserve_cadres", 1)]);
        var allMeet = Figure("reserve_cadres", [Reports.Count("reserve_cadres", 2), Reports.Count("reserve_cadres", 3)]);
        var noneReported = Figures.Compute(s_catalogue, []).Single(static f => f.Indicator.Id == "reserve_cadres");

        Assert.False(oneShort.Attainment!.Met);
        Assert.True(allMeet.Attainment!.Met);
        Assert.False(noneReported.Attainment!.Met);
    }

    [Fact]
    public void Compute_RatioUnitWithZeroDenominator_CountsAsReportedNeitherMeetingNorLagging()
    {
        // No committee posts: the unit has no reserve-to-posts ratio to judge.
        IndicatorValue[] noPosts = [Reports.Count("reserve_cadres", 1), Reports.Count("committee_posts", 0)];
        IndicatorValue[] covered = [Reports.Count("reserve_cadres", 3), Reports.Count("committee_posts", 3)];
        var unit = Aggregates.FromReport(s_catalogue, noPosts);

        var node = Figures.Compute(s_catalogue, Merge(noPosts, covered)).Single(static f => f.Indicator.Id == "reserve_to_posts");

        Assert.Equal(2u, node.Attainment!.UnitCount);
        Assert.Equal(1u, node.Attainment.MeetingUnitCount);
        Assert.True(node.Attainment.Met);
        Assert.Equal(new Rational(4, 3), node.Value);
        Assert.DoesNotContain("reserve_to_posts", Figures.UnmetTargetIds(s_catalogue, unit));
    }

    private static IndicatorFigure Figure(string indicatorId, IEnumerable<IndicatorValue> unitValues) =>
        Figures.Compute(s_catalogue, Merge([.. unitValues.Select(static v => new[] { v })])).Single(f => f.Indicator.Id == indicatorId);

    private static IReadOnlyList<IndicatorAggregate> Merge(params IndicatorValue[][] units) =>
        Aggregates.MergeAll(units.Select(static u => Aggregates.FromReport(s_catalogue, u)));
}
