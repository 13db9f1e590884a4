using System.Net;
using System.Net.Sockets;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;

namespace Federation.Tests.Integration;

/// <summary>Pull on demand, completeness, targets and history against real nodes.</summary>
public sealed class PullAndQueryTests
{
    private const string Quarter = "2026-Q1";

    [Fact]
    public async Task PullWithRefresh_OneTownshipStopped_AnswersInTimeWithItStaleAndItsLastFiguresIn()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var rng = new Random(11);
        var reports = tree.VillageIds.ToDictionary(static id => id, _ => Reports.Random(rng));
        await Task.WhenAll(reports.Select(r => tree.SubmitAsync(r.Key, Quarter, r.Value)));
        await TestHierarchy.WaitForTotalsAsync(tree["370113"], Quarter, static t => t.Coverage.ReportedLeafCount == 6, "the county to cover its six villages");

        await tree["370113002"].StopAsync();
        // The call carries a deadline: an answer after it would fail the call.
        var totals = await tree["370113"].Query.GetTotalsAsync(
            new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: DateTime.UtcNow.AddSeconds(3));

        var stale = Assert.Single(totals.Coverage.StaleChildren);
        Assert.Equal("370113002", stale.ChildId);
        Assert.NotNull(stale.AsOfTime);
        Assert.True(stale.AsOfTime.ToDateTimeOffset() < DateTimeOffset.UtcNow);
        Assert.Equal(6u, totals.Coverage.ReportedLeafCount);
        var expected = Reports.PlainTotals(reports.Where(static r => r.Key.StartsWith("370113", StringComparison.Ordinal)).Select(static r => (IReadOnlyList<IndicatorValue>)r.Value));
        Assert.Equal(expected["party_members"], totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate);
    }

    [Fact]
    public async Task PullWithRefresh_AtTheCity_NamesAStoppedTownshipTwoTiersDownAndItsLeavesAsUnconfirmed()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var rng = new Random(12);
        await Task.WhenAll(tree.VillageIds.Select(id => tree.SubmitAsync(id, Quarter, Reports.Random(rng))));
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, t => t.Coverage.ReportedLeafCount == tree.VillageIds.Count, "the city to cover every village");
        var fresh = await tree.Root.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: DateTime.UtcNow.AddSeconds(5));
        Assert.Empty(fresh.Coverage.UnconfirmedNodes);
        Assert.Equal(0u, fresh.Coverage.UnconfirmedLeafCount);

        await tree["370113002"].StopAsync();
        var totals = await tree.Root.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: DateTime.UtcNow.AddSeconds(5));

        // The counties answered; the township below one of them did not, and the city's signed answer says so.
        Assert.Empty(totals.Coverage.StaleChildren);
        var unconfirmed = Assert.Single(totals.Coverage.UnconfirmedNodes);
        Assert.Equal(("370113002", 3u), (unconfirmed.NodeId, unconfirmed.LeafCount));
        Assert.NotNull(unconfirmed.AsOfTime);
        Assert.Equal(3u, totals.Coverage.UnconfirmedLeafCount);
        Assert.Equal(totals.Coverage, Summary.Parser.ParseFrom(totals.SignedSummary.SummaryBytes).Coverage);

        var pull = await Cli.RunAsync("pull", "--node", tree.Root.Address, "--token", tree.Root.Tokens.Reader, "--ca", TestPki.CaPath,
            "--period", Quarter, "--lang", "en");
        Assert.True(pull.ExitCode == 0, pull.StandardError);
        Assert.Contains("not confirmed fresh, 3 units: 370113002 (3 units, as of", pull.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullWithRefresh_ChildThatNeverAnswers_AnswersWithinTheCallersDeadline()
    {
        using var folder = new TempFolder();
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        // Accepts connections and never says a word: every call to it hangs until its deadline.
        var held = new List<Socket>();
        var acceptor = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await silent.AcceptSocketAsync());
                }
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        });
        using var hung = new FakeChild("370113009", 7);
        await using var county = await TestNode.StartAsync(
            new NodeSpec("370113", "county") { Children = [(hung.Id, hung.PublicKey)], HostedUnitIds = ["370113999001"] }, folder.Sub("370113"));
        await county.Admin.EnrolChildAsync(new EnrolChildRequest
        {
            ChildId = hung.Id,
            PublicKey = ByteString.CopyFrom(hung.PublicKey),
            Address = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}",
        }, deadline: Rpc.Deadline());
        await county.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = "370113999001", Period = Quarter, Values = { Reports.Count("party_members", 12) } }, deadline: Rpc.Deadline());

        // A late answer would surface here as DeadlineExceeded.
        var totals = await county.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: DateTime.UtcNow.AddSeconds(2));

        Assert.Equal(hung.Id, Assert.Single(totals.Coverage.StaleChildren).ChildId);
        Assert.Equal(12, PartyMembers(totals));
        silent.Stop();
        await acceptor;
        held.ForEach(static s => s.Dispose());
    }

    [Fact]
    public async Task PullWithRefresh_VillageChangedWhilePushesHeldBack_ReturnsTheNewFigure()
    {
        using var folder = new TempFolder();
        var ids = new[] { "370113", "370113001", "370113001001" };
        var keys = ids.ToDictionary(static id => id, id => TestNode.CreateKey(folder.Sub(id)));
        await using var county = await TestNode.StartAsync(new NodeSpec(ids[0], "county") { Children = [(ids[1], keys[ids[1]])] }, folder.Sub(ids[0]));
        await using var township = await TestNode.StartAsync(
            new NodeSpec(ids[1], "township") { ParentAddress = county.Address, ParentId = ids[0], ParentPublicKey = keys[ids[0]], Children = [(ids[2], keys[ids[2]])] },
            folder.Sub(ids[1]));
        // The village's pushes go nowhere: its parent address closes every connection.
        await using var nowhere = new TcpForwarder();
        await using var village = await TestNode.StartAsync(
            new NodeSpec(ids[2], "village") { ParentAddress = nowhere.Address, ParentId = ids[1], HostedUnitIds = [ids[2]] },
            folder.Sub(ids[2]));
        await county.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = ids[1], PublicKey = ByteString.CopyFrom(keys[ids[1]]), Address = township.Address }, deadline: Rpc.Deadline());
        await township.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = ids[2], PublicKey = ByteString.CopyFrom(keys[ids[2]]), Address = village.Address }, deadline: Rpc.Deadline());

        await village.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = ids[2], Period = Quarter, Values = { Reports.Count("party_members", 41) } }, deadline: Rpc.Deadline());
        var first = await county.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: Rpc.Deadline());
        await village.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = ids[2], Period = Quarter, Values = { Reports.Count("party_members", 50) } }, deadline: Rpc.Deadline());
        var withoutRefresh = await county.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        var refreshed = await county.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: Rpc.Deadline());

        Assert.Equal(41, PartyMembers(first));
        Assert.Equal(41, PartyMembers(withoutRefresh));
        Assert.Equal(50, PartyMembers(refreshed));
        Assert.Empty(refreshed.Coverage.StaleChildren);
        var status = await village.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Contains(Quarter, status.OutboxPeriods);
    }

    [Fact]
    public async Task Completeness_NamesExactlyTheMissingVillages_AndALateReportMovesOneToLate()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var missing = new[] { "370113002003", "370126001002" };
        var now = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8));
        var thisMonth = Period.Month(now.Year, now.Month).ToString();
        var rng = new Random(5);
        foreach (var village in tree.VillageIds.Except(missing))
        {
            await tree.SubmitAsync(village, Quarter, Reports.Random(rng));
            await tree.SubmitAsync(village, thisMonth, Reports.Random(rng));
        }

        var quarter = await tree.Root.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = Quarter }, deadline: Rpc.Deadline());
        var month = await tree.Root.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = thisMonth }, deadline: Rpc.Deadline());

        Assert.Equal(missing, quarter.Missing.Select(static l => l.UnitId));
        Assert.Equal(missing, month.Missing.Select(static l => l.UnitId));
        // Reports for 2026-Q1 were due ten days after the quarter: every one received now is late.
        Assert.Equal(10, quarter.Late.Count);
        Assert.Empty(month.Late);
        var city = quarter.Nodes.Single(static n => n.NodeId == "3701");
        Assert.Equal((12u, 10u, 0u), (city.ExpectedLeafCount, city.ReportedLeafCount, city.OnTimeLeafCount));
        var township = month.Nodes.Single(static n => n.NodeId == "370113002");
        Assert.Equal((3u, 2u, 2u), (township.ExpectedLeafCount, township.ReportedLeafCount, township.OnTimeLeafCount));
        Assert.Equal(19, month.Nodes.Count);

        await tree.SubmitAsync(missing[0], Quarter, Reports.Random(rng));
        var after = await tree.Root.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = Quarter }, deadline: Rpc.Deadline());

        Assert.Equal([missing[1]], after.Missing.Select(static l => l.UnitId));
        Assert.Contains(after.Late, l => l.UnitId == missing[0]);
        var cityTotals = await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 11, "the late report at the city");
        Assert.Equal(0u, cityTotals.Coverage.OnTimeLeafCount);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task Targets_AtTheCity_MatchAttainmentAndLaggardsComputedFromRawReports()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var rng = new Random(2025);
        var reports = tree.VillageIds.ToDictionary(static id => id, _ => Reports.Random(rng));
        await Task.WhenAll(reports.Select(r => tree.SubmitAsync(r.Key, Quarter, r.Value)));
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 12, "the city to cover 12 villages");

        var targets = await tree.Root.Query.GetTargetsAsync(new GetTargetsRequest { Period = Quarter }, deadline: Rpc.Deadline());

        var catalogue = CatalogueIndex.Default;
        Assert.Equal(catalogue.Indicators.Count(static i => i.Target is not null), targets.Targets.Count);
        foreach (var standing in targets.Targets)
        {
            var (met, meeting, units, lagging) = Independently(standing.Indicator, reports);
            Assert.True(met == standing.Attainment.Met, $"{standing.Indicator.Id}: met");
            Assert.Equal(meeting, standing.Attainment.MeetingUnitCount);
            Assert.Equal(units, standing.Attainment.UnitCount);
            Assert.Equal(lagging, standing.LaggingUnitIds);
        }

        Assert.Contains(targets.Targets, static t => t.LaggingUnitIds.Count > 0);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task DrillDown_FromCityToTownship_RanksChildrenAndFindsTheLaggingVillage()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        foreach (var (village, i) in tree.VillageIds.Select(static (v, i) => (v, i)))
        {
            await tree.SubmitAsync(village, Quarter, [Reports.Count("party_members", 10 + i), Reports.Count("reserve_cadres", village == "370126002002" ? 1 : 3)]);
        }

        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 12, "the city to cover 12 villages");

        var counties = await tree.Root.Query.GetDrillDownAsync(
            new GetDrillDownRequest { Period = Quarter, SortIndicatorId = "party_members", Descending = true }, deadline: Rpc.Deadline());
        var township = await tree.Root.Query.GetDrillDownAsync(
            new GetDrillDownRequest { NodeId = "370126002", Period = Quarter, SortIndicatorId = "reserve_cadres" }, deadline: Rpc.Deadline());

        // Villages 6-11 (Shanghe) hold 16+…+21 = 111 members, villages 0-5 (Changqing) 10+…+15 = 75.
        Assert.Equal(["370126", "370113"], counties.Rows.Select(static r => r.SourceId));
        Assert.Equal([1u, 2u], counties.Rows.Select(static r => r.Rank));
        Assert.Equal(111, counties.Rows[0].Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total);
        Assert.Contains("reserve_cadres", counties.Rows[0].UnmetIndicatorIds);
        Assert.Equal("370126002002", township.Rows[0].SourceId);
        Assert.Equal(["reserve_cadres"], township.Rows[0].UnmetIndicatorIds);
        Assert.Empty(township.Rows[1].UnmetIndicatorIds);
    }

    [Fact]
    public async Task History_MonthsWithAGap_OnePointPerPeriodInOrderAndTheGapShownAsNoData()
    {
        using var folder = new TempFolder();
        const string Village = "370113001001";
        await using var node = await TestNode.StartAsync(new NodeSpec(Village, "village") { HostedUnitIds = [Village] }, folder.Sub(Village));
        foreach (var (month, members) in new[] { ("2026-01", 30L), ("2026-02", 32L), ("2026-04", 35L) })
        {
            await node.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = Village, Period = month, Values = { Reports.Count("party_members", members) } }, deadline: Rpc.Deadline());
        }

        await TestHierarchy.WaitForTotalsAsync(node, "2026-04", static _ => true, "the April summary");
        await TestHierarchy.WaitForTotalsAsync(node, "2026-01", static _ => true, "the January summary");
        var history = await node.Query.GetHistoryAsync(
            new GetHistoryRequest { IndicatorId = "party_members", FromPeriod = "2026-01", ToPeriod = "2026-05" }, deadline: Rpc.Deadline());

        Assert.Equal(["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"], history.Points.Select(static p => p.Period));
        Assert.Equal([true, true, false, true, false], history.Points.Select(static p => p.HasData));
        Assert.Equal([30L, 32L, 35L], history.Points.Where(static p => p.HasData).Select(static p => p.Total.Aggregate.Total));
        Assert.Null(history.Points[2].Total);
    }

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total;

    /// <summary>Attainment of one target over the raw village values, with plain arithmetic.</summary>
    private static (bool Met, uint Meeting, uint Units, List<string> Lagging) Independently(Indicator indicator, Dictionary<string, List<IndicatorValue>> reports)
    {
        var t = indicator.Target;
        bool AtLeast(long numerator, long denominator) => (decimal)numerator / denominator >= (decimal)t.ThresholdNumerator / t.ThresholdDenominator;
        var rows = reports.ToDictionary(static r => r.Key, static r => r.Value.ToDictionary(static v => v.IndicatorId));
        var judged = new List<(string Unit, bool Meets)>();
        long sumN = 0, sumD = 0;
        uint units = 0;
        foreach (var (unit, values) in rows.OrderBy(static r => r.Key, StringComparer.Ordinal))
        {
            switch (indicator.Kind)
            {
                case ValueKind.Ratio when values.TryGetValue(indicator.Ratio.NumeratorIndicatorId, out var n) && values.TryGetValue(indicator.Ratio.DenominatorIndicatorId, out var d):
                    units++;
                    sumN += n.Count;
                    sumD += d.Count;
                    if (d.Count > 0)
                    {
                        judged.Add((unit, AtLeast(n.Count, d.Count)));
                    }

                    break;
                case ValueKind.Flag when values.TryGetValue(indicator.Id, out var f):
                    units++;
                    sumN += f.Flag ? 1 : 0;
                    judged.Add((unit, f.Flag));
                    break;
                case ValueKind.Count when values.TryGetValue(indicator.Id, out var c):
                    units++;
                    judged.Add((unit, AtLeast(c.Count, 1)));
                    break;
            }
        }

        var meeting = (uint)judged.Count(static j => j.Meets);
        var met = indicator.Kind switch
        {
            ValueKind.Ratio => sumD > 0 && AtLeast(sumN, sumD),
            ValueKind.Flag => units > 0 && AtLeast(sumN, units),
            _ => units > 0 && meeting == units,
        };
        return (met, meeting, units, [.. judged.Where(static j => !j.Meets).Select(static j => j.Unit)]);
    }
}
