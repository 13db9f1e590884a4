using System.Globalization;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Microsoft.Playwright;
using MiniExcelLibs;
using static Federation.Tests.Browser.WebHierarchyFixture;

namespace Federation.Tests.Browser;

/// <summary>
/// The rectification ledger page (整改台账) in headless Chromium against real nodes: items listed at a township through
/// the API reach the city's page by drilling down, overdue ones marked, the counts those of GetTotals; a reviewer of
/// the tier above clears or sends back an item from the page and the signed history says so; the unit's own reviewer
/// is refused in one line. Each test lists its own items, so they hold in any order.
/// </summary>
[Collection(WebHierarchyCollection.Name)]
[Trait("Category", "Browser")]
public sealed class LedgerPageTests(WebHierarchyFixture fixture) : IAsyncLifetime
{
    private const string Dongcun = "370113001001";
    private const string Nancun = "370113001003";

    private TestNode CityNode => fixture.Hierarchy.Root;

    private TestNode Township => fixture.Hierarchy[Wenchang];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Whatever a person did on the page, no node logged an error.</summary>
    public Task DisposeAsync()
    {
        fixture.Hierarchy.AssertNoErrors();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Ledger_ItemsListedAtATownship_ReachTheCityByDrilling_OverdueMarked_CountsThoseOfGetTotals()
    {
        var clerk = Ledger(Township, Township.Tokens.Clerk);
        // A paper ledger entered late: its deadline had passed when it was listed, so it is overdue at once.
        var late = (await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Dongcun, Entry = Entry("venue", "活动室屋顶漏雨", "2026-02-28") }, deadline: Rpc.Deadline())).Item;
        var due = (await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Dongcun, Entry = Entry("funds", "村务公开栏未按月更新", "2099-06-30") }, deadline: Rpc.Deadline())).Item;
        Assert.Equal((true, false), (late.Overdue, due.Overdue));
        await SettledAsync();

        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, "/ledger?period=" + Quarter);
        await AssertCountsAsync(page, null);
        var county = page.Locator($"#table-below tr[data-key='{Changqing}'] td");
        Assert.Equal(Total(await TotalsAsync(Changqing), LedgerCount.Overdue).ToString("N0", CultureInfo.InvariantCulture), (await county.Nth(5).InnerTextAsync()).Trim());
        await ScreenshotAsync(page, "ledger-01-city");

        await page.ClickAsync("#table-below a:text-is('长清区')");
        await page.WaitForURLAsync(url => url.Contains("node=" + Changqing, StringComparison.Ordinal));
        await AssertCountsAsync(page, Changqing);
        await page.ClickAsync("#table-below a:text-is('文昌街道')");
        await page.WaitForURLAsync(url => url.Contains("node=" + Wenchang, StringComparison.Ordinal));
        await AssertCountsAsync(page, Wenchang);
        Assert.Contains("文昌街道", await page.InnerTextAsync("h1"), StringComparison.Ordinal);

        // The rows are the API's list of the township's items, read through the city, in its order.
        var reader = Ledger(CityNode, CityNode.Tokens.Reader);
        var listed = await reader.ListLedgerItemsAsync(new ListLedgerItemsRequest { NodeId = Wenchang, Period = Quarter, PageSize = 1000 }, deadline: Rpc.Deadline());
        Assert.Equal(listed.Items.Select(static i => i.UnitId + "/" + i.ItemId), await KeysAsync(page));
        var lateRow = page.Locator($"#table-items tr[data-key='{Dongcun}/{late.ItemId}']");
        Assert.Equal("overdue", await lateRow.GetAttributeAsync("class"));
        var cells = await lateRow.Locator("td").AllInnerTextsAsync();
        Assert.Equal(["东村", "阵地建设", "活动室屋顶漏雨", "2026-02-28", "未整改（逾期）"], [cells[1].Trim(), cells[3].Trim(), cells[4].Trim(), cells[6].Trim(), cells[8].Trim()]);
        var dueRow = page.Locator($"#table-items tr[data-key='{Dongcun}/{due.ItemId}']");
        Assert.Null(await dueRow.GetAttributeAsync("class"));
        Assert.Equal("未整改", (await dueRow.Locator("td").Nth(8).InnerTextAsync()).Trim());
        await ScreenshotAsync(page, "ledger-02-township-from-city");

        // Overdue only: exactly the API's overdue items, each marked.
        await page.CheckAsync("#overdue");
        await page.ClickAsync("form.picker button[type=submit]");
        await page.WaitForURLAsync(url => url.Contains("overdue=true", StringComparison.Ordinal));
        var overdue = await reader.ListLedgerItemsAsync(new ListLedgerItemsRequest { NodeId = Wenchang, Period = Quarter, OverdueOnly = true, PageSize = 1000 }, deadline: Rpc.Deadline());
        Assert.Equal(overdue.Items.Select(static i => i.UnitId + "/" + i.ItemId), await KeysAsync(page));
        Assert.Contains($"{Dongcun}/{late.ItemId}", await KeysAsync(page));
        foreach (var row in await page.Locator("#table-items tbody tr").AllAsync())
        {
            Assert.Equal("overdue", await row.GetAttributeAsync("class"));
        }

        await ScreenshotAsync(page, "ledger-03-overdue-only");

        // In English, and as it prints: no navigation, filters or links' forms, the table whole.
        await page.GotoAsync(page.Url + "&lang=en");
        Assert.Contains("rectification ledger", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        Assert.Equal("open (overdue)", (await page.Locator($"#table-items tr[data-key='{Dongcun}/{late.ItemId}'] td").Nth(8).InnerTextAsync()).Trim());
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        Assert.False(await page.IsVisibleAsync("nav.main"));
        Assert.False(await page.IsVisibleAsync("form.picker"));
        Assert.True(await page.IsVisibleAsync("#table-items"));
        await ScreenshotAsync(page, "ledger-04-print-en");
    }

    [Fact]
    public async Task Ledger_ReviewerAcceptsAReportedFixFromThePage_HistoryShowsAcceptedByThatAccount_SendBackNeedsAReason()
    {
        var clerk = Ledger(Township, Township.Tokens.Clerk);
        var cleared = await ListedWithFixAsync(clerk, Xicun, "主题党日记录不全", "已补齐本季度记录");
        var returned = await ListedWithFixAsync(clerk, Nancun, "“三会一课”台账缺页", "已补充会议记录");
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, Township, TownshipReviewer, TownshipReviewerPassword, "/ledger?period=" + Quarter);
        await ScreenshotAsync(page, "ledger-05-reviewer");

        // The same step posted with the session but without the form's antiforgery token is refused, and nothing is taken.
        var forged = await page.APIRequest.PostAsync($"{Township.Address}/ledger?period={Quarter}&handler=Accept", new APIRequestContextOptions
        {
            Form = page.APIRequest.CreateFormData().Set("step-unit", Xicun).Set("step-item", cleared.ItemId),
            MaxRedirects = 0,
        });
        Assert.Equal(400, forged.Status);
        Assert.Equal(LedgerItemStatus.FixReported, (await HistoryAsync(Xicun, cleared.ItemId)).Item.Status);

        await page.Locator($"#table-items tr[data-key='{Xicun}/{cleared.ItemId}'] button[name=accept]").ClickAsync();
        await page.WaitForSelectorAsync("#ledger-done");
        Assert.Equal($"已验收销号：{Xicun} 第 {cleared.ItemId} 项", (await page.InnerTextAsync("#ledger-done")).Trim());
        Assert.Equal("已销号", (await page.Locator($"#table-items tr[data-key='{Xicun}/{cleared.ItemId}'] td").Nth(8).InnerTextAsync()).Trim());
        var history = await Ledger(Township, Township.Tokens.Reader).GetLedgerHistoryAsync(
            new GetLedgerHistoryRequest { UnitId = Xicun, ItemId = cleared.ItemId }, deadline: Rpc.Deadline());
        Assert.Equal(LedgerItemStatus.Cleared, history.Item.Status);
        var key = (await Township.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        var verified = SignedMessages.VerifyLedgerStep(history.Steps[^1], key);
        Assert.True(verified.IsValid, verified.Message);
        Assert.Equal((LedgerStepKind.Accepted, TownshipReviewer, true, Wenchang, 3u),
            (verified.Value!.Kind, verified.Value.Account, verified.Value.ByTierAbove, verified.Value.NodeId, verified.Value.Sequence));

        // Sending back without a reason: the API refuses it, the page says so in one line, nothing changes.
        var row = page.Locator($"#table-items tr[data-key='{Nancun}/{returned.ItemId}']");
        Assert.NotNull(await row.Locator("textarea[name=reason]").GetAttributeAsync("required"));
        await row.Locator("textarea[name=reason]").FillAsync("   ");
        await row.Locator("button[name=send-back]").ClickAsync();
        await page.WaitForSelectorAsync(".problem");
        Assert.Equal("请填写理由。", (await page.InnerTextAsync(".problem")).Trim());
        Assert.Equal(1, await page.Locator(".problem").CountAsync());
        Assert.Equal(2u, (await HistoryAsync(Nancun, returned.ItemId)).Item.StepCount);
        await ScreenshotAsync(page, "ledger-06-send-back-refused");

        const string Reason = "会议记录与签到表不符，请核实后重报";
        row = page.Locator($"#table-items tr[data-key='{Nancun}/{returned.ItemId}']");
        await row.Locator("textarea[name=reason]").FillAsync(Reason);
        await row.Locator("button[name=send-back]").ClickAsync();
        await page.WaitForSelectorAsync("#ledger-done");
        var sentBack = await HistoryAsync(Nancun, returned.ItemId);
        var last = LedgerStep.Parser.ParseFrom(sentBack.Steps[^1].StepBytes);
        Assert.Equal((LedgerItemStatus.Open, LedgerStepKind.SentBack, Reason, TownshipReviewer), (sentBack.Item.Status, last.Kind, last.Note, last.Account));
        Assert.Contains(Reason, await page.Locator($"#table-items tr[data-key='{Nancun}/{returned.ItemId}']").InnerTextAsync(), StringComparison.Ordinal);

        // The cleared item's history page: every signed step, the last one the reviewer's acceptance.
        await page.ClickAsync($"#table-items tr[data-key='{Xicun}/{cleared.ItemId}'] a");
        await page.WaitForURLAsync(url => url.Contains("/ledger/item", StringComparison.Ordinal));
        var steps = await page.Locator("#table-steps tbody tr").AllAsync();
        Assert.Equal(3, steps.Count);
        var accepted = await steps[2].Locator("td").AllInnerTextsAsync();
        Assert.Equal(["3", "验收销号", TownshipReviewer, Wenchang, history.Steps[^1].KeyId], [accepted[0].Trim(), accepted[1].Trim(), accepted[2].Trim(), accepted[5].Trim(), accepted[6].Trim()]);
        Assert.Equal("已销号", (await page.InnerTextAsync("#ledger-item-status")).Trim());
        await ScreenshotAsync(page, "ledger-07-history");
    }

    [Fact]
    public async Task Ledger_VillageRunningItsOwnNode_ItsOwnReviewerIsRefusedInOneLine_TheTownshipsReviewerClearsIt()
    {
        var (village, township) = (fixture.Hierarchy[Beicun], fixture.Hierarchy[Guyunhu]);
        var item = await ListedWithFixAsync(Ledger(village, village.Tokens.Clerk), Beicun, "村级经费公开不及时", "已按月公开");

        await using (var own = await fixture.ContextAsync())
        {
            var page = await LogInWithTokenAsync(own, village, village.Tokens.Reviewer, "/ledger?period=" + Quarter);
            await page.Locator($"#table-items tr[data-key='{Beicun}/{item.ItemId}'] button[name=accept]").ClickAsync();
            await page.WaitForSelectorAsync(".problem");
            Assert.Equal("只有上一级的审核员才能验收或退回整改问题：本单位不能给自己的问题销号。", (await page.InnerTextAsync(".problem")).Trim());
            Assert.Equal(1, await page.Locator($"#table-items tr[data-key='{Beicun}/{item.ItemId}']").CountAsync());
            await ScreenshotAsync(page, "ledger-08-own-reviewer-refused");
        }

        var reader = Ledger(village, village.Tokens.Reader);
        Assert.Equal(LedgerItemStatus.FixReported, (await reader.GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = Beicun, ItemId = item.ItemId }, deadline: Rpc.Deadline())).Item.Status);

        await using var context = await fixture.ContextAsync();
        var above = await LogInWithTokenAsync(context, township, township.Tokens.Reviewer, "/ledger?period=" + Quarter);
        await above.ClickAsync("#table-below a:text-is('北村')");
        await above.WaitForURLAsync(url => url.Contains("node=" + Beicun, StringComparison.Ordinal));
        await above.Locator($"#table-items tr[data-key='{Beicun}/{item.ItemId}'] button[name=accept]").ClickAsync();
        await above.WaitForSelectorAsync("#ledger-done");
        await ScreenshotAsync(above, "ledger-09-township-clears-village");

        // The village holds the step the township signed and delivered.
        var history = await reader.GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = Beicun, ItemId = item.ItemId }, deadline: Rpc.Deadline());
        var last = LedgerStep.Parser.ParseFrom(history.Steps[^1].StepBytes);
        Assert.Equal((LedgerItemStatus.Cleared, LedgerStepKind.Accepted, Guyunhu, Beicun, $"reviewer-{Guyunhu}"),
            (history.Item.Status, last.Kind, last.NodeId, last.HolderNodeId, last.Account));
    }

    [Fact]
    public async Task Ledger_DownloadXlsx_HoldsThePageItems_AndAClerkSeesTheListWithoutSteps()
    {
        await Ledger(Township, Township.Tokens.Clerk).AddLedgerItemAsync(
            new AddLedgerItemRequest { UnitId = Nancun, Entry = Entry("members", "发展党员程序不规范", "2026-12-31") }, deadline: Rpc.Deadline());
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, $"/ledger?node={Wenchang}&period={Quarter}");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#table-items + .download a").ClickAsync());
        var file = Path.Combine(ScreenshotFolder, download.SuggestedFilename);
        await download.SaveAsAsync(file);

        var sheet = MiniExcel.Query(file, useHeaderRow: false).Cast<IDictionary<string, object?>>().Select(static r => r.Values.Select(static v => v?.ToString() ?? string.Empty).ToList()).ToList();
        var header = await page.Locator("#table-items thead th").AllInnerTextsAsync();
        Assert.Equal(header.Select(static h => h.Trim()), sheet[0]);
        var rows = await page.Locator("#table-items tbody tr").AllAsync();
        Assert.True(rows.Count > 0, "the table has rows");
        Assert.Equal(rows.Count, sheet.Count - 1);
        for (var r = 0; r < rows.Count; r++)
        {
            var cells = (await rows[r].Locator("td").AllInnerTextsAsync()).Select(static c => c.Trim()).ToList();
            Assert.Equal(cells, sheet[r + 1].Take(cells.Count));
            Assert.All(sheet[r + 1].Skip(cells.Count), static extra => Assert.Equal(string.Empty, extra));
        }

        // The unit's clerk reads the same list at the township, with no step to take and no totals, which are not for clerks.
        await using var clerkContext = await fixture.ContextAsync();
        var clerk = await LogInWithTokenAsync(clerkContext, Township, Township.Tokens.Clerk, "/ledger?period=" + Quarter);
        Assert.Equal(await KeysAsync(page), await KeysAsync(clerk));
        Assert.Equal(0, await clerk.Locator("#table-items form").CountAsync());
        Assert.Equal(0, await clerk.Locator("#ledger-counts").CountAsync());
        await ScreenshotAsync(clerk, "ledger-10-clerk");
    }

    [Fact]
    public async Task Ledger_ReaderOfOneCounty_OpeningAnotherCountysLedger_Gets403()
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInWithTokenAsync(context, CityNode, fixture.ShangheReaderToken, "/ledger?period=" + Quarter);
        Assert.Contains("商河县", await page.InnerTextAsync("h1"), StringComparison.Ordinal);

        var response = await page.GotoAsync($"{CityNode.Address}/ledger?node={Changqing}&period={Quarter}");
        Assert.Equal(403, response!.Status);
        Assert.Contains("无权", await page.InnerTextAsync(".problem"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#table-items").CountAsync());
        await ScreenshotAsync(page, "ledger-11-forbidden");

        var sheet = await page.GotoAsync($"{CityNode.Address}/ledger?node={Wenchang}&period={Quarter}&handler=Xlsx&table=items");
        Assert.Equal(403, sheet!.Status);
        var history = await page.GotoAsync($"{CityNode.Address}/ledger/item?node={Wenchang}&unit={Dongcun}&item=1&period={Quarter}");
        Assert.Equal(403, history!.Status);
    }

    private static LedgerService.LedgerServiceClient Ledger(TestNode node, string token) => new(node.ChannelWith(token));

    private static LedgerEntry Entry(string category, string problem, string deadline) => new()
    {
        Period = Quarter,
        Category = category,
        Problem = problem,
        Measure = "限期整改，专人负责",
        Deadline = deadline,
        Responsible = "王建国",
    };

    /// <summary>Lists an item for <paramref name="unit"/> and reports it fixed, as the unit's clerk.</summary>
    private static async Task<LedgerItem> ListedWithFixAsync(LedgerService.LedgerServiceClient clerk, string unit, string problem, string fix)
    {
        var added = await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = unit, Entry = Entry("organisation", problem, "2026-12-31") }, deadline: Rpc.Deadline());
        var reported = await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = unit, ItemId = added.Item.ItemId, Note = fix }, deadline: Rpc.Deadline());
        Assert.Equal(LedgerItemStatus.FixReported, reported.Item.Status);
        return reported.Item;
    }

    private Task<GetLedgerHistoryResponse> HistoryAsync(string unit, string item) =>
        Ledger(Township, Township.Tokens.Reader).GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = unit, ItemId = item }, deadline: Rpc.Deadline()).ResponseAsync;

    private Task<GetTotalsResponse> TotalsAsync(string? node) =>
        CityNode.Query.GetTotalsAsync(new GetTotalsRequest { NodeId = node ?? string.Empty, Period = Quarter }, deadline: Rpc.Deadline()).ResponseAsync;

    /// <summary>Waits until the city's counts are those of every item held below it, so the tiers agree while the page is read.</summary>
    private async Task SettledAsync()
    {
        var reader = Ledger(CityNode, CityNode.Tokens.Reader);
        var held = new List<LedgerItem>();
        foreach (var holder in new[] { Wenchang, Beicun })
        {
            held.AddRange((await reader.ListLedgerItemsAsync(new ListLedgerItemsRequest { NodeId = holder, Period = Quarter, PageSize = 1000 }, deadline: Rpc.Deadline())).Items);
        }

        var expected = (Listed: held.Count, Cleared: held.Count(static i => i.Status == LedgerItemStatus.Cleared), Overdue: held.Count(static i => i.Overdue));
        await TestHierarchy.WaitForTotalsAsync(CityNode, Quarter,
            t => (Total(t, LedgerCount.Listed), Total(t, LedgerCount.Cleared), Total(t, LedgerCount.Overdue)) == (expected.Listed, expected.Cleared, expected.Overdue),
            $"the city to count {expected} ledger items");
    }

    private static long Total(GetTotalsResponse totals, LedgerCount count) =>
        totals.Totals.FirstOrDefault(t => t.Indicator.LedgerCount == count)?.Aggregate?.Total ?? 0;

    /// <summary>The counts at the top of the page are the node's totals as GetTotals answers them, shown as every page shows figures.</summary>
    private async Task AssertCountsAsync(IPage page, string? node)
    {
        var totals = await TotalsAsync(node);
        Assert.Equal(Total(totals, LedgerCount.Listed).ToString("N0", CultureInfo.InvariantCulture), (await page.InnerTextAsync("#count-listed")).Trim());
        Assert.Equal(Total(totals, LedgerCount.Cleared).ToString("N0", CultureInfo.InvariantCulture), (await page.InnerTextAsync("#count-cleared")).Trim());
        Assert.Equal(Total(totals, LedgerCount.Overdue).ToString("N0", CultureInfo.InvariantCulture), (await page.InnerTextAsync("#count-overdue")).Trim());
        Assert.True(Total(totals, LedgerCount.Overdue) > 0, "an overdue item is counted");
        var rate = totals.Totals.Single(static t => t.Indicator.Id == "rectification_closure_rate");
        var expected = rate.Aggregate.UnitCount == 0 || rate.Value is not { Denominator: > 0 } value ? "—"
            : (Math.Round((double)value.Numerator / value.Denominator, 3, MidpointRounding.AwayFromZero) * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        Assert.Equal(expected, (await page.InnerTextAsync("#count-rate")).Trim());
    }

    private static async Task<List<string>> KeysAsync(IPage page)
    {
        var keys = new List<string>();
        foreach (var row in await page.Locator("#table-items tbody tr[data-key]").AllAsync())
        {
            keys.Add(await row.GetAttributeAsync("data-key") ?? string.Empty);
        }

        return keys;
    }
}
