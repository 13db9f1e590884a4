using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>A report is the whole of a unit's figures: strict, replace and update corrections, required indicators and rules, on a 3-tier tree.</summary>
public sealed class ReportRulesTests : IAsyncLifetime
{
    private const string Quarter = "2026-Q1";
    private const string Village = "370113001001";
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    private static IndicatorValue[] FirstReport =>
    [
        Reports.Count("party_members", 40),
        Reports.Count("committee_posts", 2),
        Reports.Count("reserve_cadres", 3),
        Reports.Count("members_developed", 3),
        Reports.Count("members_developed_under35", 2),
    ];

    public async Task InitializeAsync()
    {
        var shape = new TreeNode("3701", "city", [new TreeNode("370113", "county", [new TreeNode(Village, "village", [])])]);
        _tree = await TestHierarchy.StartAsync(_folder, shape);
        await _tree.SubmitAsync(Village, Quarter, FirstReport);
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the city to cover the village");
    }

    public async Task DisposeAsync()
    {
        _tree.AssertNoErrors();
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task SubmitReport_OneFieldCorrectionWithoutMode_IsRefusedNamingTheFieldsItWouldDrop()
    {
        var status = await Rpc.FailsAsync(
            () => SubmitAsync(SubmitMode.Unspecified, Reports.Count("party_members", 41)), StatusCode.FailedPrecondition, "FIELDS_DROPPED");

        Assert.Equal("values", Rpc.ViolatedField(status));
        foreach (var dropped in new[] { "committee_posts", "members_developed", "members_developed_under35", "reserve_cadres" })
        {
            Assert.Contains($"'{dropped}'", status.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("'party_members'", status.Message, StringComparison.Ordinal);
        var stored = await GetReportAsync();
        Assert.Equal(1ul, stored.Report.Version);
        Assert.Equal(40, stored.Report.Values.Single(static v => v.IndicatorId == "party_members").Count);
    }

    [Fact]
    public async Task SubmitReport_UpdateOneField_ChangesOnlyThatFieldAtEveryTier()
    {
        var ack = await SubmitAsync(SubmitMode.Update, Reports.Count("party_members", 41));

        var change = Assert.Single(ack.Changes);
        Assert.Equal("party_members", change.IndicatorId);
        Assert.Equal(40, change.Old.Count);
        Assert.Equal(41, change.New.Count);
        var stored = await GetReportAsync();
        Assert.Equal(2ul, stored.Report.Version);
        Assert.Equal(FirstReport.Select(static v => v.IndicatorId).Order(StringComparer.Ordinal), stored.Report.Values.Select(static v => v.IndicatorId));
        foreach (var node in new[] { _tree[Village], _tree["370113"], _tree.Root })
        {
            var totals = await TestHierarchy.WaitForTotalsAsync(node, Quarter, static t => Total(t, "party_members") == 41, $"{node.Id} to show the update");
            Assert.Equal(3, Total(totals, "reserve_cadres"));
            Assert.Equal(2, Total(totals, "committee_posts"));
            Assert.Equal(3, Total(totals, "members_developed"));
            Assert.Equal(1u, Unit(totals, "reserve_cadres"));
        }
    }

    [Fact]
    public async Task SubmitReport_Replace_DropsOmittedFieldsAndShowsThemRemoved()
    {
        var ack = await SubmitAsync(SubmitMode.Replace, Reports.Count("party_members", 40), Reports.Count("applicants", 5));

        Assert.Equal(
            ["applicants", "committee_posts", "members_developed", "members_developed_under35", "reserve_cadres"],
            ack.Changes.Select(static c => c.IndicatorId));
        Assert.Null(ack.Changes[0].Old);
        Assert.Equal(5, ack.Changes[0].New.Count);
        Assert.All(ack.Changes.Skip(1), static c => Assert.Null(c.New));
        var city = await TestHierarchy.WaitForTotalsAsync(_tree.Root, Quarter, static t => Unit(t, "reserve_cadres") == 0, "the city to drop reserve cadres");
        Assert.Equal(40, Total(city, "party_members"));
        Assert.Equal(5, Total(city, "applicants"));
    }

    [Fact]
    public async Task SubmitReport_UnknownMode_IsRefusedAndChangesNothing()
    {
        var status = await Rpc.FailsAsync(
            () => SubmitAsync((SubmitMode)7, Reports.Count("party_members", 41)), StatusCode.InvalidArgument, "MALFORMED_REQUEST");

        Assert.Equal("mode", Rpc.ViolatedField(status));
        Assert.Equal(1ul, (await GetReportAsync()).Report.Version);
    }

    [Fact]
    public async Task SubmitReport_UpdateBreakingAnErrorRule_IsRefusedNamingTheRule()
    {
        var status = await Rpc.FailsAsync(
            () => SubmitAsync(SubmitMode.Update, Reports.Count("members_developed", 1)), StatusCode.InvalidArgument, "RULE_VIOLATED");

        Assert.Contains("under35_at_most_developed", status.Message, StringComparison.Ordinal);
        Assert.Contains("members_developed_under35", status.Message, StringComparison.Ordinal);
        Assert.Equal(1ul, (await GetReportAsync()).Report.Version);
    }

    [Fact]
    public async Task SubmitReport_YearReportMissingRequired_IsRefusedListingThem()
    {
        var request = new SubmitReportRequest { UnitId = Village, Period = "2026", Values = { Reports.Count("party_members", 40) } };

        var status = await Rpc.FailsAsync(
            async () => await _tree[Village].Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MISSING_REQUIRED");

        foreach (var missing in new[] { "secretary_college_degree", "secretary_age", "committee_posts", "reserve_cadres" })
        {
            Assert.Contains($"'{missing}'", status.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("'party_members'", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitReport_BreakingAWarningRule_IsStoredWithTheWarningAndListedForReviewers()
    {
        var ack = await SubmitAsync(SubmitMode.Update, Reports.Count("committee_posts", 7));

        var warning = Assert.Single(ack.Warnings);
        Assert.Equal("reserve_at_least_posts", warning.RuleId);
        Assert.Equal(["reserve_cadres", "committee_posts"], warning.IndicatorIds);
        Assert.Contains("3 / 7", warning.MessageEn, StringComparison.Ordinal);
        Assert.Equal(warning, Assert.Single((await GetReportAsync()).Warnings));
        var reviewer = new ReportingService.ReportingServiceClient(_tree[Village].ChannelWith(_tree[Village].Tokens.Reviewer));
        var flags = await reviewer.ListFlagsAsync(new ListFlagsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        var flag = Assert.Single(flags.Flags);
        Assert.Equal((Village, "reserve_cadres", 3L, FlagKind.RuleWarning, "reserve_at_least_posts"), (flag.UnitId, flag.IndicatorId, flag.Value, flag.Kind, flag.RuleId));
        Assert.False(string.IsNullOrEmpty(flag.MessageZh));
    }

    [Fact]
    public async Task SubmitCommand_UpdateAndStrict_PrintTheDiffInEitherLanguageOrTheRefusal()
    {
        var file = Path.Combine(_folder.Sub("cli"), "report.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """{"party_members": 42}""");
        string[] common = ["submit", "--node", _tree[Village].Address, "--unit", Village, "--period", Quarter, "--file", file,
            "--token", _tree[Village].Tokens.Clerk, "--ca", TestPki.CaPath];

        var english = await Cli.RunAsync([.. common, "--update", "--lang", "en"]);
        await File.WriteAllTextAsync(file, """{"party_members": 43}""");
        var chinese = await Cli.RunAsync([.. common, "--update", "--lang", "zh"]);
        var strict = await Cli.RunAsync(common);

        Assert.True(english.ExitCode == 0, english.StandardError);
        Assert.Contains("stored as version 2", english.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Party members [party_members]: 40 → 42", english.StandardOutput, StringComparison.Ordinal);
        Assert.True(chinese.ExitCode == 0, chinese.StandardError);
        Assert.Contains("已保存为第 3 版", chinese.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("党员数 [party_members]: 42 → 43", chinese.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains("'reserve_cadres'", strict.StandardError, StringComparison.Ordinal);
    }

    private static long Total(GetTotalsResponse totals, string id) => totals.Totals.Single(t => t.Indicator.Id == id).Aggregate.Total;

    private static uint Unit(GetTotalsResponse totals, string id) => totals.Totals.Single(t => t.Indicator.Id == id).Aggregate.UnitCount;

    private async Task<SubmitReportResponse> SubmitAsync(SubmitMode mode, params IndicatorValue[] values) =>
        await _tree[Village].Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = Village, Period = Quarter, Mode = mode, Values = { values } }, deadline: Rpc.Deadline());

    private async Task<GetReportResponse> GetReportAsync() =>
        await _tree[Village].Reporting.GetReportAsync(new GetReportRequest { UnitId = Village, Period = Quarter }, deadline: Rpc.Deadline());
}
