using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>ListFlags names exactly the generated outliers, against a unit's own history and against its siblings, and never refuses them.</summary>
public sealed class OutlierFlagTests : IAsyncLifetime
{
    private const string Township = "370113001";
    private static readonly string[] s_units = [.. Enumerable.Range(1, 8).Select(static i => $"{Township}{i:D3}")];
    private readonly TempFolder _folder = new();
    private TestNode _node = null!;

    public async Task InitializeAsync() =>
        _node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = s_units }, _folder.Sub(Township));

    public async Task DisposeAsync()
    {
        Assert.Empty(_node.Logs.Errors);
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task ListFlags_OneUnitFarFromItsSiblings_FlagsExactlyThatValue()
    {
        var rng = new Random(2026);
        var outlier = s_units[rng.Next(s_units.Length)];
        foreach (var unit in s_units)
        {
            await SubmitAsync(unit, "2026-Q1", unit == outlier ? 900 : rng.Next(40, 61), rng.Next(20, 31));
        }

        var flags = await ReviewerFlagsAsync("2026-Q1");

        var flag = Assert.Single(flags.Flags);
        Assert.Equal((outlier, "party_members", 900L, FlagKind.OutlierSiblings), (flag.UnitId, flag.IndicatorId, flag.Value, flag.Kind));
        Assert.True(flag.Score > 3.5, $"score {flag.Score}");
        Assert.Contains("党员数", flag.MessageZh, StringComparison.Ordinal);
        Assert.Contains("other units", flag.MessageEn, StringComparison.Ordinal);
        var printed = await Cli.RunAsync("flags", "--node", _node.Address, "--period", "2026-Q1", "--lang", "zh", "--token", _node.Tokens.Reviewer, "--ca", TestPki.CaPath);
        Assert.True(printed.ExitCode == 0, printed.StandardError);
        Assert.Contains($"{outlier} party_members: 党员数为900", printed.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListFlags_OneMonthFarFromTheUnitsOwnHistory_FlagsExactlyThatValue()
    {
        var rng = new Random(1949);
        var unit = s_units[0];
        for (var month = 1; month <= 6; month++)
        {
            await SubmitAsync(unit, $"2026-{month:D2}", rng.Next(40, 61), rng.Next(20, 31));
        }

        await SubmitAsync(unit, "2026-07", 45, 300);

        var flag = Assert.Single((await ReviewerFlagsAsync("2026-07")).Flags);
        Assert.Equal((unit, "training_attendances", 300L, FlagKind.OutlierHistory), (flag.UnitId, flag.IndicatorId, flag.Value, flag.Kind));
        Assert.Empty((await ReviewerFlagsAsync("2026-06")).Flags);
    }

    [Fact]
    public async Task ListFlags_PagedThreeAtATime_ListsEveryFlagOnceInOrder_AndTheCommandLineReadsEveryPage()
    {
        // Every unit breaks the reserve_at_least_posts warning rule; one is also far from its siblings: 9 flags.
        foreach (var (unit, i) in s_units.Select(static (u, i) => (u, i)))
        {
            await _node.Reporting.SubmitReportAsync(
                new SubmitReportRequest
                {
                    UnitId = unit,
                    Period = "2026-Q2",
                    Values = { Reports.Count("party_members", i == 3 ? 900 : 50 + i), Reports.Count("committee_posts", 7), Reports.Count("reserve_cadres", 3) },
                },
                deadline: Rpc.Deadline());
        }

        var reviewer = new ReportingService.ReportingServiceClient(_node.ChannelWith(_node.Tokens.Reviewer));
        var whole = await reviewer.ListFlagsAsync(new ListFlagsRequest { Period = "2026-Q2", PageSize = 1000 }, deadline: Rpc.Deadline());
        Assert.Equal(9, whole.Flags.Count);
        Assert.Equal((0u, string.Empty), (whole.OmittedCount, whole.NextPageToken));

        var paged = new List<ReviewFlag>();
        var request = new ListFlagsRequest { Period = "2026-Q2", PageSize = 3 };
        var following = new List<uint>();
        do
        {
            var page = await reviewer.ListFlagsAsync(request, deadline: Rpc.Deadline());
            Assert.True(page.Flags.Count <= 3);
            paged.AddRange(page.Flags);
            following.Add(page.OmittedCount);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        Assert.Equal(whole.Flags, paged);
        Assert.Equal([6u, 3u, 0u], following);
        Assert.Equal(whole.Flags, (await reviewer.ListFlagsAsync(new ListFlagsRequest { Period = "2026-Q2" }, deadline: Rpc.Deadline())).Flags);
        await Rpc.FailsAsync(
            async () => await reviewer.ListFlagsAsync(new ListFlagsRequest { Period = "2026-Q2", PageToken = "not a token" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "MALFORMED_REQUEST");

        var printed = await Cli.RunAsync("flags", "--node", _node.Address, "--period", "2026-Q2", "--page-size", "2", "--lang", "en", "--token", _node.Tokens.Reader, "--ca", TestPki.CaPath);
        Assert.True(printed.ExitCode == 0, printed.StandardError);
        Assert.Contains("9 flag(s)", printed.StandardOutput, StringComparison.Ordinal);
        Assert.All(s_units, u => Assert.Contains($"{u} reserve_cadres:", printed.StandardOutput, StringComparison.Ordinal));
    }

    private async Task SubmitAsync(string unit, string period, long members, long attendances) =>
        await _node.Reporting.SubmitReportAsync(
            new SubmitReportRequest
            {
                UnitId = unit,
                Period = period,
                Values = { Reports.Count("party_members", members), Reports.Count("training_attendances", attendances) },
            },
            deadline: Rpc.Deadline());

    private async Task<ListFlagsResponse> ReviewerFlagsAsync(string period) =>
        await new ReportingService.ReportingServiceClient(_node.ChannelWith(_node.Tokens.Reviewer))
            .ListFlagsAsync(new ListFlagsRequest { Period = period }, deadline: Rpc.Deadline());
}
