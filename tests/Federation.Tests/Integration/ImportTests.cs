using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>Importing a sheet of hosted units' figures at a township of a 3-tier tree: real .xlsx and GBK CSV files.</summary>
public sealed class ImportTests : IAsyncLifetime
{
    private const string Township = "370113001";
    private const string East = "370113001001";
    private const string West = "370113001002";
    private const string South = "370113001003";
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    private TestNode Node => _tree[Township];

    /// <summary>A sheet as a township keeps it: a title row, 村名 and 单位编码, Chinese headers, 是/否, 好/较好, "51,000", blank rows below.</summary>
    private static List<object?[]> GoodSheet(string eastMembers = "45", string westMembers = "38", long southSatisfied = 90) =>
    [
        ["文昌街道2026年基层党建数据（第一季度）", null, null, null, null, null, null, null],
        ["村名", "单位编码", "党员数（人）", "书记大专及以上学历", "分类定级", "满意度测评人数", "满意人数", "书记报酬"],
        ["东村", 370113001001L, eastMembers, "是", "好", 120, 110, "51,000"],
        ["西村", 370113001002L, westMembers, "否", "较好", 80, 75, "48,500"],
        ["南村", 370113001003L, 52, "√", "好", 100, southSatisfied, "60,000"],
        [null, null, null, null, null, null, null, null],
        [null, null, null, null, null, null, null, null],
    ];

