using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Browser;

/// <summary>
/// The completeness page when a node below is down: the node is marked as not answering, with the time
/// its figures are from or "unknown", and its units are counted as unknown beside the missing list.
/// </summary>
[Collection(WebHierarchyCollection.Name)]
[Trait("Category", "Browser")]
public sealed class CompletenessStaleTests(WebHierarchyFixture fixture) : IAsyncLifetime
{
    private const string Township = "370199001";
    private const string Up = "370199001001";
    private const string Down = "370199001002";
    private const string Silent = "370199001003";
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    public async Task InitializeAsync()
    {
        _tree = await TestHierarchy.StartAsync(_folder, new TreeNode(Township, "township",
        [
            new(Up, "village", []) { DisplayName = "上村" },
            new(Down, "village", []) { DisplayName = "下村" },
            new(Silent, "village", []) { DisplayName = "静村" },
        ]) { DisplayName = "测试街道" });
        await _tree.SubmitAsync(Up, WebHierarchyFixture.Quarter, [Reports.Count("party_members", 30)]);
        await _tree.SubmitAsync(Down, WebHierarchyFixture.Quarter, [Reports.Count("party_members", 20)]);
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, WebHierarchyFixture.Quarter, static t => t.Coverage.ReportedLeafCount == 2, "the township to hold both reports");
        await _tree[Down].StopAsync();
        await _tree[Silent].StopAsync();
    }

    public async Task DisposeAsync()
    {
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Completeness_WithNodesDown_MarksThemAndCountsTheirUnitsAsUnknown()
    {
        await using var context = await fixture.ContextAsync();
        var page = await WebHierarchyFixture.LogInWithTokenAsync(context, _tree.Root, _tree.Root.Tokens.Reader, "/completeness?period=" + WebHierarchyFixture.Quarter);

        Assert.Contains("未应答，截至", await page.Locator($"#table-nodes tr[data-key='{Down}']").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("未应答，状态未知", await page.Locator($"#table-nodes tr[data-key='{Silent}']").InnerTextAsync(), StringComparison.Ordinal);
        // The village that never sent anything is one unit of unknown standing, beside the API's missing list.
        Assert.Equal("1", (await page.Locator($"#table-unknown tr[data-key='{Silent}'] td").Nth(2).InnerTextAsync()).Trim());
        Assert.Contains("另有 1 个单位", await page.InnerTextAsync("#missing-summary"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator($"#table-unknown tr[data-key='{Down}']").CountAsync());
        Assert.Equal("fresh", await ContextFreshnessAsync(page));
        await WebHierarchyFixture.ScreenshotAsync(page, "16-completeness-nodes-down");
    }

    private static async Task<string> ContextFreshnessAsync(Microsoft.Playwright.IPage page)
    {
        await page.GotoAsync(page.Url + "&lang=en");
        return (await page.Locator($"#table-nodes tr[data-key='{Up}'] td").Last.InnerTextAsync()).Trim();
    }
}
