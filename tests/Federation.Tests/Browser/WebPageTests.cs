using System.Globalization;
using System.Text.RegularExpressions;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Microsoft.Playwright;
using MiniExcelLibs;
using Xunit.Abstractions;
using static Federation.Tests.Browser.WebHierarchyFixture;

namespace Federation.Tests.Browser;

/// <summary>
/// The web page in headless Chromium against real nodes over TLS: what a leader and an organiser do, and
/// that the page shows exactly what the API answers. Each test saves screenshots of the pages it visits.
/// </summary>
[Collection(WebHierarchyCollection.Name)]
[Trait("Category", "Browser")]
public sealed partial class WebPageTests(WebHierarchyFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private TestNode CityNode => fixture.Hierarchy.Root;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Whatever a person did on the page, no node logged an error.</summary>
    public Task DisposeAsync()
    {
        fixture.Hierarchy.AssertNoErrors();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Login_CityTotals_EqualTheGetTotalsAnswer()
    {
        await using var context = await fixture.ContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(CityNode.Address + "/?period=" + Quarter);
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        await ScreenshotAsync(page, "01-login-zh");
        await page.FillAsync("#account", CityReader);
        await page.FillAsync("#password", CityReaderPassword);
        await page.ClickAsync("#login-submit");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        await ScreenshotAsync(page, "02-totals-zh");

        var answer = await CityNode.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Contains($"{LeafCount}/{LeafCount}", await page.InnerTextAsync("#coverage"), StringComparison.Ordinal);
        var compared = 0;
        foreach (var total in answer.Totals)
        {
            var cells = await page.Locator($"#table-totals tr[data-key='{total.Indicator.Id}'] td").AllInnerTextsAsync();
            Assert.Equal(total.Indicator.NameZh, cells[0].Trim());
            Assert.Equal(Expected(total), cells[1].Trim());
            Assert.Equal(total.Aggregate.UnitCount.ToString("N0", CultureInfo.InvariantCulture), cells[2].Trim());
            if (total.Attainment is { } attainment && total.Aggregate.UnitCount > 0)
            {
                Assert.Equal(attainment.Met ? "达标" : "未达标", cells[5].Trim());
            }

            compared++;
        }

        Assert.Equal(answer.Totals.Count, compared);
        Assert.Equal(answer.Totals.Count, await page.Locator("#table-totals tbody tr").CountAsync());

        // The same page in English: ?lang=en, remembered by a cookie on the next page.
        await page.GotoAsync(CityNode.Address + "/?period=" + Quarter + "&lang=en");
        Assert.Equal("Party members", (await page.Locator("#table-totals tr[data-key='party_members'] td").First.InnerTextAsync()).Trim());
        await ScreenshotAsync(page, "03-totals-en");
        await page.GotoAsync(CityNode.Address + "/completeness?period=" + Quarter);
        Assert.Contains("completeness", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        await ScreenshotAsync(page, "04-completeness-en");
        output.WriteLine($"screenshots: {ScreenshotFolder}");
    }

    [Fact]
    public async Task DrillDown_ClickingThroughTheTiers_ReachesTheLaggingVillage()
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, "/drill?period=" + Quarter);
        await ScreenshotAsync(page, "05-drill-city");

        await page.ClickAsync("#table-drill a:text-is('长清区')");
        await page.WaitForURLAsync(url => url.Contains("node=" + Changqing, StringComparison.Ordinal));
        await page.ClickAsync("#table-drill a:text-is('崮云湖街道')");
        await page.WaitForURLAsync(url => url.Contains("node=" + Guyunhu, StringComparison.Ordinal));
        await ScreenshotAsync(page, "06-drill-township");

        var village = page.Locator($"#table-drill tr[data-key='{Beicun}']");
        Assert.Equal("lagging", await village.GetAttributeAsync("class"));
        var missed = await village.Locator("td").Last.InnerTextAsync();
        Assert.Contains("满意度", missed, StringComparison.Ordinal);
        Assert.Contains("后备干部", missed, StringComparison.Ordinal);
        Assert.Contains("北村", await village.InnerTextAsync(), StringComparison.Ordinal);

        await village.Locator("a").First.ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("node=" + Beicun, StringComparison.Ordinal));
        Assert.Equal("lagging", await page.Locator($"#table-drill tr[data-key='{Beicun}']").GetAttributeAsync("class"));
        Assert.Contains(Guyunhu, await page.InnerTextAsync(".crumbs"), StringComparison.Ordinal);
        await ScreenshotAsync(page, "07-drill-village");

        // The laggard list names the same village, and the trend of its satisfaction is drawn.
        await page.GotoAsync(CityNode.Address + "/laggards?period=" + Quarter);
        Assert.Contains("满意度", await page.Locator($"#table-laggards tr[data-key='{Beicun}']").InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "08-laggards");
        await page.GotoAsync(CityNode.Address + "/trends?period=2026-Q2&indicator=satisfaction_rate&from=2025-Q3&to=2026-Q2");
        Assert.Equal(2, await page.Locator("#trend-chart svg circle").CountAsync());
        Assert.Equal(1, await page.Locator("#trend-chart svg polyline").CountAsync());
        Assert.Equal(await ExpectedSatisfactionAsync(), (await page.Locator("#table-history tr[data-key='2026-Q1'] td").Nth(1).InnerTextAsync()).Trim());
        Assert.Equal("无数据", (await page.Locator("#table-history tr[data-key='2026-Q2'] td").Nth(1).InnerTextAsync()).Trim());
        await ScreenshotAsync(page, "09-trends");
    }

    [Fact]
    public async Task Review_ReturnWithAReasonFromThePage_ClerkSeesReturnedWithThatReason()
    {
        var township = fixture.Hierarchy[Wenchang];
        const string Reason = "党员数与花名册不符，请核对后重报";
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, township, TownshipReviewer, TownshipReviewerPassword, "/review?period=" + Quarter);
        await ScreenshotAsync(page, "10-review-queue");

        var row = page.Locator($"#table-review tr[data-key='{Xicun}']");
        await row.Locator("form[action*='handler=Return'] textarea").FillAsync(Reason);
        await row.Locator("button[name=return]").ClickAsync();
        await page.WaitForSelectorAsync("#review-done");
        var after = page.Locator($"#table-review tr[data-key='{Xicun}']");
        Assert.Contains("已退回", await after.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains(Reason, await after.InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "11-review-returned");

        var clerk = new ReviewService.ReviewServiceClient(township.ChannelWith(township.Tokens.Clerk));
        var status = await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = Xicun, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(ReviewStatus.Returned, status.Status);
        Assert.Equal(Reason, status.Reason);
        var decision = Decision.Parser.ParseFrom(status.LastDecision.DecisionBytes);
        Assert.Equal(TownshipReviewer, decision.Account);
        Assert.Equal(DecisionKind.Return, decision.Kind);

        // An approval from the page, signed the same way.
        var other = page.Locator("#table-review tr[data-key='370113001003']");
        await other.Locator("button[name=approve]").ClickAsync();
        await page.WaitForSelectorAsync("#review-done");
        var approved = await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = "370113001003", Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(ReviewStatus.Approved, approved.Status);
        Assert.Equal(TownshipReviewer, Decision.Parser.ParseFrom(approved.LastDecision.DecisionBytes).Account);
    }

    [Theory]
    [InlineData("/drill", "drill")]
    [InlineData("/", "totals")]
    [InlineData("/completeness", "nodes")]
    [InlineData("/ratings?node=" + Changqing + "&year=" + RatedYear, "ranking")]
    [InlineData("/ratings?node=" + Changqing + "&year=" + RatedYear, "flags")]
    [InlineData("/ratings?node=" + Changqing + "&year=" + RatedYear, "histogram")]
    [InlineData("/promotion?from=" + PreviousYear + "&to=" + RatedYear, "grades")]
    [InlineData("/promotion?from=" + PreviousYear + "&to=" + RatedYear, "not-moved")]
    public async Task Download_Xlsx_HoldsThePageTable(string path, string table)
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, path.Contains('?', StringComparison.Ordinal) ? path : $"{path}?period={Quarter}");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator($"#table-{table} + .download a").ClickAsync());
        var file = Path.Combine(ScreenshotFolder, download.SuggestedFilename);
        await download.SaveAsAsync(file);

        var sheet = MiniExcel.Query(file, useHeaderRow: false).Cast<IDictionary<string, object?>>().Select(static r => r.Values.ToList()).ToList();
        var header = await page.Locator($"#table-{table} thead th").AllInnerTextsAsync();
        Assert.Equal(header.Select(static h => h.Trim()), sheet[0].Select(static v => v?.ToString() ?? string.Empty));
        var rows = await page.Locator($"#table-{table} tbody tr").AllAsync();
        Assert.Equal(rows.Count, sheet.Count - 1);
        Assert.True(rows.Count > 0, "the table has rows");
        for (var r = 0; r < rows.Count; r++)
        {
            var cells = await rows[r].Locator("td").AllInnerTextsAsync();
            for (var c = 0; c < cells.Count; c++)
            {
                Assert.True(Same(cells[c].Trim(), sheet[r + 1][c]), $"row {r + 1}, column {c + 1}: page '{cells[c].Trim()}', sheet '{sheet[r + 1][c]}'");
            }
        }
    }

    [Fact]
    public async Task Reader_OfOneCounty_OpeningAnotherCountysPage_Gets403()
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInWithTokenAsync(context, CityNode, fixture.ShangheReaderToken, "/?period=" + Quarter);
        Assert.Contains("商河县", await page.InnerTextAsync("h1"), StringComparison.Ordinal);

        var response = await page.GotoAsync($"{CityNode.Address}/?node={Changqing}&period={Quarter}");
        Assert.Equal(403, response!.Status);
        Assert.Contains("无权", await page.InnerTextAsync(".problem"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#table-totals").CountAsync());
        await ScreenshotAsync(page, "12-forbidden");

        var drill = await page.GotoAsync($"{CityNode.Address}/drill?node={Changqing}&period={Quarter}&handler=Xlsx&table=drill");
        Assert.Equal(403, drill!.Status);
    }

    [Fact]
    public async Task Session_TokenRevoked_LandsOnTheLoginPageSayingSo_AndLogoutRevokesTheSessionToken()
    {
        const string Account = "chen.jie";
        const string Password = "陈杰的密码-2026-04";
        await CityNode.Access.SetPasswordAsync(new SetPasswordRequest { Account = Account, Role = Role.Reader, Scope = City, Password = Password }, deadline: Rpc.Deadline());
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, Account, Password, "/?period=" + Quarter);
        var minted = await SessionTokensAsync(Account);
        var active = Assert.Single(minted, static t => t.RevokeTime is null);

        await CityNode.Access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = active.TokenId }, deadline: Rpc.Deadline());
        await page.ReloadAsync();
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.Contains("会话已结束", await page.InnerTextAsync(".notice"), StringComparison.Ordinal);
        await ScreenshotAsync(page, "13-session-ended");

        // Log in again, then out: the token minted for that session is revoked at once.
        page = await LogInAsync(context, CityNode, Account, Password, "/?period=" + Quarter);
        await page.ClickAsync("header form button");
        await page.WaitForURLAsync(url => url.Contains("/login", StringComparison.Ordinal));
        Assert.All(await SessionTokensAsync(Account), static t => Assert.NotNull(t.RevokeTime));
        var back = await page.GotoAsync(CityNode.Address + "/?period=" + Quarter);
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.Equal(200, back!.Status);
    }

    [Fact]
    public async Task Login_FailedTooOften_IsRefusedForAWhileWithOneLine()
    {
        await using var context = await fixture.ContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(CityNode.Address + "/login");
        for (var i = 0; i < 5; i++)
        {
            await page.FillAsync("#account", "wu.lei");
            await page.FillAsync("#password", "not the password " + i);
            await page.ClickAsync("#login-submit");
            Assert.Equal("账号或密码不正确。", (await page.InnerTextAsync("#login-failure")).Trim());
        }

        await page.FillAsync("#account", "wu.lei");
        await page.FillAsync("#password", "still not it");
        await page.ClickAsync("#login-submit");
        Assert.Matches("^登录失败次数过多，请 1[0-5] 分钟后再试。$", (await page.InnerTextAsync("#login-failure")).Trim());
        await ScreenshotAsync(page, "14-login-throttled");
    }

    [Fact]
    public async Task AccountSetPassword_ReadFromStandardInput_LogsInOnThePage()
    {
        const string Password = "从标准输入读取的密码";
        var city = CityNode;
        var result = await Cli.RunWithInputAsync(Password + "\n",
            "account", "set-password", "--node", "unix:" + Path.Combine(city.DataPath, Federation.Node.Security.AdminSocket.FileName),
            "--account", "zhao.min", "--role", "reader", "--scope", Changqing);
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.DoesNotContain(Password, result.StandardOutput + result.StandardError, StringComparison.Ordinal);

        await using var context = await fixture.ContextAsync("en-US");
        var page = await LogInAsync(context, city, "zhao.min", Password, "/?period=" + Quarter);
        Assert.Contains("totals", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        Assert.Contains(Changqing, await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, string.Join('\n', city.Logs.Warnings.Concat(city.Logs.Errors)), StringComparison.Ordinal);
    }

    private async Task<List<TokenInfo>> SessionTokensAsync(string account)
    {
        var listed = await CityNode.Access.ListTokensAsync(new ListTokensRequest { PageSize = 1000 }, deadline: Rpc.Deadline());
        return [.. listed.Tokens.Where(t => t.Account == account)];
    }

    private async Task<string> ExpectedSatisfactionAsync()
    {
        var totals = await CityNode.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        return Expected(totals.Totals.Single(static t => t.Indicator.Id == "satisfaction_rate"));
    }

    /// <summary>The figure as the page must show it, computed here from the API's answer.</summary>
    private static string Expected(IndicatorTotal total)
    {
        if (total.Aggregate.UnitCount == 0 || total.Value is null)
        {
            return "—";
        }

        var value = (double)total.Value.Numerator / total.Value.Denominator;
        return total.Indicator.Kind switch
        {
            ValueKind.Count => total.Aggregate.Total.ToString("N0", CultureInfo.InvariantCulture),
            ValueKind.Flag or ValueKind.Ratio => (Math.Round(value, 3, MidpointRounding.AwayFromZero) * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
            ValueKind.Measure => Math.Round(value, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException("no category was reported"),
        };
    }

    /// <summary>A page cell and a sheet cell hold the same thing: the same text, or the same number as shown.</summary>
    private static bool Same(string shown, object? stored)
    {
        switch (stored)
        {
            case null:
                return shown.Length == 0;
            case double number:
                if (PercentText().Match(shown) is { Success: true } percent)
                {
                    return Math.Abs((double.Parse(percent.Groups[1].Value, CultureInfo.InvariantCulture) / 100) - number) < 1e-9;
                }

                return double.TryParse(shown.Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
                    && Math.Abs(parsed - number) < 1e-9;
            default:
                return shown == stored.ToString();
        }
    }

    [GeneratedRegex(@"^(-?[0-9]+(?:\.[0-9]+)?)%$")]
    private static partial Regex PercentText();
}
