using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Import;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

/// <summary>What a sheet cell may hold, and how a sheet's header, units and rows are read.</summary>
public sealed class SheetCellsTests
{
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;
    private static readonly HostedUnit[] s_hosted = [new("370113001001", "东村"), new("370113001002", "西村")];

    [Theory]
    [InlineData("是", true)]
    [InlineData("否", false)]
    [InlineData("yes", true)]
    [InlineData("No", false)]
    [InlineData("√", true)]
    [InlineData("×", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    public void ParseFlag_CommonSpellings_AreRead(string cell, bool expected) => Assert.Equal(expected, SheetCells.ParseFlag(cell));

    [Theory]
    [InlineData("classification_grade", "好", "good")]
    [InlineData("classification_grade", "较好", "fairly_good")]
    [InlineData("classification_grade", "一般", "average")]
    [InlineData("classification_grade", "较差", "poor")]
    [InlineData("classification_grade", "fairly_good", "fairly_good")]
    [InlineData("star_rating", "五星", "5")]
    [InlineData("star_rating", "三星级", "3")]
    [InlineData("star_rating", "无星", "0")]
    [InlineData("star_rating", "4星", "4")]
    [InlineData("star_rating", "2", "2")]
    public void ParseCategory_NamesAndCodes_GiveTheCode(string indicator, string cell, string code) =>
        Assert.Equal(code, SheetCells.ParseCategory(s_catalogue.Get(indicator), cell));

    [Theory]
    [InlineData("51,000", 51_000)]
    [InlineData("1,234,567", 1_234_567)]
    [InlineData(" 45 ", 45)]
    [InlineData("45.0", 45)]
    public void ParseWhole_ThousandsSeparatorsAndExcelNumbers_AreRead(string cell, long expected) =>
        Assert.Equal(expected, SheetCells.ParseWhole(cell, out _));

    [Theory]
    [InlineData("５５", "55", "全角")]
    [InlineData("3O", "30", "30")]
    [InlineData("1l", "11", "11")]
    [InlineData("-3", "negative", "负数")]
    [InlineData("4.5", "whole", "整数")]
    [InlineData("3.70124E+11", "scientific", "科学计数法")]
    [InlineData("51,00", "whole", "整数")]
    public void ParseWhole_Mistakes_AreProblemsInBothLanguages(string cell, string inEnglish, string inChinese)
    {
        Assert.Null(SheetCells.ParseWhole(cell, out var problem));

        Assert.Contains(inEnglish, problem.MessageEn, StringComparison.Ordinal);
        Assert.Contains(inChinese, problem.MessageZh, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveUnit_ExcelScientificId_IsExplained()
    {
        Assert.Null(SheetImport.ResolveUnit("3.70113E+11", s_hosted, out var problem));

        Assert.Contains("scientific notation", problem.MessageEn, StringComparison.Ordinal);
        Assert.Contains("文本格式", problem.MessageZh, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("370113001002", "370113001002")]
    [InlineData("东村", "370113001001")]
    public void ResolveUnit_IdOrDisplayName_GivesTheHostedUnit(string cell, string expected) =>
        Assert.Equal(expected, SheetImport.ResolveUnit(cell, s_hosted, out _));

    [Theory]
    [InlineData("party_members", "party_members")]
    [InlineData("党员数（人）", "party_members")]
    [InlineData("Party members", "party_members")]
    [InlineData("“两委”职数", "committee_posts")]
    [InlineData("两委职数", "committee_posts")]
    public void MatchIndicator_IdOrNames_FindTheIndicator(string header, string expected) =>
        Assert.Equal(expected, SheetImport.MatchIndicator(header, s_catalogue)?.Id);

    [Theory]
    [InlineData(0, "A")]
    [InlineData(25, "Z")]
    [InlineData(26, "AA")]
    [InlineData(27, "AB")]
    [InlineData(701, "ZZ")]
    [InlineData(702, "AAA")]
    public void ColumnLetter_IsAsTheSpreadsheetShowsIt(int column, string letters) => Assert.Equal(letters, SheetImport.ColumnLetter(column));

    [Fact]
    public void Read_TitleRowNamesAndBlankRows_GivesOneRowPerUnitWithSheetRowNumbers()
    {
        var sheet = new SheetGrid("Sheet1",
        [
            ["2026年一季度"],
            ["村名", "党员数", "满意人数", "分类定级"],
            ["东村", "51,000", "", "较好"],
            ["", "", "", ""],
            ["西村", "７", "3O", "很好"],
            ["合计", "51,007", "", ""],
        ]);

        var content = SheetImport.Read(sheet, s_catalogue, s_hosted);

        Assert.True(content.HasHeader);
        Assert.Equal([3, 5], content.Rows.Select(static r => r.Row));
        Assert.Equal(["party_members", "classification_grade"], content.Rows[0].Values.Select(static v => v.IndicatorId));
        Assert.Equal("fairly_good", content.Rows[0].Values[1].Category);
        Assert.Equal(
            [(5, "B", "party_members"), (5, "C", "satisfaction_satisfied"), (5, "D", "classification_grade")],
            content.Problems.Select(static p => (p.Row, p.Column, p.IndicatorId)));
        Assert.All(content.Problems, static p => Assert.Equal(("Sheet1", "370113001002"), (p.Sheet, p.UnitId)));
    }

    [Fact]
    public void Read_UnknownUnitAndRepeatedUnit_AreProblemsOnTheUnitColumn()
    {
        var sheet = new SheetGrid("s", [["unit_id", "party_members"], ["370113001001", "1"], ["370113001001", "2"], ["370113009999", "3"]]);

        var content = SheetImport.Read(sheet, s_catalogue, s_hosted);

        Assert.Equal([(3, "A", "DUPLICATE_UNIT"), (4, "A", SheetImport.CellReason)], content.Problems.Select(static p => (p.Row, p.Column, p.Reason)));
    }

    [Fact]
    public void Read_NoIndicatorAnywhere_HasNoHeader()
    {
        var content = SheetImport.Read(new SheetGrid("说明", [["填表说明"], ["村名", "备注"], ["东村", "无"]]), s_catalogue, s_hosted);

        Assert.False(content.HasHeader);
    }

    [Fact]
    public void Read_IndicatorsButNoUnit_IsAProblemNamingTheSheet()
    {
        var content = SheetImport.Read(new SheetGrid("Sheet1", [["党员数", "4"]]), s_catalogue, s_hosted);

        Assert.Empty(content.Rows);
        Assert.Contains("sheet's name names no hosted unit", Assert.Single(content.Problems).MessageEn, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OneUnitSheetNamedAfterTheUnit_GivesItsValuesAndPlacesProblemsByRow()
    {
        var sheet = new SheetGrid("西村", [["西村报表"], ["党员数", "", "38"], ["满意人数", "3O"], ["备注", "无"]]);

        var content = SheetImport.Read(sheet, s_catalogue, s_hosted);

        var row = Assert.Single(content.Rows);
        Assert.Equal("370113001002", row.UnitId);
        Assert.Equal(38, Assert.Single(row.Values).Count);
        Assert.Equal((3, "B", "satisfaction_satisfied"), content.Problems.Select(static p => (p.Row, p.Column, p.IndicatorId)).Single());
    }

    [Fact]
    public void Parse_RatioColumn_IsAProblem()
    {
        Assert.Null(SheetCells.Parse(s_catalogue.Get("satisfaction_rate"), "90", out var problem));
        Assert.Contains("derived", problem.MessageEn, StringComparison.Ordinal);
        Assert.Equal(ValueKind.Ratio, s_catalogue.Get("satisfaction_rate").Kind);
    }
}