    public async Task InitializeAsync()
    {
        var shape = new TreeNode("3701", "city", [new TreeNode("370113", "county", [new TreeNode(Township, "township", [])])]);
        _tree = await TestHierarchy.StartAsync(_folder, shape);
        foreach (var (id, name) in new[] { (East, "东村"), (West, "西村"), (South, "南村") })
        {
            await Node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = id, DisplayName = name }, deadline: Rpc.Deadline());
        }

        await _tree.SubmitAsync(Township, "2026-Q1", [Reports.Count("party_members", 10), Reports.Measure("secretary_pay", 40_000)]);
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, "2026-Q1", static t => Total(t, "party_members") == 10, "the city to show the township's own report");
    }

    public async Task DisposeAsync()
    {
        _tree.AssertNoErrors();
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task ImportSheet_XlsxWithChineseHeaders_StoresEveryUnitAndTheTopTotalMovesByItsSum()
    {
        var response = await ImportAsync(Sheets.Xlsx(GoodSheet(), "文昌街道"), "figures.xlsx", "2026-Q1");

        Assert.True(response.Stored, string.Join("\n", response.Problems));
        Assert.Empty(response.Problems);
        Assert.Equal([East, West, South], response.Units.Select(static u => u.UnitId));
        Assert.All(response.Units, static u => Assert.True(u.IsNew && u.Version == 1));
        Assert.Equal("东村", response.Units[0].DisplayName);
        var east = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline())).Report;
        Assert.Equal(45, Value(east, "party_members").Count);
        Assert.True(Value(east, "secretary_college_degree").Flag);
        Assert.Equal("good", Value(east, "classification_grade").Category);
        Assert.Equal(51_000, Value(east, "secretary_pay").Measure);
        var city = await TestHierarchy.WaitForTotalsAsync(_tree.Root, "2026-Q1", static t => Total(t, "party_members") == 10 + 45 + 38 + 52, "the city to add the sheet");
        Assert.Equal(40_000 + 51_000 + 48_500 + 60_000, Total(city, "secretary_pay"));
        Assert.Equal(120 + 80 + 100, Total(city, "satisfaction_surveyed"));
        Assert.Equal(110 + 75 + 90, Total(city, "satisfaction_satisfied"));
        Assert.Equal(2, Total(city, "secretary_college_degree"));
        Assert.Equal(4u, city.Coverage.ReportedLeafCount);
    }

    [Fact]
    public async Task ImportSheet_SameSheetAsGbkCsv_StoresTheSameFigures()
    {
        await ImportAsync(Sheets.Xlsx(GoodSheet()), "figures.xlsx", "2026-Q1");
        var gbk = Sheets.GbkCsv(GoodSheet());
        Assert.Throws<System.Text.DecoderFallbackException>(() => new System.Text.UTF8Encoding(false, true).GetString(gbk));

        var response = await ImportAsync(gbk, "figures.csv", "2026-Q2");

        Assert.True(response.Stored, string.Join("\n", response.Problems));
        foreach (var unit in new[] { East, West, South })
        {
            var fromXlsx = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = unit, Period = "2026-Q1" }, deadline: Rpc.Deadline())).Report;
            var fromCsv = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = unit, Period = "2026-Q2" }, deadline: Rpc.Deadline())).Report;
            Assert.Equal(fromXlsx.Values, fromCsv.Values);
        }
    }

    [Fact]
    public async Task ImportSheet_ThreeBadCells_ReportsEachWhereItIsAndStoresNothingUntilFixed()
    {
        var bad = GoodSheet(eastMembers: "3O", westMembers: "５５", southSatisfied: 130);

        var response = await ImportAsync(Sheets.Xlsx(bad, "文昌街道"), "figures.xlsx", "2026-Q1");

        Assert.False(response.Stored);
        Assert.Empty(response.Units);
        Assert.Equal(3, response.Problems.Count);
        var typo = response.Problems.Single(static p => p.UnitId == East);
        Assert.Equal(("文昌街道", 3u, "C", "party_members"), (typo.Sheet, typo.Row, typo.Column, typo.IndicatorId));
        Assert.Contains("30", typo.MessageEn, StringComparison.Ordinal);
        Assert.Contains("党员数", typo.MessageZh, StringComparison.Ordinal);
        var fullWidth = response.Problems.Single(static p => p.UnitId == West);
        Assert.Equal(("文昌街道", 4u, "C", "party_members"), (fullWidth.Sheet, fullWidth.Row, fullWidth.Column, fullWidth.IndicatorId));
        Assert.Contains("全角", fullWidth.MessageZh, StringComparison.Ordinal);
        Assert.Contains("full-width", fullWidth.MessageEn, StringComparison.Ordinal);
        var rule = response.Problems.Single(static p => p.UnitId == South);
        Assert.Equal(("文昌街道", 5u, "G", "satisfaction_satisfied"), (rule.Sheet, rule.Row, rule.Column, rule.IndicatorId));
        Assert.Contains("130", rule.MessageZh, StringComparison.Ordinal);
        Assert.Contains("130", rule.MessageEn, StringComparison.Ordinal);
        foreach (var unit in new[] { East, West, South })
        {
            await Rpc.FailsAsync(
                async () => await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = unit, Period = "2026-Q1" }, deadline: Rpc.Deadline()),
                StatusCode.NotFound, "NO_FIGURES");
        }

        var city = await _tree.Root.Query.GetTotalsAsync(new GetTotalsRequest { Period = "2026-Q1", Refresh = true }, deadline: Rpc.Deadline());
        Assert.Equal(10, Total(city, "party_members"));

        var fixedResponse = await ImportAsync(Sheets.Xlsx(GoodSheet(eastMembers: "30", westMembers: "55"), "文昌街道"), "figures.xlsx", "2026-Q1");

        Assert.True(fixedResponse.Stored, string.Join("\n", fixedResponse.Problems));
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, "2026-Q1", static t => Total(t, "party_members") == 10 + 30 + 55 + 52, "the city to add the fixed sheet");
    }

    [Fact]
    public async Task ImportSheet_DryRun_StoresNothingAndListsEachCorrectionOldToNew()
    {
        await ImportAsync(Sheets.Xlsx(GoodSheet()), "figures.xlsx", "2026-Q1");

        var response = await ImportAsync(Sheets.Utf8BomCsv(GoodSheet(eastMembers: "47")), "figures.csv", "2026-Q1", dryRun: true);

        Assert.False(response.Stored);
        Assert.Empty(response.Problems);
        var east = response.Units.Single(static u => u.UnitId == East);
        Assert.False(east.IsNew);
        Assert.Equal(2ul, east.Version);
        var change = Assert.Single(east.Changes);
        Assert.Equal(("party_members", 45L, 47L), (change.IndicatorId, change.Old.Count, change.New.Count));
        Assert.Empty(response.Units.Single(static u => u.UnitId == West).Changes);
        var stored = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline())).Report;
        Assert.Equal(1ul, stored.Version);
        Assert.Equal(45, Value(stored, "party_members").Count);
    }

    [Fact]
    public async Task ImportSheet_OneWorksheetPerUnit_StoresEachAndPlacesProblemsByRow()
    {
        List<object?[]> east = [["东村一季度报表"], ["指标", "数值"], ["党员数", 45], ["分类定级", "较好"], ["星级", "四星"]];
        List<object?[]> west = [["单位编码", "370113001002"], ["党员数", "38"], ["书记大专及以上学历", "否"]];
        List<object?[]> notes = [["填表说明：每个村一个工作表"]];
        var bad = Sheets.XlsxSheets([("东村", east), ("西村", (List<object?[]>)[["单位编码", "370113001002"], ["党员数", "3O"]]), ("说明", notes)]);

        var refused = await ImportAsync(bad, "villages.xlsx", "2026-Q1");

        var problem = Assert.Single(refused.Problems);
        Assert.Equal(("西村", 2u, "B", West, "party_members"), (problem.Sheet, problem.Row, problem.Column, problem.UnitId, problem.IndicatorId));
        var response = await ImportAsync(Sheets.XlsxSheets([("东村", east), ("西村", west), ("说明", notes)]), "villages.xlsx", "2026-Q1");

        Assert.True(response.Stored, string.Join("\n", response.Problems));
        Assert.Equal([East, West], response.Units.Select(static u => u.UnitId));
        var stored = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline())).Report;
        Assert.Equal("fairly_good", Value(stored, "classification_grade").Category);
        Assert.Equal("4", Value(stored, "star_rating").Category);
    }

    [Fact]
    public async Task ImportSheet_CorrectingAnApprovedReport_IsLockedAndStoresNothing()
    {
        await ImportAsync(Sheets.Xlsx(GoodSheet()), "figures.xlsx", "2026-Q1");
        await new ReviewService.ReviewServiceClient(Node.ChannelWith(Node.Tokens.Reviewer)).ApproveReportAsync(
            new ApproveReportRequest { UnitId = West, Period = "2026-Q1" }, deadline: Rpc.Deadline());

        var response = await ImportAsync(Sheets.Xlsx(GoodSheet(eastMembers: "47", westMembers: "39")), "figures.xlsx", "2026-Q1");

        var problem = Assert.Single(response.Problems);
        Assert.Equal((West, "LOCKED", 4u), (problem.UnitId, problem.Reason, problem.Row));
        Assert.Contains("审核", problem.MessageZh, StringComparison.Ordinal);
        Assert.False(response.Stored);
        var east = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline())).Report;
        Assert.Equal((1ul, 45L), (east.Version, Value(east, "party_members").Count));
    }

    [Fact]
    public async Task ImportSheet_ClerkOfOneUnit_MayImportOnlyThatUnit()
    {
        var token = await Node.IssueTokenAsync(Role.Clerk, East, account: "clerk-east");
        var client = new ImportService.ImportServiceClient(Node.ChannelWith(token));
        List<object?[]> onlyEast = [.. GoodSheet().Take(3)];

        await Rpc.FailsAsync(
            async () => await client.ImportSheetAsync(Request(Sheets.Xlsx(GoodSheet()), "figures.xlsx", "2026-Q1", false), deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
        await Rpc.FailsAsync(
            async () => await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "NO_FIGURES");
        var response = await client.ImportSheetAsync(Request(Sheets.Xlsx(onlyEast), "east.xlsx", "2026-Q1", false), deadline: Rpc.Deadline());

        Assert.True(response.Stored, string.Join("\n", response.Problems));
        Assert.Equal(East, Assert.Single(response.Units).UnitId);
        var byName = await client.ImportSheetAsync(
            Request(Sheets.Xlsx([["村名", "党员数"], ["西村", 5]]), "west.xlsx", "2026-Q1", true), deadline: Rpc.Deadline());
        Assert.DoesNotContain(West, Assert.Single(byName.Problems).MessageEn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportSheet_NotASheet_IsRefusedAsUnreadable()
    {
        await Rpc.FailsAsync(
            async () => await Node.Import.ImportSheetAsync(Request([1, 2, 3, 4], "figures.xlsx", "2026-Q1", false), deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "UNREADABLE_SHEET");
        await Rpc.FailsAsync(
            async () => await Node.Import.ImportSheetAsync(Request(Sheets.GbkCsv([["a", "b"], ["1", "2"]]), "figures.csv", "2026-Q1", false), deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "UNREADABLE_SHEET");
    }

    [Fact]
    public async Task ImportCommand_BadSheet_PrintsEachProblemInTheChosenLanguageAndExitsOne()
    {
        var path = Path.Combine(Directory.CreateDirectory(_folder.Sub("files")).FullName, "bad.xlsx");
        await File.WriteAllBytesAsync(path, Sheets.Xlsx(GoodSheet(eastMembers: "3O"), "文昌街道"));

        var english = await Cli.RunAsync("import", "--node", Node.Address, "--period", "2026-Q1", path, "--lang", "en", "--token", Node.Tokens.Clerk, "--ca", TestPki.CaPath);
        var chinese = await Cli.RunAsync("import", "--node", Node.Address, "--period", "2026-Q1", path, "--lang", "zh", "--token", Node.Tokens.Clerk, "--ca", TestPki.CaPath);
        var json = await Cli.RunAsync("import", "--node", Node.Address, "--period", "2026-Q1", path, "--json", "--token", Node.Tokens.Clerk, "--ca", TestPki.CaPath);

        Assert.Equal(1, english.ExitCode);
        Assert.Contains("1 problem(s); nothing was stored", english.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("did you mean 30?", english.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(East, english.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, chinese.ExitCode);
        Assert.Contains("未保存任何数据", chinese.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("是否应为“30”", chinese.StandardOutput, StringComparison.Ordinal);
        var parsed = ImportSheetResponse.Parser.WithDiscardUnknownFields(true).ParseJson(json.StandardOutput);
        Assert.Equal(("文昌街道", 3u, "C"), (parsed.Problems[0].Sheet, parsed.Problems[0].Row, parsed.Problems[0].Column));
        await Rpc.FailsAsync(
            async () => await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "NO_FIGURES");
    }

    [Fact]
    public async Task ImportCommand_DryRun_PrintsTheCorrectionOldToNewAndStoresNothing()
    {
        await ImportAsync(Sheets.Xlsx(GoodSheet()), "figures.xlsx", "2026-Q1");
        var path = Path.Combine(Directory.CreateDirectory(_folder.Sub("files")).FullName, "fix.csv");
        await File.WriteAllBytesAsync(path, Sheets.GbkCsv(GoodSheet(eastMembers: "47")));

        var printed = await Cli.RunAsync("import", "--node", Node.Address, "--period", "2026-Q1", path, "--dry-run", "--lang", "en", "--token", Node.Tokens.Clerk, "--ca", TestPki.CaPath);

        Assert.True(printed.ExitCode == 0, printed.StandardError);
        Assert.Contains("nothing stored", printed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Party members [party_members]: 45 → 47", printed.StandardOutput, StringComparison.Ordinal);
        var stored = (await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = East, Period = "2026-Q1" }, deadline: Rpc.Deadline())).Report;
        Assert.Equal(45, Value(stored, "party_members").Count);
    }

    [Fact]
    public async Task ImportCommand_MissingFileOrBadUrl_PrintsOneLineAndExitsOne()
    {
        var missing = await Cli.RunAsync("import", "--node", Node.Address, "--period", "2026-Q1", Path.Combine(_folder.Path, "nowhere.xlsx"), "--token", Node.Tokens.Clerk, "--ca", TestPki.CaPath);
        var path = Path.Combine(Directory.CreateDirectory(_folder.Sub("files")).FullName, "good.xlsx");
        await File.WriteAllBytesAsync(path, Sheets.Xlsx(GoodSheet()));
        var badUrl = await Cli.RunAsync("import", "--node", "ftp//nowhere", "--period", "2026-Q1", path, "--token", Node.Tokens.Clerk, "--ca", TestPki.CaPath);

        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nowhere.xlsx", missing.StandardError, StringComparison.Ordinal);
        Assert.Single(missing.StandardError.Trim().Split('\n'));
        Assert.Equal(1, badUrl.ExitCode);
        Assert.Contains("ftp//nowhere", badUrl.StandardError, StringComparison.Ordinal);
        Assert.Single(badUrl.StandardError.Trim().Split('\n'));
    }

    [Fact]
    public async Task CatalogueCommand_ListsEveryIndicatorInTheChosenLanguage()
    {
        var chinese = await Cli.RunAsync("catalogue", "--node", Node.Address, "--lang", "zh", "--token", Node.Tokens.Reader, "--ca", TestPki.CaPath);
        var english = await Cli.RunAsync("catalogue", "--node", Node.Address, "--lang", "en", "--token", Node.Tokens.Reader, "--ca", TestPki.CaPath);
        var json = await Cli.RunAsync("catalogue", "--node", Node.Address, "--json", "--token", Node.Tokens.Reader, "--ca", TestPki.CaPath);

        Assert.True(chinese.ExitCode == 0, chinese.StandardError);
        Assert.Contains("党员数", chinese.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("类别：好、较好、一般、较差", chinese.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Party members", english.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("≥ 85%", english.StandardOutput, StringComparison.Ordinal);
        var catalogue = Catalogue.Parser.ParseJson(json.StandardOutput);
        Assert.Equal(Aggregator.Catalogues.CatalogueIndex.Default.Indicators.Select(static i => i.Id), catalogue.Indicators.Select(static i => i.Id));
    }

    [Fact]
    public async Task ImportSheet_IdsExcelTurnedIntoScientificNotation_AreExplainedAndNothingIsStored()
    {
        var csv = "单位编码,党员数\r\n3.70113E+11,45\r\n370113001002,38\r\n";

        var response = await ImportAsync(System.Text.Encoding.UTF8.GetBytes(csv), "saved-by-excel.csv", "2026-Q1");

        var problem = Assert.Single(response.Problems);
        Assert.Equal(("saved-by-excel.csv", 2u, "A"), (problem.Sheet, problem.Row, problem.Column));
        Assert.Contains("scientific notation", problem.MessageEn, StringComparison.Ordinal);
        Assert.Contains("科学计数法", problem.MessageZh, StringComparison.Ordinal);
        Assert.False(response.Stored);
        await Rpc.FailsAsync(
            async () => await Node.Reporting.GetReportAsync(new GetReportRequest { UnitId = West, Period = "2026-Q1" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "NO_FIGURES");
    }

    [Fact]
    public async Task ImportSheet_XlsxThatUnpacksToFarMoreThanItsSize_IsRefusedUnread()
    {
        using var bomb = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(bomb, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("xl/worksheets/sheet1.xml", System.IO.Compression.CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 80; i++)
            {
                entry.Write(zeros);
            }
        }

        Assert.True(bomb.Length < 1024 * 1024);
        await Rpc.FailsAsync(
            async () => await Node.Import.ImportSheetAsync(Request(bomb.ToArray(), "bomb.xlsx", "2026-Q1", false), deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "UNREADABLE_SHEET");
    }

    private async Task<ImportSheetResponse> ImportAsync(byte[] bytes, string fileName, string period, bool dryRun = false) =>
        await Node.Import.ImportSheetAsync(Request(bytes, fileName, period, dryRun), deadline: Rpc.Deadline());

    private static ImportSheetRequest Request(byte[] bytes, string fileName, string period, bool dryRun) =>
        new() { FileBytes = ByteString.CopyFrom(bytes), FileName = fileName, Period = period, DryRun = dryRun };

    private static IndicatorValue Value(UnitReport report, string id) => report.Values.Single(v => v.IndicatorId == id);

    private static long Total(GetTotalsResponse totals, string id) => totals.Totals.Single(t => t.Indicator.Id == id).Aggregate.Total;
}
