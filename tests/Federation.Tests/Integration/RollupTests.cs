using Federation.Aggregator.Aggregation;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>Four tiers of real nodes: village reports roll up to the city exactly, and corrections replace.</summary>
public sealed class RollupTests
{
    private const string Quarter = "2026-Q1";

    [Fact]
    public async Task CityTotals_TwelveVillageReports_EqualPlainMergeForEveryKind()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var rng = new Random(20260101);
        var reports = tree.VillageIds.ToDictionary(static id => id, _ => Reports.Random(rng));

        await Task.WhenAll(reports.Select(r => tree.SubmitAsync(r.Key, Quarter, r.Value)));
        var city = await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 12, "the city to cover 12 villages");

        Assert.Equal(12u, city.Coverage.ExpectedLeafCount);
        var expected = Reports.PlainTotals(reports.Values);
        foreach (var total in city.Totals)
        {
            Assert.Equal(expected[total.Indicator.Id], total.Aggregate);
        }

        Assert.Equal(5, city.Totals.Select(static t => t.Aggregate.Kind).Distinct().Count());
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task CityRatio_VillagesOfDifferentSizes_IsRebuiltFromSumsNotAveraged()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        // One large village at 50% and eleven small ones at 100%: the average of ratios would be 95.8%,
        // the true share of satisfied people is 300/700.
        var submissions = tree.VillageIds.Select((id, i) => tree.SubmitAsync(id, Quarter,
        [
            Reports.Count("satisfaction_surveyed", i == 0 ? 480 : 20),
            Reports.Count("satisfaction_satisfied", i == 0 ? 80 : 20),
        ]));
        await Task.WhenAll(submissions);

        var city = await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 12, "the city to cover 12 villages");

        var rate = city.Totals.Single(static t => t.Indicator.Id == "satisfaction_rate");
        Assert.Equal(300, rate.Value.Numerator);
        Assert.Equal(700, rate.Value.Denominator);
        Assert.False(rate.Attainment.Met);
        Assert.Equal(11u, rate.Attainment.MeetingUnitCount);
        var averageOfRatios = ((80.0 / 480) + 11) / 12;
        Assert.NotEqual(averageOfRatios, new Rational(rate.Value.Numerator, rate.Value.Denominator).ToDouble(), 3);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task CorrectedVillageReport_ReplacesOldOne_EveryTierChangesByExactlyTheDifference()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var rng = new Random(7);
        var reports = tree.VillageIds.ToDictionary(static id => id, _ => Reports.Random(rng));
        await Task.WhenAll(reports.Select(r => tree.SubmitAsync(r.Key, Quarter, r.Value)));
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 12, "the first round at the city");
        var chain = new[] { "370113001", "370113", "3701" };
        var before = new Dictionary<string, long>();
        foreach (var id in chain)
        {
            before[id] = PartyMembers(await tree[id].Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline()));
        }

        var village = "370113001002";
        var corrected = reports[village].Select(static v => v.Clone()).ToList();
        corrected.Single(static v => v.IndicatorId == "party_members").Count += 7;
        var ack = await tree.SubmitAsync(village, Quarter, corrected);

        Assert.Equal(2ul, ack.Version);
        foreach (var id in chain)
        {
            var after = await TestHierarchy.WaitForTotalsAsync(tree[id], Quarter, t => PartyMembers(t) != before[id], $"the correction at {id}");
            Assert.Equal(before[id] + 7, PartyMembers(after));
            Assert.Equal(after.Coverage.ExpectedLeafCount, after.Coverage.ReportedLeafCount);
        }

        tree.AssertNoErrors();
    }

    [Fact]
    public async Task VillageSubmits_WhileParentIsDown_IsAcknowledgedKeptInOutboxAndReachesCityLater()
    {
        using var folder = new TempFolder();
        await using var townshipAddress = new TcpForwarder();
        var keys = new[] { "3701", "370113001", "370113001001" }.ToDictionary(static id => id, id => TestNode.CreateKey(folder.Sub(id)));
        await using var city = await TestNode.StartAsync(
            new NodeSpec("3701", "city") { Children = [("370113001", keys["370113001"])] }, folder.Sub("3701"));
        await using var village = await TestNode.StartAsync(
            new NodeSpec("370113001001", "village")
            {
                ParentAddress = townshipAddress.Address,
                ParentId = "370113001",
                ParentPublicKey = keys["370113001"],
                HostedUnitIds = ["370113001001"],
            },
            folder.Sub("370113001001"));

        var submit = new SubmitReportRequest { UnitId = "370113001001", Period = Quarter, Values = { Reports.Count("party_members", 41) } };
        var ack = await village.Reporting.SubmitReportAsync(submit, deadline: Rpc.Deadline());
        Assert.Equal(1ul, ack.Version);
        await Eventually.ReturnsAsync(
            async () => await village.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            static s => s.OutboxPeriods.Contains(Quarter),
            "the summary to wait in the outbox");

        await using var township = await TestNode.StartAsync(
            new NodeSpec("370113001", "township")
            {
                ParentAddress = city.Address,
                ParentId = "3701",
                ParentPublicKey = keys["3701"],
                Children = [("370113001001", keys["370113001001"])],
            },
            folder.Sub("370113001"));
        townshipAddress.ForwardTo(township.Address);

        var totals = await TestHierarchy.WaitForTotalsAsync(city, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the figure to reach the city");
        Assert.Equal(41, PartyMembers(totals));
        await Eventually.ReturnsAsync(
            async () => await village.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            static s => s.OutboxPeriods.Count == 0,
            "the village outbox to drain");
        Assert.Empty(village.Logs.Errors);
        Assert.Empty(township.Logs.Errors);
        Assert.Empty(city.Logs.Errors);
    }

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total;
}
