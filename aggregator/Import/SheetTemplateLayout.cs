using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Aggregator.Import;

/// <summary>What a template cell accepts, as a spreadsheet's data validation can say it.</summary>
public enum TemplateInput
{
    /// <summary>A whole number of 0 or more (counts and measures).</summary>
    WholeNumber,

    /// <summary>One of <see cref="TemplateColumn.Choices"/> (是/否, or a category's names).</summary>
    Choice,
}

/// <summary>One indicator column of a template: its header, the note on the header and what its cells accept.</summary>
public sealed record TemplateColumn(Indicator Indicator, string Header, string Note, TemplateInput Input, IReadOnlyList<string> Choices, bool Required);

/// <summary>One unit row: the id (written as text) and its display name.</summary>
public sealed record TemplateUnit(string Id, string DisplayName);

/// <summary>One line of the notes sheet (填写说明): an indicator as a clerk needs to know it.</summary>
public sealed record TemplateNote(int Number, string Id, string Name, string OtherName, string Kind, string Unit, string Allowed, string Required, string Target);

/// <summary>
/// The sheet a clerk fills for a period: unit rows down the side, entered indicators across, notes for each
/// header. Pure: the same catalogue, units, period and language give the same layout. Ratios are left
/// out because a node derives them from their two counts. Headers are the catalogue's names exactly, so
/// the filled sheet imports through <see cref="SheetImport"/> as it is.
/// </summary>
public sealed class SheetTemplateLayout
{
    /// <summary>Most unit rows one template holds; more than a township hosts, fewer than a sheet should.</summary>
    public const int MaxUnits = 1000;

    /// <summary>The name of the notes sheet. It has no unit column and no indicator in column A, so an import skips it.</summary>
    public const string NotesSheetZh = "填写说明";

    /// <summary>The notes sheet's name in an English template.</summary>
    public const string NotesSheetEn = "Notes";

    // Catalogue units are English words; a Chinese sheet says them the way a clerk does.
    private static readonly Dictionary<string, string> s_unitsZh = new(StringComparer.OrdinalIgnoreCase)
    {
        ["people"] = "人", ["years"] = "岁", ["posts"] = "个", ["items"] = "项", ["courses"] = "期",
        ["attendances"] = "人次", ["firms"] = "家", ["yuan"] = "元", ["villages"] = "个", ["stars"] = "星",
    };

    private SheetTemplateLayout(bool chinese, string title, string sheetName, IReadOnlyList<TemplateColumn> columns, IReadOnlyList<TemplateUnit> units, IReadOnlyList<TemplateNote> notes)
    {
        Chinese = chinese;
        Title = title;
        SheetName = sheetName;
        Columns = columns;
        Units = units;
        Notes = notes;
    }

    /// <summary>True for a Chinese template.</summary>
    public bool Chinese { get; }

    /// <summary>The title row above the header (an import skips it).</summary>
    public string Title { get; }

    /// <summary>The name of the sheet to fill.</summary>
    public string SheetName { get; }

    /// <summary>The header of the unit id column.</summary>
    public string IdHeader => Chinese ? "单位编码" : "unit_id";

    /// <summary>The header of the unit name column.</summary>
    public string NameHeader => Chinese ? "单位名称" : "unit name";

    /// <summary>The note on the unit id column's header.</summary>
    public string IdNote => Chinese
        ? "单位编码，请勿修改。本列为文本格式，Excel 不会把编码改成科学计数法。"
        : "The unit's id; do not change it. The column is text, so Excel keeps every digit.";

    /// <summary>The indicator columns, in catalogue order.</summary>
    public IReadOnlyList<TemplateColumn> Columns { get; }

    /// <summary>The unit rows, in the order asked for (by id when none was named).</summary>
    public IReadOnlyList<TemplateUnit> Units { get; }

    /// <summary>The notes sheet's name.</summary>
    public string NotesSheetName => Chinese ? NotesSheetZh : NotesSheetEn;

    /// <summary>The notes sheet's header row.</summary>
    public IReadOnlyList<string> NotesHeader => Chinese
        ? ["序号", "指标编码", "指标", "英文名", "类型", "计量单位", "可填写的值", "是否必填", "目标"]
        : ["No.", "indicator id", "indicator", "Chinese name", "kind", "measured in", "what to write", "required", "target"];

    /// <summary>One line per indicator column, then the ratios a node computes.</summary>
    public IReadOnlyList<TemplateNote> Notes { get; }

    /// <summary>The layout for <paramref name="period"/>, in Chinese unless <paramref name="chinese"/> is false.</summary>
    public static SheetTemplateLayout Create(CatalogueIndex catalogue, Period period, string nodeId, IReadOnlyList<TemplateUnit> units, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(units);
        var required = catalogue.RequiredFor(period.Type).ToHashSet(StringComparer.Ordinal);
        // Ratios and the counts the rectification ledger computes are not entered: no column, a note saying why.
        var columns = catalogue.Indicators
            .Where(static i => i.Kind != ValueKind.Ratio && i.LedgerCount == LedgerCount.Unspecified)
            .Select(i => Column(i, required.Contains(i.Id), period, chinese))
            .ToList();
        var number = 0;
        var notes = columns.Select(c => NoteOf(++number, c.Indicator, c.Required, period, chinese, c.Choices)).ToList();
        notes.AddRange(catalogue.Indicators.Where(static i => i.LedgerCount != LedgerCount.Unspecified).Select(i => NoteOf(++number, i, false, period, chinese, [])));
        notes.AddRange(catalogue.Ratios.Select(r => NoteOf(++number, r, false, period, chinese, [])));
        var title = chinese
            ? string.Create(CultureInfo.InvariantCulture, $"{nodeId} {period} 基层党建数据填报表（灰色列勿改；每行一个单位；空白表示未报）")
            : string.Create(CultureInfo.InvariantCulture, $"{nodeId} {period} figures to fill (grey columns: do not change; one row per unit; a blank cell is not reported)");
        return new SheetTemplateLayout(chinese, title, period.ToString(), columns, units, notes);
    }

