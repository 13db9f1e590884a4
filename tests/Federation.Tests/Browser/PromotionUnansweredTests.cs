using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Browser;

/// <summary>
/// The promotion page when a node below is down: the node is listed with the units below it, which are
/// counted nowhere, neither as moved up nor as not moved.
/// </summary>
[Collection(WebHierarchyCollection.Name)]
[Trait("Category", "Browser")]
public sealed class PromotionUnansweredTests(WebHierarchyFixture fixture) : IAsyncLifetime
{
    private const string Township = "370198001";
    private const string Hosted = "370198001001";
    private const string Up = "370198001002";
    private const string Down = "370198001003";
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    public async Task InitializeAsync()
    {
        _tree = await TestHierarchy.StartAsync(_folder, new TreeNode(Township, "township",
        [
            new(Up, "village", []) { DisplayName = "上村" },
            new(Down, "village", []) { DisplayName = "下村" },
        ]) { DisplayName = "晋位街道", HostedUnits = [(Hosted, "本村")] });
        foreach (var (unit, host) in new[] { (Hosted, Township), (Up, Up), (Down, Down) })
        {
            foreach (var (year, grade) in new[] { (WebHierarchyFixture.PreviousYear, "average"), (WebHierarchyFixture.RatedYear, "average") })
            {
                // A year report needs the year's required indicators beside the grade.
                IndicatorValue[] values =
                [
                    Reports.Count("party_members", 20), Reports.Flag("secretary_college_degree", true), Reports.Measure("secretary_age", 45),
                    Reports.Count("committee_posts", 5), Reports.Count("reserve_cadres", 5), Reports.Category("classification_grade", grade),
                ];
                await _tree[host].Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = unit, Period = year, Values = { values } }, deadline: Rpc.Deadline());
            }
        }

        await TestHierarchy.WaitForTotalsAsync(_tree.Root, WebHierarchyFixture.RatedYear, static t => t.Coverage.ReportedLeafCount == 3, "the township to hold all three grades");
        await _tree[Down].StopAsync();
    }

    public async Task DisposeAsync()
    {
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Promotion_WithAVillageDown_ListsItWithItsUnitsAndCountsOnlyTheOthers()
    {
        await using var context = await fixture.ContextAsync();
        var page = await WebHierarchyFixture.LogInWithTokenAsync(context, _tree.Root, _tree.Root.Tokens.Reader,
            $"/promotion?from={WebHierarchyFixture.PreviousYear}&to={WebHierarchyFixture.RatedYear}");

        Assert.Equal("1 个下级节点未应答，其下 1 个单位未计入（既不算晋位，也不算未晋位）。", (await page.InnerTextAsync("#unanswered-line")).Trim());
        Assert.Equal([Down, "1"], (await page.Locator($"#table-unanswered tr[data-key='{Down}'] td").AllInnerTextsAsync()).Select(static c => c.Trim()));
        Assert.Equal("2", (await page.Locator("#table-grades tr[data-key='average'] td").Nth(1).InnerTextAsync()).Trim());
        Assert.Equal([Hosted, Up], await page.Locator("#table-not-moved tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.key)"));
        await WebHierarchyFixture.ScreenshotAsync(page, "23-promotion-node-down");
    }
}
