using Federation.Node.Rollup;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>Hosted units renamed (on request only, the former name kept), retired from a period on, and listed.</summary>
public sealed class UnitHousekeepingTests
{
    private const string Township = "370113001";
    private const string UnitOne = "370113001001";
    private const string UnitTwo = "370113001002";
    private const string UnitThree = "370113001003";

    [Fact]
    public async Task AddHostedUnit_ExistingIdWithAnotherName_IsRefusedUnlessRename()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township"), folder.Sub(Township));
        await node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = UnitOne, DisplayName = "East village" }, deadline: Rpc.Deadline());
        await node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = UnitOne, DisplayName = "East village" }, deadline: Rpc.Deadline());

        await Rpc.FailsAsync(
            async () => await node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = UnitOne, DisplayName = "Dongcun" }, deadline: Rpc.Deadline()),
            StatusCode.AlreadyExists, "ID_IN_USE");
        await node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = UnitOne, DisplayName = "Dongcun", Rename = true }, deadline: Rpc.Deadline());

        var listed = await Lister(node, node.Tokens.Admin).ListUnitsAsync(new ListUnitsRequest(), deadline: Rpc.Deadline());
        var unit = Assert.Single(listed.Units);
        Assert.Equal("Dongcun", unit.DisplayName);
        Assert.Equal(["East village"], unit.FormerDisplayNames);
        Assert.Equal(UnitEntryKind.HostedUnit, unit.Kind);
    }

    [Fact]
    public async Task RetiredUnit_IsMissingBeforeItsRetirementOnly_AndKeepsItsPastReport()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne, UnitTwo] }, folder.Sub(Township));
        await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = UnitOne, Period = "2026-Q1", Values = { Reports.Count("party_members", 9) } }, deadline: Rpc.Deadline());

        // Checked as active once before it retires, so that a retirement the submissions' check does not see would show.
        await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = UnitTwo, Period = "2025-Q3", Values = { Reports.Count("party_members", 3) } }, deadline: Rpc.Deadline());
        await node.Admin.RetireHostedUnitAsync(new RetireHostedUnitRequest { UnitId = UnitTwo, FromPeriod = "2026-Q1" }, deadline: Rpc.Deadline());
        await node.Admin.RetireHostedUnitAsync(new RetireHostedUnitRequest { UnitId = UnitOne, FromPeriod = "2026-Q2" }, deadline: Rpc.Deadline());

        var first = await node.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = "2026-Q1" }, deadline: Rpc.Deadline());
        Assert.Empty(first.Missing);
        var totals = await TestHierarchy.WaitForTotalsAsync(node, "2026-Q1", static t => t.Coverage.ExpectedLeafCount == 1, "the retirement in the summary");
        Assert.Equal(1u, totals.Coverage.ReportedLeafCount);
        var year = await node.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = "2025-Q4" }, deadline: Rpc.Deadline());
        Assert.Equal([UnitOne, UnitTwo], year.Missing.Select(static m => m.UnitId));
        var later = await node.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = "2026-Q2" }, deadline: Rpc.Deadline());
        Assert.Empty(later.Missing);
        var report = await node.Reporting.GetReportAsync(new GetReportRequest { UnitId = UnitOne, Period = "2026-Q1" }, deadline: Rpc.Deadline());
        Assert.Equal(9, report.Report.Values.Single().Count);
        var listed = await Lister(node, node.Tokens.Reader).ListUnitsAsync(new ListUnitsRequest(), deadline: Rpc.Deadline());
        Assert.Equal(["2026-Q2", "2026-Q1"], listed.Units.Select(static u => u.RetiredFromPeriod));

        // Not expected from its retirement on, so it reports nothing more; earlier periods still take its report.
        await Rpc.FailsAsync(
            async () => await node.Reporting.SubmitReportAsync(
                new SubmitReportRequest { UnitId = UnitTwo, Period = "2026-Q1", Values = { Reports.Count("party_members", 4) } }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_UNIT");
        var earlier = await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = UnitTwo, Period = "2025-Q4", Values = { Reports.Count("party_members", 4) } }, deadline: Rpc.Deadline());
        Assert.Equal(1ul, earlier.Version);
    }

    [Fact]
    public async Task RetireHostedUnit_WhileThePeriodsFirstSummaryIsBuilt_TheSummaryFollowsTheRetirement()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub(Township);
        var building = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var retired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var paused = 0;
        RebuildScheduler.BeforeKeep[dataPath] = async period =>
        {
            // Only the first rebuild of the quarter waits: it was built from inputs read before the retirement.
            if (period == "2026-Q1" && Interlocked.Exchange(ref paused, 1) == 0)
            {
                building.SetResult();
                await retired.Task;
            }
        };
        try
        {
            await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne, UnitTwo] }, dataPath);
            await node.Reporting.SubmitReportAsync(
                new SubmitReportRequest { UnitId = UnitOne, Period = "2026-Q1", Values = { Reports.Count("party_members", 9) } }, deadline: Rpc.Deadline());
            await building.Task.WaitAsync(Eventually.HangGuard);

            await node.Admin.RetireHostedUnitAsync(new RetireHostedUnitRequest { UnitId = UnitTwo, FromPeriod = "2026-Q1" }, deadline: Rpc.Deadline());
            retired.SetResult();

            var totals = await TestHierarchy.WaitForTotalsAsync(node, "2026-Q1", static t => t.Coverage.ExpectedLeafCount == 1, "the retirement in the first summary");
            Assert.Equal(1u, totals.Coverage.ReportedLeafCount);
            Assert.Empty(totals.Coverage.SilentSourceIds);
        }
        finally
        {
            retired.TrySetResult();
            RebuildScheduler.BeforeKeep.TryRemove(dataPath, out _);
        }
    }

    [Fact]
    public async Task ListUnits_Paged_ReturnsEveryUnitOnceWithItsReviewState()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne, UnitTwo, UnitThree] }, folder.Sub(Township));
        await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = UnitTwo, Period = "2026-Q1", Values = { Reports.Count("party_members", 9) } }, deadline: Rpc.Deadline());
        await new ReviewService.ReviewServiceClient(node.ChannelWith(node.Tokens.Reviewer)).ApproveReportAsync(
            new ApproveReportRequest { UnitId = UnitTwo, Period = "2026-Q1" }, deadline: Rpc.Deadline());
        var lister = Lister(node, node.Tokens.Reviewer);

        var seen = new List<UnitEntry>();
        var token = string.Empty;
        do
        {
            var page = await lister.ListUnitsAsync(new ListUnitsRequest { PageSize = 2, PageToken = token, Period = "2026-Q1" }, deadline: Rpc.Deadline());
            Assert.True(page.Units.Count <= 2);
            seen.AddRange(page.Units);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        Assert.Equal([UnitOne, UnitTwo, UnitThree], seen.Select(static u => u.Id));
        Assert.Equal([ReviewStatus.NotSubmitted, ReviewStatus.Approved, ReviewStatus.NotSubmitted], seen.Select(static u => u.ReviewStatus));
        var narrow = await node.IssueTokenAsync(Role.Reader, UnitOne, account: "reader-unit-one");
        await Rpc.FailsAsync(async () => await Lister(node, narrow).ListUnitsAsync(new ListUnitsRequest(), deadline: Rpc.Deadline()), StatusCode.PermissionDenied, "OUT_OF_SCOPE");
    }

    private static ReviewService.ReviewServiceClient Lister(TestNode node, string token) => new(node.ChannelWith(token));
}
