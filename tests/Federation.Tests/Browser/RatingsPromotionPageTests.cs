using System.Globalization;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Microsoft.Playwright;
using static Federation.Tests.Browser.WebHierarchyFixture;

namespace Federation.Tests.Browser;

/// <summary>
/// The star ratings and promotion pages against the fixture's county of three townships: what the page shows
/// is what RatingService and GetPromotion answer, read at the city and routed down like the page's own calls.
/// </summary>
[Collection(WebHierarchyCollection.Name)]
[Trait("Category", "Browser")]
public sealed class RatingsPromotionPageTests(WebHierarchyFixture fixture) : IAsyncLifetime
{
    private TestNode CityNode => fixture.Hierarchy.Root;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        fixture.Hierarchy.AssertNoErrors();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Ratings_CountyRanking_EqualsGetRatings_MarksTheQuotaLoweredTownship_AndDrillsToItsOwnRanking()
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, $"/ratings?node={Changqing}&year={RatedYear}");
        await ScreenshotAsync(page, "17-ratings-county");

        // Printed: the ranking, chart and flags without the navigation, the pickers and the download links.
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        Assert.False(await page.Locator("nav.main").IsVisibleAsync());
        Assert.False(await page.Locator("form.picker").IsVisibleAsync());
        Assert.False(await page.Locator(".download").First.IsVisibleAsync());
        Assert.True(await page.Locator("#star-chart svg").IsVisibleAsync());
        await ScreenshotAsync(page, "17-ratings-county-print");
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Screen });

        var ratings = new RatingService.RatingServiceClient(CityNode.Channel);
        var county = await ratings.GetRatingsAsync(new GetRatingsRequest { NodeId = Changqing, Year = RatedYear }, deadline: Rpc.Deadline());
        var statement = await AssertRankingAsync(page, county);
        Assert.Equal(QuotaEffect.FiveStarQuota, statement.Units.Single(static u => u.UnitId == Wenchang).QuotaEffect);
        Assert.Equal("五星名额已满，由五星调为四星", await LoweredMarkAsync(page, Wenchang));
        Assert.Equal(0, await page.Locator($"#table-ranking tr[data-key='{Pingan}'] td.lowered").CountAsync());
        Assert.Contains("至多 30% 五星：0 个；至少 30% 三星及以下：1 个", await page.InnerTextAsync("#quotas"), StringComparison.Ordinal);
        Assert.Contains(county.Statement.KeyId, await page.InnerTextAsync("#statement"), StringComparison.Ordinal);
        Assert.Contains(statement.Version.ToString(CultureInfo.InvariantCulture), await page.InnerTextAsync("#statement"), StringComparison.Ordinal);

        // Two years running, from the county's own statements: Guyunhu at three stars or below in both.
        var flags = await ratings.ListRatingFlagsAsync(new ListRatingFlagsRequest { NodeId = Changqing, Year = RatedYear }, deadline: Rpc.Deadline());
        var flag = Assert.Single(flags.Flags);
        Assert.Equal((Guyunhu, RatingFlagKind.ThreeOrBelowTwoYears), (flag.UnitId, flag.Kind));
        Assert.Equal(1, await page.Locator("#table-flags tbody tr").CountAsync());
        var flagCells = await page.Locator($"#table-flags tr[data-key='{Guyunhu}'] td").AllInnerTextsAsync();
        Assert.Equal([Guyunhu, "崮云湖街道", "连续两年三星及以下", Stars(flag.PreviousYearStars), Stars(flag.Stars), flag.ConsequenceZh], flagCells.Select(static c => c.Trim()));

        // The subtree's stars: the county's year summary, by the tier of the units rated, drawn as bars.
        var totals = await CityNode.Query.GetTotalsAsync(new GetTotalsRequest { NodeId = Changqing, Period = RatedYear }, deadline: Rpc.Deadline());
        var histograms = Summary.Parser.ParseFrom(totals.SignedSummary.SummaryBytes).StarHistograms;
        Assert.Equal(["township", "village"], histograms.Select(static h => h.Tier));
        foreach (var histogram in histograms)
        {
            var cells = (await page.Locator($"#table-histogram tr[data-key='{histogram.Tier}'] td").AllInnerTextsAsync()).Select(static c => c.Trim()).ToList();
            var expected = new uint[] { 5, 4, 3, 2, 1, 0 }.Select(s => (histogram.Counts.FirstOrDefault(c => c.Stars == s)?.UnitCount ?? 0).ToString(CultureInfo.InvariantCulture));
            Assert.Equal([histogram.RatingNodeCount.ToString(CultureInfo.InvariantCulture), .. expected, "3"], cells.Skip(1));
        }

        Assert.Equal(12, await page.Locator("#star-chart svg rect.bar").CountAsync());

        // A township of the ranking links to its own ranking of its villages, routed down by the API.
        await page.ClickAsync("#table-ranking a:text-is('文昌街道')");
        await page.WaitForURLAsync(url => url.Contains("node=" + Wenchang, StringComparison.Ordinal));
        var township = await ratings.GetRatingsAsync(new GetRatingsRequest { NodeId = Wenchang, Year = RatedYear }, deadline: Rpc.Deadline());
        await AssertRankingAsync(page, township);
        Assert.Equal("五星名额已满，由五星调为四星", await LoweredMarkAsync(page, "370113001001"));
        Assert.Equal("三星及以下比例不足，由4星调为三星", await LoweredMarkAsync(page, "370113001003"));
        Assert.Equal("西村", (await page.Locator($"#table-ranking tr[data-key='{Xicun}'] td").Nth(2).InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator("#table-ranking a").CountAsync());
        await ScreenshotAsync(page, "18-ratings-township");

        await page.GotoAsync(page.Url + "&lang=en");
        Assert.Contains("star ratings", await page.InnerTextAsync("h1"), StringComparison.Ordinal);
        Assert.Contains("five-star quota full", await page.InnerTextAsync("#table-ranking"), StringComparison.Ordinal);
        await ScreenshotAsync(page, "19-ratings-township-en");
    }

    [Fact]
    public async Task Ratings_AtTheCityWithoutARankingOfItsOwn_SaysSo_ShowsTheSubtreesStars_AndLinksTheCountiesBelow()
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, $"/ratings?year={RatedYear}");

        Assert.Equal("济南市尚无 2026 年星级评定。", (await page.InnerTextAsync("#ratings-none")).Trim());
        Assert.Equal(0, await page.Locator("#table-ranking").CountAsync());
        Assert.Equal("3", (await page.Locator("#table-histogram tr[data-key='township'] td").Last.InnerTextAsync()).Trim());
        await ScreenshotAsync(page, "20-ratings-city-none");
        await page.ClickAsync("#ratings-below a:text-is('长清区')");
        await page.WaitForURLAsync(url => url.Contains("node=" + Changqing, StringComparison.Ordinal) && url.Contains("year=" + RatedYear, StringComparison.Ordinal));
        Assert.Equal(3, await page.Locator("#table-ranking tbody tr").CountAsync());

        // A year nobody rated: one line, no table, and no error.
        var response = await page.GotoAsync($"{CityNode.Address}/ratings?node={Changqing}&year=2024");
        Assert.Equal(200, response!.Status);
        Assert.Contains("尚无 2024 年星级评定", await page.InnerTextAsync("#ratings-none"), StringComparison.Ordinal);
        Assert.Contains("下辖尚无 2024 年星级评定汇总", await page.InnerTextAsync("#histogram-none"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promotion_AtTheCity_CountsEqualGetPromotion_AndListTheUnitsThatDidNotMoveUpByName()
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInAsync(context, CityNode, CityReader, CityReaderPassword, $"/promotion?from={PreviousYear}&to={RatedYear}");
        await ScreenshotAsync(page, "21-promotion-city");

        var answer = await CityNode.Query.GetPromotionAsync(new GetPromotionRequest { FromPeriod = PreviousYear, ToPeriod = RatedYear }, deadline: Rpc.Deadline());
        Assert.Equal(answer.Grades.Count, await page.Locator("#table-grades tbody tr").CountAsync());
        foreach (var grade in answer.Grades)
        {
            var cells = (await page.Locator($"#table-grades tr[data-key='{grade.Code}'] td").AllInnerTextsAsync()).Select(static c => c.Trim()).ToList();
            var judged = grade.TargetPercent > 0 && grade.StartCount > 0;
            Assert.Equal(
                [
                    grade.NameZh, $"{grade.StartCount}", $"{grade.MovedUpCount}", $"{grade.StayedCount}", $"{grade.MovedDownCount}",
                    grade.StartCount == 0 ? "—" : (Math.Round((double)grade.MovedUpCount / grade.StartCount, 3, MidpointRounding.AwayFromZero) * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
                    grade.TargetPercent == 0 ? "—" : $"≥ {grade.TargetPercent}%",
                    !judged ? "—" : grade.Met ? "达标" : "未达标",
                ],
                cells);
        }

        // The fixture's grades, counted here: 较好 2 (one up, met at 50%), 一般 2 (none up, short), 较差 1 (up).
        Assert.Equal([(0u, 0u, false), (2u, 1u, true), (2u, 0u, false), (1u, 1u, true)], answer.Grades.Select(static g => (g.StartCount, g.MovedUpCount, g.Met)));
        Assert.Equal([Xicun, Beicun, Ancun], answer.NotMoved.Select(static u => u.UnitId));
        Assert.Equal(answer.NotMoved.Select(static u => u.UnitId), await page.Locator("#table-not-moved tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.key)"));
        var xicun = (await page.Locator($"#table-not-moved tr[data-key='{Xicun}'] td").AllInnerTextsAsync()).Select(static c => c.Trim()).ToList();
        Assert.Equal([Xicun, "西村", Wenchang, "一般 → 一般"], xicun);
        Assert.Equal("北村", (await page.Locator($"#table-not-moved tr[data-key='{Beicun}'] td").Nth(1).InnerTextAsync()).Trim());
        Assert.Contains($"{answer.UngradedCount} 个", await page.InnerTextAsync("#ungraded"), StringComparison.Ordinal);
        Assert.Equal(1u, answer.UngradedCount);
        Assert.Equal(0, await page.Locator("#table-unanswered").CountAsync());

        // Without a range the page compares last year with this year; a range in the wrong order is one line.
        await page.GotoAsync(CityNode.Address + "/promotion");
        var thisYear = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).Year;
        Assert.Equal((thisYear - 1).ToString(CultureInfo.InvariantCulture), await page.InputValueAsync("#from"));
        Assert.Equal(thisYear.ToString(CultureInfo.InvariantCulture), await page.InputValueAsync("#to"));
        var wrong = await page.GotoAsync(CityNode.Address + $"/promotion?from={RatedYear}&to={PreviousYear}");
        Assert.Equal(400, wrong!.Status);
        Assert.Equal("起止期间须为同一类型，且结束期间晚于起始期间，例如 2025 → 2026。", (await page.InnerTextAsync(".problem")).Trim());
    }

    [Theory]
    [InlineData("/ratings", "ratings")]
    [InlineData("/promotion", "promotion")]
    public async Task Reader_OfOneCounty_OpeningAnotherCountysPage_Gets403(string path, string what)
    {
        await using var context = await fixture.ContextAsync();
        var page = await LogInWithTokenAsync(context, CityNode, fixture.ShangheReaderToken, $"{path}?year={RatedYear}");
        Assert.Equal(200, (await page.ReloadAsync())!.Status);

        var response = await page.GotoAsync($"{CityNode.Address}{path}?node={Changqing}&year={RatedYear}");
        Assert.Equal(403, response!.Status);
        Assert.Contains("无权", await page.InnerTextAsync(".problem"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("table.data").CountAsync());
        await ScreenshotAsync(page, $"22-forbidden-{what}");
    }

    /// <summary>The page's ranking rows equal the statement's units, in rank order; returns the statement.</summary>
    private static async Task<RatingStatement> AssertRankingAsync(IPage page, GetRatingsResponse answer)
    {
        var statement = RatingStatement.Parser.ParseFrom(answer.Statement.StatementBytes);
        Assert.Equal(statement.Units.Select(static u => u.UnitId), await page.Locator("#table-ranking tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.key)"));
        foreach (var unit in statement.Units)
        {
            var cells = (await page.Locator($"#table-ranking tr[data-key='{unit.UnitId}'] td").AllInnerTextsAsync()).Select(static c => c.Trim()).ToList();
            Assert.Equal(unit.Rank.ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(unit.UnitId, cells[1]);
            Assert.Equal(unit.Total.Display, cells[3]);
            Assert.Equal(Stars(unit.EarnedStars), cells[4]);
            Assert.Equal(unit.QuotaEffect == QuotaEffect.None ? Stars(unit.Stars) : Stars(unit.Stars) + " ▼", cells[5]);
        }

        return statement;
    }

    private static async Task<string> LoweredMarkAsync(IPage page, string unit)
    {
        var marked = page.Locator($"#table-ranking tr[data-key='{unit}'] td.lowered");
        Assert.Equal(2, await marked.CountAsync());
        return (await marked.Last.InnerTextAsync()).Trim();
    }

    private static string Stars(uint stars) => stars == 0 ? "无星" : new string('★', (int)stars);
}
