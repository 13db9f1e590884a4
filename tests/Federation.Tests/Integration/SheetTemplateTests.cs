using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using DocumentFormat.OpenXml.Validation;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>The sheet to fill: read back with the Open XML SDK, filled in as a clerk would, and imported.</summary>
public sealed class SheetTemplateTests : IAsyncLifetime
{
    private const string Township = "370113001";
    private const string East = "370113001001";
    private const string West = "370113001002";
    private const string South = "370113001003";
    private readonly TempFolder _folder = new();
    private TestNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(new NodeSpec(Township, "township"), _folder.Sub(Township));
        foreach (var (id, name) in new[] { (South, "南村"), (East, "东村"), (West, "西村") })
        {
            await _node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = id, DisplayName = name }, deadline: Rpc.Deadline());
        }
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task GetSheetTemplate_AnnualChinese_ListsUnitsAsTextIndicatorsWithNotesAndChecks()
    {
        var catalogue = (await _node.Federation.GetCatalogueAsync(new GetCatalogueRequest(), deadline: Rpc.Deadline())).Catalogue;
        var entered = catalogue.Indicators.Where(static i => i.Kind != ValueKind.Ratio && i.LedgerCount == LedgerCount.Unspecified).ToList();

        var response = await _node.Import.GetSheetTemplateAsync(new GetSheetTemplateRequest { Period = "2026" }, deadline: Rpc.Deadline());

        Assert.Equal($"{Township}-2026.xlsx", response.FileName);
        Assert.Equal((3u, (uint)entered.Count), (response.UnitCount, response.IndicatorCount));
        using var document = SpreadsheetDocument.Open(new MemoryStream(response.FileBytes.ToByteArray()), isEditable: false);
        var invalid = string.Join("\n", new OpenXmlValidator().Validate(document).Select(static e => $"{e.Path?.XPath}: {e.Description}"));
        Assert.True(invalid.Length == 0, invalid);
        var workbook = document.WorkbookPart!;
        Assert.Equal(["2026", "填写说明"], workbook.Workbook.Sheets!.Elements<Sheet>().Select(static s => s.Name!.Value));
        var sheet = Part(workbook, "2026");
        var cells = Cells(sheet);

        Assert.Contains("2026", cells["A1"], StringComparison.Ordinal);
        Assert.Equal(["单位编码", "单位名称", .. entered.Select(static i => i.NameZh)], Row(cells, 2, entered.Count + 2));
        Assert.Equal([East, "东村"], Row(cells, 3, 2));
        Assert.Equal([West, "西村"], Row(cells, 4, 2));
        Assert.Equal([South, "南村"], Row(cells, 5, 2));
        var idCell = sheet.Worksheet.Descendants<Cell>().Single(static c => c.CellReference == "A3");
        Assert.True(idCell.DataType! == CellValues.InlineString, "an id is text, never a number Excel could round");
        var idFormat = workbook.WorkbookStylesPart!.Stylesheet.CellFormats!.Elements<CellFormat>().ElementAt((int)idCell.StyleIndex!.Value);
        Assert.Equal(49u, idFormat.NumberFormatId!.Value);

        // A note on every indicator header: what to write, and for an annual sheet which ones are required.
        var notes = sheet.WorksheetCommentsPart!.Comments.CommentList!.Elements<Comment>()
            .ToDictionary(static c => c.Reference!.Value!, static c => c.InnerText);
        Assert.NotNull(sheet.Worksheet.GetFirstChild<LegacyDrawing>());
        var shapes = System.Xml.Linq.XDocument.Load(Assert.Single(sheet.VmlDrawingParts).GetStream())
            .Descendants(System.Xml.Linq.XName.Get("ClientData", "urn:schemas-microsoft-com:office:excel"));
        Assert.Equal(entered.Count + 1, shapes.Count());
        for (var i = 0; i < entered.Count; i++)
        {
            var note = notes[$"{Letter(i + 3)}2"];
            var indicator = entered[i];
            Assert.Contains($"[{indicator.Id}]", note, StringComparison.Ordinal);
            Assert.Contains(indicator.RequiredFor.Contains(PeriodType.Year) ? "必填" : "选填", note, StringComparison.Ordinal);
        }

        Assert.Contains("是 或 否", notes[$"{Letter(ColumnOf(entered, "secretary_college_degree"))}2"], StringComparison.Ordinal);
        Assert.Contains("计量单位：人", notes[$"{Letter(ColumnOf(entered, "party_members"))}2"], StringComparison.Ordinal);

        // A check on every figure column: lists for yes/no and categories, whole numbers of 0 or more for the rest.
        var checks = sheet.Worksheet.Descendants<DataValidation>().ToDictionary(static v => v.SequenceOfReferences!.InnerText!);
        Assert.Equal(entered.Count, checks.Count);
        var flag = checks[Range(ColumnOf(entered, "secretary_college_degree"))];
        Assert.Equal((DataValidationValues.List, "\"是,否\""), (flag.Type!.Value, flag.Formula1!.Text));
        var grade = checks[Range(ColumnOf(entered, "classification_grade"))];
        Assert.Equal("\"好,较好,一般,较差\"", grade.Formula1!.Text);
        var count = checks[Range(ColumnOf(entered, "party_members"))];
        Assert.Equal((DataValidationValues.Whole, DataValidationOperatorValues.GreaterThanOrEqual, "0"), (count.Type!.Value, count.Operator!.Value, count.Formula1!.Text));
        Assert.All(checks.Values, static v => Assert.True(v.ShowInputMessage!.Value && v.Prompt!.Value!.Length <= 255 && v.PromptTitle!.Value!.Length <= 32));

        // The notes sheet lists every indicator, ratios included (as computed).
        var notesCells = Cells(Part(workbook, "填写说明"));
        Assert.Equal(catalogue.Indicators.Count, notesCells.Keys.Count(static k => k.StartsWith('B')) - 1);
        Assert.Contains(notesCells.Values, static v => v.StartsWith("不填写：由", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetSheetTemplate_FilledInAsAClerkWould_ImportsWhatWasTyped()
    {
        foreach (var language in new[] { "zh", "en" })
        {
            var period = language == "zh" ? "2026-Q1" : "2026-Q2";
            var template = await _node.Import.GetSheetTemplateAsync(new GetSheetTemplateRequest { Period = period, Language = language }, deadline: Rpc.Deadline());
            var catalogue = (await _node.Federation.GetCatalogueAsync(new GetCatalogueRequest(), deadline: Rpc.Deadline())).Catalogue;
            var entered = catalogue.Indicators.Where(static i => i.Kind != ValueKind.Ratio && i.LedgerCount == LedgerCount.Unspecified).ToList();
            var filled = Fill(template.FileBytes.ToByteArray(), period, new Dictionary<(int Row, int Column), object>
            {
                [(3, ColumnOf(entered, "party_members"))] = 45,
                [(4, ColumnOf(entered, "party_members"))] = 38,
                [(5, ColumnOf(entered, "party_members"))] = 52,
                [(3, ColumnOf(entered, "secretary_college_degree"))] = language == "zh" ? "是" : "yes",
                [(4, ColumnOf(entered, "secretary_college_degree"))] = language == "zh" ? "否" : "no",
                [(3, ColumnOf(entered, "classification_grade"))] = language == "zh" ? "较好" : "fairly_good",
                [(5, ColumnOf(entered, "secretary_pay"))] = 51_000,
            });

            var response = await _node.Import.ImportSheetAsync(
                new ImportSheetRequest { FileBytes = ByteString.CopyFrom(filled), FileName = template.FileName, Period = period }, deadline: Rpc.Deadline());

            Assert.True(response.Stored, language + ": " + string.Join("\n", response.Problems));
            Assert.Equal([East, West, South], response.Units.Select(static u => u.UnitId));
            var east = await ReportAsync(East, period);
            Assert.Equal(45, Value(east, "party_members").Count);
            Assert.True(Value(east, "secretary_college_degree").Flag);
            Assert.Equal("fairly_good", Value(east, "classification_grade").Category);
            Assert.Equal(3, east.Values.Count);
            var west = await ReportAsync(West, period);
            Assert.False(Value(west, "secretary_college_degree").Flag);
            Assert.Equal(2, west.Values.Count);
            var south = await ReportAsync(South, period);
            Assert.Equal(51_000, Value(south, "secretary_pay").Measure);
        }
    }

    [Fact]
    public async Task GetSheetTemplate_ClerkOfOneVillage_GetsItsRowOnlyAndCannotAskForAnother()
    {
        var token = await _node.IssueTokenAsync(Role.Clerk, West, account: "clerk-west");
        var client = new ImportService.ImportServiceClient(_node.ChannelWith(token));

        var own = await client.GetSheetTemplateAsync(new GetSheetTemplateRequest { Period = "2026-Q1" }, deadline: Rpc.Deadline());

        Assert.Equal(1u, own.UnitCount);
        using (var document = SpreadsheetDocument.Open(new MemoryStream(own.FileBytes.ToByteArray()), isEditable: false))
        {
            var cells = Cells(Part(document.WorkbookPart!, "2026-Q1"));
            Assert.Equal([West, "西村"], Row(cells, 3, 2));
            Assert.False(cells.ContainsKey("A4"));
        }

        await Rpc.FailsAsync(
            async () => await client.GetSheetTemplateAsync(new GetSheetTemplateRequest { Period = "2026-Q1", UnitIds = { East } }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
        await Rpc.FailsAsync(
            async () => await _node.Import.GetSheetTemplateAsync(new GetSheetTemplateRequest { Period = "2026-Q1", Language = "fr" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "MALFORMED_REQUEST");
        await Rpc.FailsAsync(
            async () => await _node.Import.GetSheetTemplateAsync(new GetSheetTemplateRequest { Period = "2026-Q1", UnitIds = { "370113001009" } }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_UNIT");
    }

    [Fact]
    public async Task TemplateCommand_WritesTheSheet_AndAMissingFolderIsOneLine()
    {
        string[] As(params string[] args) => [.. args, "--node", _node.Address, "--token", _node.Tokens.Clerk, "--ca", TestPki.CaPath];
        var path = Path.Combine(_folder.Path, "sheet.xlsx");

        var written = await Cli.RunAsync(As("template", "--period", "2026-Q1", "--out", path, "--unit", South, "--unit", East, "--lang", "zh"));

        Assert.True(written.ExitCode == 0, written.StandardError);
        Assert.Contains("2 个单位", written.StandardOutput, StringComparison.Ordinal);
        using (var document = SpreadsheetDocument.Open(path, isEditable: false))
        {
            var cells = Cells(Part(document.WorkbookPart!, "2026-Q1"));
            Assert.Equal([South, East], [cells["A3"], cells["A4"]]);
        }

        var missing = await Cli.RunAsync(As("template", "--period", "2026-Q1", "--out", Path.Combine(_folder.Path, "no-such-folder", "sheet.xlsx"), "--lang", "en"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Single(missing.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", missing.StandardError, StringComparison.Ordinal);
    }

    private async Task<UnitReport> ReportAsync(string unit, string period) =>
        (await _node.Reporting.GetReportAsync(new GetReportRequest { UnitId = unit, Period = period }, deadline: Rpc.Deadline())).Report;

    private static IndicatorValue Value(UnitReport report, string id) => report.Values.Single(v => v.IndicatorId == id);

    /// <summary>The 1-based sheet column of an indicator: unit id and name come first.</summary>
    private static int ColumnOf(List<Indicator> entered, string id) => entered.FindIndex(i => i.Id == id) + 3;

    private static string Range(int column) => $"{Letter(column)}3:{Letter(column)}5";

    private static string Letter(int column)
    {
        var letters = string.Empty;
        for (var c = column; c > 0; c = (c - 1) / 26)
        {
            letters = (char)('A' + ((c - 1) % 26)) + letters;
        }

        return letters;
    }

    private static WorksheetPart Part(WorkbookPart workbook, string name) =>
        (WorksheetPart)workbook.GetPartById(workbook.Workbook.Sheets!.Elements<Sheet>().Single(s => s.Name == name).Id!.Value!);

    /// <summary>Every non-empty cell's text by reference (inline strings and numbers).</summary>
    private static Dictionary<string, string> Cells(WorksheetPart sheet) =>
        sheet.Worksheet.Descendants<Cell>()
            .Where(static c => c.InnerText.Length > 0)
            .ToDictionary(static c => c.CellReference!.Value!, static c => c.InnerText);

    private static List<string> Row(Dictionary<string, string> cells, int row, int width) =>
        [.. Enumerable.Range(1, width).Select(c => cells.GetValueOrDefault($"{Letter(c)}{row}", string.Empty))];

    /// <summary>Types values into the template's figure cells as a spreadsheet would store them: numbers as numbers, words as strings.</summary>
    private static byte[] Fill(byte[] template, string sheetName, Dictionary<(int Row, int Column), object> values)
    {
        using var stream = new MemoryStream();
        stream.Write(template);
        using (var document = SpreadsheetDocument.Open(stream, isEditable: true))
        {
            var sheet = Part(document.WorkbookPart!, sheetName);
            foreach (var ((row, column), value) in values)
            {
                var cell = sheet.Worksheet.Descendants<Cell>().Single(c => c.CellReference == $"{Letter(column)}{row}");
                if (value is int number)
                {
                    cell.CellValue = new CellValue(number);
                    cell.DataType = CellValues.Number;
                }
                else
                {
                    cell.DataType = CellValues.InlineString;
                    cell.InlineString = new InlineString(new Text((string)value));
                }
            }

            sheet.Worksheet.Save();
        }

        return stream.ToArray();
    }
}
