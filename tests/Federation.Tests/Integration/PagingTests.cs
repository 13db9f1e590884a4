using Federation.Node.Application;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// The lists that grow with the tree page (AIP-158) on real nodes: at any page size the pages concatenate to the
/// whole list, a listing made for a first page does not move when the figures change before the next, and a token
/// that is not the node's, or is for another request, is refused and spoils nothing.
/// </summary>
public sealed class PagingTests : IAsyncLifetime
{
    private const string Quarter = "2026-Q1";
    private const string City = "3701";
    private const string County = "370113";
    private const string Hosting = "370113001";
    private const string WithVillages = "370113002";
    private const int HostedCount = 30;
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    private static string Unit(int i) => $"{Hosting}{i:D3}";

    public async Task InitializeAsync()
    {
        var shape = new TreeNode(City, "city",
        [
            new TreeNode(County, "county",
            [
                new TreeNode(Hosting, "township", []) { HostedUnits = [.. Enumerable.Range(1, HostedCount).Select(static i => (Unit(i), $"村{i}"))] },
                new TreeNode(WithVillages, "township", [.. Enumerable.Range(1, 3).Select(static v => new TreeNode($"{WithVillages}{v:D3}", "village", []))]),
            ]),
        ]);
        _tree = await TestHierarchy.StartAsync(_folder, shape);

        // Two thirds of the hosted units report, every third short of the venue target; two of the three villages.
        for (var i = 1; i <= HostedCount; i++)
        {
            if (i % 3 != 0)
            {
                await _tree[Hosting].Reporting.SubmitReportAsync(Report(Unit(i), i), deadline: Rpc.Deadline());
            }
        }

        await _tree.SubmitAsync($"{WithVillages}001", Quarter, Report($"{WithVillages}001", 4).Values);
        await _tree.SubmitAsync($"{WithVillages}002", Quarter, Report($"{WithVillages}002", 5).Values);
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 22, "the city to cover 22 reports");
    }

    public async Task DisposeAsync()
    {
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    private static SubmitReportRequest Report(string unitId, int seed) => new()
    {
        UnitId = unitId,
        Period = Quarter,
        Values =
        {
            Reports.Count("party_members", 10 + (seed * 7 % 40)),
            Reports.Flag("venue_up_to_standard", seed % 4 != 1),
            Reports.Count("satisfaction_surveyed", 100),
            Reports.Count("satisfaction_satisfied", 60 + seed),
        },
    };

    [Fact]
    public async Task GetSubtreeStatus_AnyPageSize_PagesConcatenateToTheWholeListing()
    {
        var asParent = _tree[County].FederationAs(City);
        var whole = await asParent.GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = Quarter, PageSize = 10_000 }, deadline: Rpc.Deadline());
        Assert.Equal(string.Empty, whole.NextPageToken);
        Assert.Equal([County, Hosting, WithVillages, $"{WithVillages}001", $"{WithVillages}002", $"{WithVillages}003"], whole.Nodes.Select(static n => n.NodeId));
        Assert.Equal(HostedCount + 3, whole.Leaves.Count);

        foreach (var size in new[] { 1, 2, 7, 34 })
        {
            var nodes = new List<SubtreeNode>();
            var leaves = new List<LeafStatus>();
            var request = new GetSubtreeStatusRequest { Period = Quarter, PageSize = size };
            var pages = 0;
            do
            {
                var page = await asParent.GetSubtreeStatusAsync(request, deadline: Rpc.Deadline());
                pages++;
                Assert.InRange(page.Nodes.Count + page.Leaves.Count, 1, size);
                Assert.True(page.Leaves.Count == 0 || nodes.Count + page.Nodes.Count == whole.Nodes.Count, "a page lists the rest of the nodes before any leaf");
                nodes.AddRange(page.Nodes);
                leaves.AddRange(page.Leaves);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            Assert.Equal((whole.Nodes.Count + whole.Leaves.Count + size - 1) / size, pages);
            Assert.Equal(whole.Nodes, nodes);
            Assert.Equal(whole.Leaves, leaves);
        }
    }

    [Fact]
    public async Task GetSubtreeStatus_BadForeignOrSpentToken_RefusedWhileTheListingReadsOn()
    {
        var asParent = _tree[County].FederationAs(City);
        var first = await asParent.GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = Quarter, PageSize = 20 }, deadline: Rpc.Deadline());
        var ledgerToken = Convert.ToBase64String(new byte[29]).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        await Rpc.FailsAsync(async () => await asParent.GetSubtreeStatusAsync(
            new GetSubtreeStatusRequest { Period = Quarter, PageToken = "not-a-token" }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        await Rpc.FailsAsync(async () => await asParent.GetSubtreeStatusAsync(
            new GetSubtreeStatusRequest { Period = Quarter, PageToken = ledgerToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        var foreign = await Rpc.FailsAsync(async () => await asParent.GetSubtreeStatusAsync(
            new GetSubtreeStatusRequest { Period = "2026-Q2", PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        Assert.Equal("page_token", Rpc.ViolatedField(foreign));
        await Rpc.FailsAsync(async () => await _tree[Hosting].FederationAs(County).GetSubtreeStatusAsync(
            new GetSubtreeStatusRequest { Period = Quarter, PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "PAGE_TOKEN_EXPIRED");

        // Read as the default size, this would be the last page and let the listing go.
        var negative = await Rpc.FailsAsync(async () => await asParent.GetSubtreeStatusAsync(
            new GetSubtreeStatusRequest { Period = Quarter, PageSize = -1, PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        Assert.Equal("page_size", Rpc.ViolatedField(negative));

        var rest = await asParent.GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = Quarter, PageSize = 100, PageToken = first.NextPageToken }, deadline: Rpc.Deadline());
        Assert.Equal(string.Empty, rest.NextPageToken);
        Assert.Equal(6 + HostedCount + 3, first.Nodes.Count + first.Leaves.Count + rest.Nodes.Count + rest.Leaves.Count);

        // The last page let the listing go: its token is spent.
        await Rpc.FailsAsync(async () => await asParent.GetSubtreeStatusAsync(
            new GetSubtreeStatusRequest { Period = Quarter, PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "PAGE_TOKEN_EXPIRED");
    }

    [Fact]
    public async Task EveryPagedRpc_NegativePageSize_RefusedOnPageSizeAndTheNextCallReads()
    {
        var host = _tree[Hosting];
        var ratings = new RatingService.RatingServiceClient(host.ChannelWith(host.Tokens.Reviewer));
        var item = (await ratings.GetRatingSchemeAsync(new GetRatingSchemeRequest(), deadline: Rpc.Deadline())).Scheme.Parts[0].Items[0].Id;
        await ratings.SetScoresAsync(new SetScoresRequest
        {
            Year = "2026",
            Units = { new UnitScoresEntry { UnitId = Unit(1), Assessments = { new Assessment { Period = "2026", Items = { new ItemScore { ItemId = item, PointsTenths = 10 } } } } } },
        }, deadline: Rpc.Deadline());
        var reporting = new ReportingService.ReportingServiceClient(host.Channel);
        var review = new ReviewService.ReviewServiceClient(host.Channel);
        var rating = new RatingService.RatingServiceClient(host.Channel);
        var ledger = new LedgerService.LedgerServiceClient(host.Channel);
        var calls = new (string Rpc, Func<int, Task> Call)[]
        {
            ("GetSubtreeStatus", async size => await _tree[County].FederationAs(City).GetSubtreeStatusAsync(
                new GetSubtreeStatusRequest { Period = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            ("GetCompleteness", async size => await _tree.Root.Query.GetCompletenessAsync(
                new GetCompletenessRequest { Period = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            ("GetTargets", async size => await _tree.Root.Query.GetTargetsAsync(new GetTargetsRequest { Period = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            // About a node below: refused where it is asked, not sent on.
            ("GetDrillDown", async size => await _tree.Root.Query.GetDrillDownAsync(
                new GetDrillDownRequest { NodeId = Hosting, Period = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            ("GetHistory", async size => await _tree.Root.Query.GetHistoryAsync(
                new GetHistoryRequest { IndicatorId = "party_members", FromPeriod = "2025-Q1", ToPeriod = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            ("ListFlags", async size => await reporting.ListFlagsAsync(new ListFlagsRequest { Period = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            ("ListUnits", async size => await review.ListUnitsAsync(new ListUnitsRequest { PageSize = size }, deadline: Rpc.Deadline())),
            ("GetDecisions", async size => await review.GetDecisionsAsync(new GetDecisionsRequest { Period = Quarter, PageSize = size }, deadline: Rpc.Deadline())),
            ("ListRatingFlags", async size => await rating.ListRatingFlagsAsync(new ListRatingFlagsRequest { Year = "2026", PageSize = size }, deadline: Rpc.Deadline())),
            ("ListLedgerItems", async size => await ledger.ListLedgerItemsAsync(new ListLedgerItemsRequest { PageSize = size }, deadline: Rpc.Deadline())),
            ("ListChildren", async size => await _tree[County].Admin.ListChildrenAsync(new ListChildrenRequest { PageSize = size }, deadline: Rpc.Deadline())),
            ("ListTokens", async size => await _tree[County].Access.ListTokensAsync(new ListTokensRequest { PageSize = size }, deadline: Rpc.Deadline())),
        };

        foreach (var (rpc, call) in calls)
        {
            var status = await Rpc.FailsAsync(() => call(-1), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
            Assert.True(Rpc.ViolatedField(status) == "page_size", $"{rpc}: the violation names {Rpc.ViolatedField(status)}");
            Assert.True(status.Message == "page_size -1 is negative: send 0 for the default page or a positive size.", $"{rpc}: {status.Message}");

            await call(0);
            await call(1);
        }

        _tree.AssertNoErrors();
    }

    [Fact]
    public async Task GetCompleteness_PagedWithAReportBetweenPages_EqualsTheListingOfTheFirstPage()
    {
        var before = await _tree.Root.Query.GetCompletenessAsync(new GetCompletenessRequest { NodeId = County, Period = Quarter, PageSize = 10_000 }, deadline: Rpc.Deadline());
        Assert.Equal(string.Empty, before.NextPageToken);
        Assert.Equal((6u, 11u, 22u), (before.NodeCount, before.MissingCount, before.LateCount));
        Assert.Equal(before.Missing.Select(static l => l.UnitId).Order(StringComparer.Ordinal), before.Missing.Select(static l => l.UnitId));

        var request = new GetCompletenessRequest { NodeId = County, Period = Quarter, PageSize = 4 };
        var first = await _tree.Root.Query.GetCompletenessAsync(request, deadline: Rpc.Deadline());
        var latecomer = before.Missing.First(static l => l.HostNodeId == Hosting).UnitId;
        await _tree[Hosting].Reporting.SubmitReportAsync(Report(latecomer, 9), deadline: Rpc.Deadline());
        request.PageToken = first.NextPageToken;
        var rest = await AllPages.GetCompletenessAsync(_tree.Root.Query, request, static () => new CallOptions(deadline: Rpc.Deadline()));

        Assert.Equal(before.Nodes, first.Nodes.Concat(rest.Nodes));
        Assert.Equal(before.Missing, first.Missing.Concat(rest.Missing));
        Assert.Equal(before.Late, first.Late.Concat(rest.Late));
        Assert.Equal((before.NodeCount, before.MissingCount, before.LateCount), (rest.NodeCount, rest.MissingCount, rest.LateCount));

        var after = await AllPages.GetCompletenessAsync(_tree.Root.Query, new GetCompletenessRequest { NodeId = County, Period = Quarter, PageSize = 3 }, static () => new CallOptions(deadline: Rpc.Deadline()));
        Assert.DoesNotContain(after.Missing, l => l.UnitId == latecomer);
        Assert.Contains(after.Late, l => l.UnitId == latecomer);
        Assert.Equal((after.MissingCount, after.LateCount), ((uint)after.Missing.Count, (uint)after.Late.Count));
        _tree.AssertNoErrors();
    }

    [Fact]
    public async Task GetCompleteness_TokenWithAnotherNodeOrPeriod_RefusedAndTheListingReadsOn()
    {
        var first = await _tree.Root.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = Quarter, PageSize = 5 }, deadline: Rpc.Deadline());

        await Rpc.FailsAsync(async () => await _tree.Root.Query.GetCompletenessAsync(
            new GetCompletenessRequest { Period = "2026-Q2", PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        await Rpc.FailsAsync(async () => await _tree.Root.Query.GetCompletenessAsync(
            new GetCompletenessRequest { NodeId = County, Period = Quarter, PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        await Rpc.FailsAsync(async () => await _tree.Root.Query.GetTargetsAsync(
            new GetTargetsRequest { Period = Quarter, PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");

        var rest = await AllPages.GetCompletenessAsync(_tree.Root.Query, new GetCompletenessRequest { Period = Quarter, PageSize = 5, PageToken = first.NextPageToken },
            static () => new CallOptions(deadline: Rpc.Deadline()));
        Assert.Equal(first.NodeCount, (uint)(first.Nodes.Count + rest.Nodes.Count));
        Assert.Equal(first.MissingCount + first.LateCount, (uint)(first.Missing.Count + rest.Missing.Count + first.Late.Count + rest.Late.Count));
    }

    [Fact]
    public async Task GetTargets_Paged_EachTargetsLaggingUnitsConcatenateToItsWholeList()
    {
        var whole = await _tree.Root.Query.GetTargetsAsync(new GetTargetsRequest { Period = Quarter, PageSize = 10_000 }, deadline: Rpc.Deadline());
        var venue = whole.Targets.Single(static t => t.Indicator.Id == "venue_up_to_standard");
        Assert.NotEmpty(venue.LaggingUnitIds);
        Assert.Equal((uint)venue.LaggingUnitIds.Count, venue.LaggingUnitCount);
        Assert.Equal((uint)whole.Targets.SelectMany(static t => t.LaggingUnitIds).Distinct().Count(), whole.LaggingUnitCount);

        var pages = new List<GetTargetsResponse>();
        var request = new GetTargetsRequest { Period = Quarter, PageSize = 2 };
        do
        {
            var page = await _tree.Root.Query.GetTargetsAsync(request, deadline: Rpc.Deadline());
            pages.Add(page);
            Assert.InRange(page.Targets.SelectMany(static t => t.LaggingUnitIds).Distinct().Count(), 1, 2);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        Assert.True(pages.Count > 1);
        foreach (var target in whole.Targets)
        {
            var own = pages.Select(p => p.Targets.Single(t => t.Indicator.Id == target.Indicator.Id)).ToList();
            Assert.Equal(target.LaggingUnitIds, own.SelectMany(static t => t.LaggingUnitIds));
            Assert.All(own, t => Assert.Equal((target.Value, target.Attainment, target.LaggingUnitCount), (t.Value, t.Attainment, t.LaggingUnitCount)));
        }

        var followed = await AllPages.GetTargetsAsync(_tree.Root.Query, new GetTargetsRequest { Period = Quarter, PageSize = 3 }, static () => new CallOptions(deadline: Rpc.Deadline()));
        Assert.Equal(whole.Targets, followed.Targets);
    }

    [Fact]
    public async Task GetDrillDown_PagedWithACorrectionBetweenPages_RowsInTheFirstPagesRankOrder()
    {
        var ask = new GetDrillDownRequest { NodeId = Hosting, Period = Quarter, SortIndicatorId = "party_members", Descending = true };
        var whole = await _tree.Root.Query.GetDrillDownAsync(new GetDrillDownRequest(ask) { PageSize = 1000 }, deadline: Rpc.Deadline());
        Assert.Equal(string.Empty, whole.NextPageToken);
        Assert.Equal((uint)HostedCount, whole.RowCount);
        Assert.Equal(Enumerable.Range(1, 20).Select(static r => (uint)r).Append(21u), whole.Rows.Select(static r => r.Rank).Distinct());

        var first = await _tree.Root.Query.GetDrillDownAsync(new GetDrillDownRequest(ask) { PageSize = 4 }, deadline: Rpc.Deadline());
        var corrected = whole.Rows[5].SourceId;
        await _tree[Hosting].Reporting.SubmitReportAsync(new SubmitReportRequest(Report(corrected, 1)) { Mode = SubmitMode.Replace }, deadline: Rpc.Deadline());
        var rest = await AllPages.GetDrillDownAsync(_tree.Root.Query, new GetDrillDownRequest(ask) { PageSize = 4, PageToken = first.NextPageToken },
            static () => new CallOptions(deadline: Rpc.Deadline()));

        Assert.Equal(4, first.Rows.Count);
        Assert.Equal(whole.Rows, first.Rows.Concat(rest.Rows));
        await Rpc.FailsAsync(async () => await _tree.Root.Query.GetDrillDownAsync(
            new GetDrillDownRequest(ask) { Descending = false, PageToken = first.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
    }

    [Fact]
    public async Task GetHistory_PastTheOld240PointCap_EveryPeriodOnExactlyOnePage()
    {
        var ask = new GetHistoryRequest { IndicatorId = "party_members", FromPeriod = "2000-01", ToPeriod = "2026-12" };
        var byDefault = await _tree.Root.Query.GetHistoryAsync(ask, deadline: Rpc.Deadline());
        Assert.Equal(240, byDefault.Points.Count);
        Assert.NotEqual(string.Empty, byDefault.NextPageToken);

        var all = await AllPages.GetHistoryAsync(_tree.Root.Query, ask, static () => new CallOptions(deadline: Rpc.Deadline()));
        var small = await AllPages.GetHistoryAsync(_tree.Root.Query, new GetHistoryRequest(ask) { PageSize = 50 }, static () => new CallOptions(deadline: Rpc.Deadline()));

        Assert.Equal(27 * 12, all.Points.Count);
        Assert.Equal("2000-01", all.Points[0].Period);
        Assert.Equal("2026-12", all.Points[^1].Period);
        Assert.Equal(all.Points.Count, all.Points.Select(static p => p.Period).Distinct().Count());
        Assert.Equal(all.Points, small.Points);
        Assert.Equal(string.Empty, all.NextPageToken);

        await Rpc.FailsAsync(async () => await _tree.Root.Query.GetHistoryAsync(
            new GetHistoryRequest(ask) { IndicatorId = "reserve_cadres", PageToken = byDefault.NextPageToken }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        await Rpc.FailsAsync(async () => await _tree.Root.Query.GetHistoryAsync(
            new GetHistoryRequest(ask) { PageToken = byDefault.NextPageToken[..^2] }, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        var again = await _tree.Root.Query.GetHistoryAsync(new GetHistoryRequest(ask) { PageToken = byDefault.NextPageToken }, deadline: Rpc.Deadline());
        Assert.Equal(all.Points.Skip(240), again.Points);
    }

    [Fact]
    public async Task HistoryCommand_MoreThanOnePageOfPeriods_PrintsEveryPeriod()
    {
        var printed = await Cli.RunAsync("history", "--node", _tree.Root.Address, "--token", _tree.Root.Tokens.Reader, "--ca", TestPki.CaPath,
            "--indicator", "party_members", "--from", "1949-Q1", "--to", "2299-Q4", "--lang", "en");

        // 1,404 quarters: more than the 1,000 points of one page.
        Assert.True(printed.ExitCode == 0, printed.StandardError);
        var rows = printed.StandardOutput.Split('\n').Where(static l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\b\d{4}-Q\d\b")).ToList();
        Assert.Equal(1404, rows.Count);
        Assert.Contains("1949-Q1", rows[0], StringComparison.Ordinal);
        Assert.Contains("2299-Q4", rows[^1], StringComparison.Ordinal);
        Assert.Contains("/33", rows.Single(static r => r.Contains("2026-Q1", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompletenessCommand_Json_SameListsAsThePagesReadOneByOne()
    {
        var printed = await Cli.RunAsync("completeness", "--node", _tree.Root.Address, "--token", _tree.Root.Tokens.Reader, "--ca", TestPki.CaPath,
            "--period", Quarter, "--json");
        var whole = await AllPages.GetCompletenessAsync(_tree.Root.Query, new GetCompletenessRequest { Period = Quarter, PageSize = 2 }, static () => new CallOptions(deadline: Rpc.Deadline()));

        Assert.True(printed.ExitCode == 0, printed.StandardError);
        var parsed = JsonParser.Default.Parse<GetCompletenessResponse>(printed.StandardOutput);
        Assert.Equal(whole.Missing.Select(static l => l.UnitId), parsed.Missing.Select(static l => l.UnitId));
        Assert.Equal(whole.Nodes.Select(static n => n.NodeId), parsed.Nodes.Select(static n => n.NodeId));
    }
}
