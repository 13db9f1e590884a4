using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Federation.Tests.Browser;

/// <summary>
/// A running hierarchy of real nodes with figures for 2026-Q1, accounts with passwords and tokens, and one
/// headless Chromium, shared by the browser tests (figures for 2025-Q4 too, for the trend). Jinan (3701) with two districts; Wenchang street
/// (370113001) hosts three villages itself, Ping'an street (370113003) one, and two villages run their own nodes. Beicun (370113002001)
/// lags: satisfaction 60% and one reserve cadre. Star ratings and grades for 2025 and 2026: see the other part of this class.
/// </summary>
public sealed partial class WebHierarchyFixture : IAsyncLifetime
{
    public const string Quarter = "2026-Q1";
    public const string EarlierQuarter = "2025-Q4";
    public const string City = "3701";
    public const string Changqing = "370113";
    public const string Shanghe = "370126";
    public const string Wenchang = "370113001";
    public const string Guyunhu = "370113002";
    public const string Beicun = "370113002001";
    public const string Xicun = "370113001002";
    public const string Pingan = "370113003";
    public const string Ancun = "370113003001";
    public const int LeafCount = 6;
    public const string CityReader = "zhang.wei";
    public const string CityReaderPassword = "济南市读者2026-pass";
    public const string TownshipReviewer = "li.na";
    public const string TownshipReviewerPassword = "文昌街道审核员-2026";

    private readonly TempFolder _folder = new();
    private IPlaywright? _playwright;

    public TestHierarchy Hierarchy { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>A reader token scoped to Shanghe county, issued by the city.</summary>
    public string ShangheReaderToken { get; private set; } = string.Empty;

    /// <summary>Where the screenshots go: TestResults/screenshots under the test output folder.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    public static TreeNode Tree() => new(City, "city",
    [
        new(Changqing, "county",
        [
            new(Wenchang, "township", []) { DisplayName = "文昌街道", HostedUnits = [("370113001001", "东村"), (Xicun, "西村"), ("370113001003", "南村")] },
            new(Guyunhu, "township", [new(Beicun, "village", []) { DisplayName = "北村" }]) { DisplayName = "崮云湖街道" },
            new(Pingan, "township", []) { DisplayName = "平安街道", HostedUnits = [(Ancun, "安村")] },
        ]) { DisplayName = "长清区" },
        new(Shanghe, "county",
        [
            new("370126001", "township", [new("370126001001", "village", []) { DisplayName = "中村" }]) { DisplayName = "许商街道" },
        ]) { DisplayName = "商河县" },
    ]) { DisplayName = "济南市" };

    public async Task InitializeAsync()
    {
        try
        {
            await BrowserSetup.EnsureAsync();
            Directory.CreateDirectory(ScreenshotFolder);
            Hierarchy = await TestHierarchy.StartAsync(_folder, Tree());
            await SubmitAsync(EarlierQuarter, satisfied: 75);
            await SubmitAsync(Quarter, satisfied: 90);
            await TestHierarchy.WaitForTotalsAsync(Hierarchy.Root, EarlierQuarter, static t => t.Coverage.ReportedLeafCount == LeafCount, "the city to cover 2025-Q4");
            await TestHierarchy.WaitForTotalsAsync(Hierarchy.Root, Quarter, static t => t.Coverage.ReportedLeafCount == LeafCount, "the city to cover all six villages");
            await GradeAsync();
            await RateAsync();
            await Hierarchy.Root.Access.SetPasswordAsync(
                new SetPasswordRequest { Account = CityReader, Role = Role.Reader, Scope = City, Password = CityReaderPassword }, deadline: Rpc.Deadline());
            await Hierarchy[Wenchang].Access.SetPasswordAsync(
                new SetPasswordRequest { Account = TownshipReviewer, Role = Role.Reviewer, Scope = Wenchang, Password = TownshipReviewerPassword }, deadline: Rpc.Deadline());
            ShangheReaderToken = await Hierarchy.Root.IssueTokenAsync(Role.Reader, Shanghe, account: "wang.fang");
            _playwright = await Playwright.CreateAsync();
            Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = BrowserSetup.ChromiumPath, Headless = true });
            Console.WriteLine($"Browser test screenshots: {ScreenshotFolder}");
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh browser context (its own cookies) speaking <paramref name="language"/>; the test CA is not in its trust store.</summary>
    public Task<IBrowserContext> ContextAsync(string language = "zh-CN") => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        IgnoreHTTPSErrors = true,
        Locale = language,
        ExtraHTTPHeaders = new Dictionary<string, string> { ["Accept-Language"] = language },
        ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        AcceptDownloads = true,
    });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Hierarchy is not null)
        {
            await Hierarchy.DisposeAsync();
        }

        _folder.Dispose();
    }

    /// <summary>Logs in at <paramref name="node"/>'s page with an account and password; returns the page after login.</summary>
    public static async Task<IPage> LogInAsync(IBrowserContext context, TestNode node, string account, string password, string path = "/")
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(node.Address + path);
        await page.FillAsync("#account", account);
        await page.FillAsync("#password", password);
        await page.ClickAsync("#login-submit");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        return page;
    }

    public static async Task<IPage> LogInWithTokenAsync(IBrowserContext context, TestNode node, string token, string path = "/")
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(node.Address + path);
        await page.FillAsync("#token", token);
        await page.ClickAsync("#login-submit");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    private async Task SubmitAsync(string quarter, long satisfied)
    {
        var good = new Func<long, IndicatorValue[]>(members =>
        [
            Reports.Count("party_members", members),
            Reports.Flag("secretary_college_degree", true),
            Reports.Count("committee_posts", 5),
            Reports.Count("reserve_cadres", 6),
            Reports.Count("satisfaction_surveyed", 100),
            Reports.Count("satisfaction_satisfied", satisfied),
            Reports.Flag("venue_up_to_standard", true),
            Reports.Measure("secretary_age", 45),
        ]);
        foreach (var (host, unit, members) in new[] { (Wenchang, "370113001001", 41L), (Wenchang, Xicun, 37L), (Wenchang, "370113001003", 52L), (Pingan, Ancun, 29L) })
        {
            await Hierarchy[host].Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = unit, Period = quarter, Values = { good(members) } }, deadline: Rpc.Deadline());
        }

        await Hierarchy.SubmitAsync("370126001001", quarter, good(33));
        await Hierarchy.SubmitAsync(Beicun, quarter,
        [
            Reports.Count("party_members", 28),
            Reports.Flag("secretary_college_degree", false),
            Reports.Count("committee_posts", 5),
            Reports.Count("reserve_cadres", 1),
            Reports.Count("satisfaction_surveyed", 100),
            Reports.Count("satisfaction_satisfied", 60),
            Reports.Flag("venue_up_to_standard", true),
            Reports.Measure("secretary_age", 58),
        ]);
    }
}

[CollectionDefinition(Name)]
public sealed class WebHierarchyCollection : ICollectionFixture<WebHierarchyFixture>
{
    public const string Name = "web hierarchy";
}