    private static TemplateColumn Column(Indicator indicator, bool required, Period period, bool chinese)
    {
        var choices = indicator.Kind switch
        {
            ValueKind.Flag => chinese ? ["是", "否"] : (IReadOnlyList<string>)["yes", "no"],
            ValueKind.Category => [.. indicator.Categories.Select(c => chinese && c.NameZh.Length > 0 ? c.NameZh : c.Code)],
            _ => [],
        };
        var input = choices.Count > 0 ? TemplateInput.Choice : TemplateInput.WholeNumber;
        var header = chinese ? indicator.NameZh : indicator.NameEn;
        var lines = new List<string>
        {
            $"{header} [{indicator.Id}]",
            (chinese ? "填写：" : "Write: ") + Allowed(indicator, chinese, choices),
        };
        if (UnitOf(indicator, chinese) is { Length: > 0 } unit)
        {
            lines.Add((chinese ? "计量单位：" : "Measured in: ") + unit);
        }

        lines.Add(RequiredText(required, period, chinese));
        if (indicator.Target is { Description.Length: > 0 } target)
        {
            lines.Add((chinese ? "目标：" : "Target: ") + target.Description);
        }

        return new TemplateColumn(indicator, header, string.Join('\n', lines), input, choices, required);
    }

    private static TemplateNote NoteOf(int number, Indicator indicator, bool required, Period period, bool chinese, IReadOnlyList<string> choices) => new(
        number,
        indicator.Id,
        chinese ? indicator.NameZh : indicator.NameEn,
        chinese ? indicator.NameEn : indicator.NameZh,
        KindText(indicator.Kind, chinese),
        UnitOf(indicator, chinese),
        indicator.Kind == ValueKind.Ratio ? RatioText(indicator, chinese)
            : indicator.LedgerCount != LedgerCount.Unspecified ? LedgerText(chinese)
            : Allowed(indicator, chinese, choices),
        indicator.Kind == ValueKind.Ratio || indicator.LedgerCount != LedgerCount.Unspecified ? string.Empty : RequiredText(required, period, chinese),
        indicator.Target?.Description ?? string.Empty);

    private static string Allowed(Indicator indicator, bool chinese, IReadOnlyList<string> choices) => indicator.Kind switch
    {
        ValueKind.Count or ValueKind.Measure => chinese ? "0 或正整数（可带千位分隔符，如 51,000）" : "a whole number, 0 or more (thousands separators are fine: 51,000)",
        ValueKind.Flag => chinese ? "是 或 否（也可填 √/×、1/0）" : "yes or no (also 是/否, √/×, 1/0)",
        ValueKind.Category => (chinese ? "以下之一：" : "one of: ") + string.Join(chinese ? "、" : ", ", choices),
        _ => string.Empty,
    };

    private static string RatioText(Indicator ratio, bool chinese) => chinese
        ? $"不填写：由 {ratio.Ratio?.NumeratorIndicatorId} ÷ {ratio.Ratio?.DenominatorIndicatorId} 计算"
        : $"not entered: computed as {ratio.Ratio?.NumeratorIndicatorId} ÷ {ratio.Ratio?.DenominatorIndicatorId}";

    private static string LedgerText(bool chinese) => chinese
        ? "不填写：由整改台账自动统计（挂牌、报告整改、上级验收销号）"
        : "not entered: counted from the rectification ledger (listed, fix reported, accepted by the tier above)";

    private static string RequiredText(bool required, Period period, bool chinese) => (required, chinese) switch
    {
        (true, true) => $"必填（{period} 的报告必须有此项）",
        (true, false) => $"required (every {period} report must hold it)",
        (false, true) => "选填：空白表示未报",
        (false, false) => "optional: a blank cell is recorded as not reported",
    };

    private static string UnitOf(Indicator indicator, bool chinese) =>
        chinese && s_unitsZh.TryGetValue(indicator.Unit, out var zh) ? zh : indicator.Unit;

    private static string KindText(ValueKind kind, bool chinese) => (kind, chinese) switch
    {
        (ValueKind.Count, true) => "计数",
        (ValueKind.Flag, true) => "是/否",
        (ValueKind.Measure, true) => "数值",
        (ValueKind.Category, true) => "类别",
        (ValueKind.Ratio, true) => "比率（自动计算）",
        (ValueKind.Count, false) => "count",
        (ValueKind.Flag, false) => "yes/no",
        (ValueKind.Measure, false) => "measure",
        (ValueKind.Category, false) => "category",
        (ValueKind.Ratio, false) => "ratio (computed)",
        _ => string.Empty,
    };
}
