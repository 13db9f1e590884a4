using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>The leaders' commands as people read them: one language at a time, names beside codes, JSON everywhere.</summary>
public sealed class LeaderCliTests : IAsyncLifetime
{
    private const string Township = "370113001";
    private const string East = "370113001001";
    private const string West = "370113001002";
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    public async Task InitializeAsync()
    {
        var shape = new TreeNode("3701", "city", [new TreeNode("370113", "county", [new TreeNode(Township, "township", [])])]);
        _tree = await TestHierarchy.StartAsync(_folder, shape);
        var township = _tree[Township];
        foreach (var (id, name) in new[] { (East, "东村"), (West, "西村") })
        {
            await township.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = id, DisplayName = name }, deadline: Rpc.Deadline());
        }

        await township.Reporting.SubmitReportAsync(new SubmitReportRequest
        {
            UnitId = East, Period = "2026-Q1",
            Values =
            {
                Reports.Count("satisfaction_surveyed", 100), Reports.Count("satisfaction_satisfied", 70),
                Reports.Category("classification_grade", "fairly_good"), Reports.Count("party_members", 40),
            },
        }, deadline: Rpc.Deadline());
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, "2026-Q1", static t => t.Coverage.ReportedLeafCount == 1, "the city to have the report");
    }

    public async Task DisposeAsync()
    {
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    private string[] AsReader(params string[] args) => [.. args, "--node", _tree.Root.Address, "--token", _tree.Root.Tokens.Reader, "--ca", TestPki.CaPath];

    [Fact]
    public async Task Totals_InChineseThenEnglish_OneLanguageEachWithCategoryNames()
    {
        var zh = await Cli.RunAsync(AsReader("totals", "--period", "2026-Q1", "--of", Township, "--lang", "zh"));
        var en = await Cli.RunAsync(AsReader("totals", "--period", "2026-Q1", "--of", Township, "--lang", "en"));

        Assert.True(zh.ExitCode == 0, zh.StandardError);
        // The township reports for itself too (it has no children in this tree), so three units are expected.
        Assert.Contains("已报 1/3 个单位", zh.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("较好 1", zh.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("满意度", zh.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Satisfaction rate", zh.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("fairly_good", zh.StandardOutput, StringComparison.Ordinal);
        Assert.True(en.ExitCode == 0, en.StandardError);
        Assert.Contains("Fairly good 1", en.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("1/3 units reported", en.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("满意度", en.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drill_ByAChineseName_RanksWithNamesBesideCodes()
    {
        var ranked = await Cli.RunAsync(AsReader("drill", "--period", "2026-Q1", "--of", Township, "--sort", "满意度", "--lang", "zh"));
        var byDefault = await Cli.RunAsync(AsReader("drill", "--period", "2026-Q1", "--of", Township, "--lang", "en"));
        var unknown = await Cli.RunAsync(AsReader("drill", "--period", "2026-Q1", "--sort", "幸福指数", "--lang", "zh"));

        Assert.True(ranked.ExitCode == 0, ranked.StandardError);
        Assert.Contains("按满意度排名", ranked.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{East} 东村", ranked.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("70/100 (70.0 %)", ranked.StandardOutput, StringComparison.Ordinal);
        Assert.True(byDefault.ExitCode == 0, byDefault.StandardError);
        Assert.Contains("most targets missed first", byDefault.StandardOutput, StringComparison.Ordinal);
        Assert.True(byDefault.StandardOutput.IndexOf(East, StringComparison.Ordinal) < byDefault.StandardOutput.IndexOf(West, StringComparison.Ordinal),
            "the village short of the satisfaction target ranks above the one with nothing to judge");
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith("错误 指标目录中没有“幸福指数”", Assert.Single(unknown.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completeness_InChinese_NamesTheUnitsNotReported()
    {
        var result = await Cli.RunAsync(AsReader("completeness", "--period", "2026-Q1", "--lang", "zh"));

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("未报：", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{West} 西村", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("应报", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PullStatusAndIdentity_WithJson_PrintProtoJson()
    {
        var pull = await Cli.RunAsync(AsReader("pull", "--period", "2026-Q1", "--timeout", "30", "--json"));
        var identity = await Cli.RunAsync(AsReader("identity", "--json"));
        var status = await Cli.RunAsync("status", "--json", "--node", _tree.Root.Address, "--token", _tree.Root.Tokens.Admin, "--ca", TestPki.CaPath);

        Assert.True(pull.ExitCode == 0, pull.StandardError);
        Assert.Equal(1u, GetTotalsResponse.Parser.WithDiscardUnknownFields(true).ParseJson(pull.StandardOutput).Coverage.ReportedLeafCount);
        Assert.True(identity.ExitCode == 0, identity.StandardError);
        Assert.Equal("3701", GetIdentityResponse.Parser.ParseJson(identity.StandardOutput).NodeId);
        Assert.True(status.ExitCode == 0, status.StandardError);
        Assert.Equal("3701", GetStatusResponse.Parser.ParseJson(status.StandardOutput).NodeId);
    }

    [Fact]
    public async Task Refusal_InChinese_IsOneLineWithTheReasonAndItsMeaning()
    {
        var refused = await Cli.RunAsync(AsReader("totals", "--period", "2026-Q5", "--lang", "zh"));

        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("错误 InvalidArgument MALFORMED_PERIOD（期别格式不对", line, StringComparison.Ordinal);
    }
}
