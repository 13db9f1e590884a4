using System.Globalization;
using System.Text;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Protos.V1;

namespace Federation.Aggregator.Import;

/// <summary>A sheet as read from a file: its name and its cells as text, row by row (ragged rows allowed).</summary>
public sealed record SheetGrid(string Name, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>A unit hosted by the importing node, as a sheet may name it.</summary>
public readonly record struct HostedUnit(string Id, string DisplayName);

/// <summary>One thing wrong in a sheet, placed by sheet, 1-based row and column letter.</summary>
public sealed record SheetProblem(
    string Sheet, int Row, string Column, string UnitId, string IndicatorId, string MessageZh, string MessageEn, string Reason);

/// <summary>One unit's row: its values in column order and the column each indicator came from.</summary>
public sealed record SheetRow(string Sheet, int Row, string UnitId, IReadOnlyList<IndicatorValue> Values, IReadOnlyDictionary<string, string> ColumnOf)
{
    /// <summary>For a sheet holding one unit, one indicator a row: the row of each indicator; empty for a row per unit.</summary>
    public IReadOnlyDictionary<string, int> RowOf { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal);
}

/// <summary>What a sheet holds: the unit rows that read cleanly and every problem found.</summary>
public sealed record SheetContent(IReadOnlyList<SheetRow> Rows, IReadOnlyList<SheetProblem> Problems, bool HasHeader);

/// <summary>
/// Reads a sheet laid out one row per unit. Pure. The header is the first row (of the first ten) that
/// names a unit column (unit_id, 单位编码, 村名, …) and at least one indicator (by id, Chinese or English
/// name; a unit of measure in brackets is ignored); rows above it (a title) are skipped, as are blank
/// rows and a total row (合计). A unit cell holds a hosted unit's id or display name. Every cell of an
/// indicator column is read by <see cref="SheetCells"/>; a blank cell leaves the indicator out. A sheet
/// without such a header may hold one unit, one indicator a row (<see cref="ReadOneUnit"/>).
/// </summary>
public static class SheetImport
{
    /// <summary>The reason given for a cell that does not hold a value of its indicator's kind, or a unit cell that names no hosted unit.</summary>
    public const string CellReason = "CELL_VALUE";

    /// <summary>Rows searched for the header.</summary>
    public const int HeaderSearchRows = 10;

    private static readonly string[] s_idHeaders = ["unit_id", "unit id", "unit", "单位编码", "单位代码", "编码", "代码", "村编码", "村代码", "区划代码", "统计用区划代码"];
    private static readonly string[] s_nameHeaders = ["村名", "村名称", "名称", "单位名称", "单位", "村", "社区", "村（社区）", "村(社区)", "name", "unit name", "village"];
    private static readonly string[] s_totalRows = ["合计", "总计", "小计", "total", "sum"];

    public static SheetContent Read(SheetGrid sheet, CatalogueIndex catalogue, IReadOnlyList<HostedUnit> hosted)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(hosted);
        var problems = new List<SheetProblem>();
        var rows = new List<SheetRow>();
        var headerIndex = -1;
        int idColumn = -1, nameColumn = -1;
        var indicatorColumns = new List<(int Column, Indicator Indicator)>();
        for (var r = 0; r < Math.Min(HeaderSearchRows, sheet.Rows.Count) && headerIndex < 0; r++)
        {
            var (id, name, columns) = Header(sheet.Rows[r], catalogue);
            if ((id >= 0 || name >= 0) && columns.Count > 0)
            {
                (headerIndex, idColumn, nameColumn, indicatorColumns) = (r, id, name, columns);
            }
        }

        if (headerIndex < 0)
        {
            return ReadOneUnit(sheet, catalogue, hosted);
        }

        var header = sheet.Rows[headerIndex];
        var seenIndicators = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (column, indicator) in indicatorColumns)
        {
            if (!seenIndicators.TryAdd(indicator.Id, column))
            {
                problems.Add(new(sheet.Name, headerIndex + 1, ColumnLetter(column), string.Empty, indicator.Id,
                    $"指标“{indicator.NameZh}”出现了两列（{ColumnLetter(seenIndicators[indicator.Id])} 与 {ColumnLetter(column)}）",
                    $"indicator '{indicator.Id}' has two columns ({ColumnLetter(seenIndicators[indicator.Id])} and {ColumnLetter(column)})", "DUPLICATE_INDICATOR"));
            }
        }

        var unitColumn = idColumn >= 0 ? idColumn : nameColumn;
        var seenUnits = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var r = headerIndex + 1; r < sheet.Rows.Count; r++)
        {
            var row = sheet.Rows[r];
            if (row.All(string.IsNullOrWhiteSpace))
            {
                continue;
            }

            var unitText = Cell(row, unitColumn).Trim();
            var nameText = nameColumn >= 0 ? Cell(row, nameColumn).Trim() : string.Empty;
            if (s_totalRows.Contains(unitText.ToLowerInvariant()) || s_totalRows.Contains(nameText.ToLowerInvariant()))
            {
                continue;
            }

            var rowNumber = r + 1;
            var unitId = ResolveUnit(unitText, hosted, out var unitProblem);
            if (unitId is null)
            {
                problems.Add(new(sheet.Name, rowNumber, ColumnLetter(unitColumn), string.Empty, string.Empty, unitProblem.MessageZh, unitProblem.MessageEn, CellReason));
            }
            else if (!seenUnits.TryAdd(unitId, rowNumber))
            {
                problems.Add(new(sheet.Name, rowNumber, ColumnLetter(unitColumn), unitId, string.Empty,
                    $"单位 {unitId} 已在第 {seenUnits[unitId]} 行出现", $"unit {unitId} already appears in row {seenUnits[unitId]}", "DUPLICATE_UNIT"));
            }

            var values = new List<IndicatorValue>();
            var columnOf = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (column, indicator) in indicatorColumns)
            {
                var raw = Cell(row, column);
                if (string.IsNullOrWhiteSpace(raw) || seenIndicators[indicator.Id] != column)
                {
                    continue;
                }

                if (SheetCells.Parse(indicator, raw, out var problem) is { } value)
                {
                    values.Add(value);
                    columnOf[indicator.Id] = ColumnLetter(column);
                }
                else
                {
                    problems.Add(new(sheet.Name, rowNumber, ColumnLetter(column), unitId ?? string.Empty, indicator.Id,
                        $"{indicator.NameZh}：{problem.MessageZh}", $"{indicator.NameEn}: {problem.MessageEn}", CellReason));
                }
            }

            if (unitId is not null)
            {
                rows.Add(new SheetRow(sheet.Name, rowNumber, unitId, values, columnOf));
            }
        }

        return new SheetContent(rows, problems, true);
    }

    /// <summary>
    /// A sheet holding one unit, one indicator a row: the indicator's id or name in column A, its value in
    /// the first filled cell to its right. The unit is named by a row headed like a unit column (单位编码,
    /// 村名, unit_id) with the unit in its second cell, or else by the sheet's name. Without any indicator
    /// row it is not a sheet of figures.
    /// </summary>
    public static SheetContent ReadOneUnit(SheetGrid sheet, CatalogueIndex catalogue, IReadOnlyList<HostedUnit> hosted)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(hosted);
        var problems = new List<SheetProblem>();
        var cells = new List<(int Row, int Column, Indicator Indicator, string Raw)>();
        var unitText = (string?)null;
        var unitRow = 0;
        var unitColumn = string.Empty;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var r = 0; r < sheet.Rows.Count; r++)
        {
            var row = sheet.Rows[r];
            var label = Cell(row, 0);
            var key = Normalise(label);
            if (key.Length == 0)
            {
                continue;
            }

            var valueColumn = -1;
            for (var c = 1; c < row.Count && valueColumn < 0; c++)
            {
                if (!string.IsNullOrWhiteSpace(row[c]))
                {
                    valueColumn = c;
                }
            }

            if (unitText is null && (s_idHeaders.Any(h => Normalise(h) == key) || s_nameHeaders.Any(h => Normalise(h) == key)))
            {
                (unitText, unitRow, unitColumn) = (Cell(row, valueColumn), r + 1, ColumnLetter(valueColumn));
                continue;
            }

            if (MatchIndicator(label, catalogue) is not { } indicator)
            {
                continue;
            }

            if (!seen.TryAdd(indicator.Id, r + 1))
            {
                problems.Add(new(sheet.Name, r + 1, "A", string.Empty, indicator.Id,
                    $"指标“{indicator.NameZh}”已在第 {seen[indicator.Id]} 行出现", $"indicator '{indicator.Id}' already appears in row {seen[indicator.Id]}", "DUPLICATE_INDICATOR"));
                continue;
            }

            if (valueColumn >= 0)
            {
                cells.Add((r + 1, valueColumn, indicator, row[valueColumn]));
            }
        }

        if (seen.Count == 0)
        {
            return new SheetContent([], [], false);
        }

        var unitId = ResolveUnit(unitText ?? sheet.Name, hosted, out var unitProblem);
        if (unitId is null)
        {
            problems.Add(new(sheet.Name, unitRow, unitColumn, string.Empty, string.Empty,
                unitText is null ? $"工作表名称不是本节点承载的单位：{unitProblem.MessageZh}" : unitProblem.MessageZh,
                unitText is null ? $"the sheet's name names no hosted unit: {unitProblem.MessageEn}" : unitProblem.MessageEn, CellReason));
        }

        var values = new List<IndicatorValue>();
        var columnOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (row, column, indicator, raw) in cells)
        {
            if (SheetCells.Parse(indicator, raw, out var problem) is { } value)
            {
                values.Add(value);
                columnOf[indicator.Id] = ColumnLetter(column);
            }
            else
            {
                problems.Add(new(sheet.Name, row, ColumnLetter(column), unitId ?? string.Empty, indicator.Id,
                    $"{indicator.NameZh}：{problem.MessageZh}", $"{indicator.NameEn}: {problem.MessageEn}", CellReason));
            }
        }

        // A one-unit sheet's cells are placed by row: the indicator's row, in the value's column.
        var rowOf = cells.ToDictionary(static c => c.Indicator.Id, static c => c.Row, StringComparer.Ordinal);
        List<SheetRow> rows = unitId is null ? [] : [new SheetRow(sheet.Name, unitRow, unitId, values, columnOf) { RowOf = rowOf }];
        return new SheetContent(rows, problems, true);
    }

    /// <summary>The hosted unit a cell names by id or display name; null and a problem when none.</summary>
    public static string? ResolveUnit(string text, IReadOnlyList<HostedUnit> hosted, out CellProblem problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(hosted);
        problem = default;
        var t = text.Trim();
        if (t.Length == 0)
        {
            problem = new("单位为空", "the unit is empty");
            return null;
        }

        foreach (var unit in hosted)
        {
            if (unit.Id == t)
            {
                return unit.Id;
            }
        }

        var echo = Echo.Of(t);
        if (SheetCells.IsScientific(t))
        {
            problem = new($"单位编码“{echo}”被 Excel 改成了科学计数法，末位数字已丢失；请将该列设为文本格式后重新填写编码",
                $"the unit id '{echo}' was turned into scientific notation by Excel and lost its last digits; format the column as text and type the ids again");
            return null;
        }

        var byName = hosted.Where(u => u.DisplayName.Length > 0 && u.DisplayName == t).ToList();
        if (byName.Count == 1)
        {
            return byName[0].Id;
        }

        problem = byName.Count > 1
            ? new($"“{echo}”是多个单位的名称，请填写单位编码", $"'{echo}' is the name of several units; use the unit id")
            : new($"“{echo}”不是本节点承载的单位", $"'{echo}' is not a unit hosted by this node");
        return null;
    }

    /// <summary>The indicator a header cell names, by id, Chinese or English name; brackets, quotes and spaces are ignored.</summary>
    public static Indicator? MatchIndicator(string header, CatalogueIndex catalogue)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(catalogue);
        var key = Normalise(header);
        if (key.Length == 0)
        {
            return null;
        }

        foreach (var indicator in catalogue.Indicators)
        {
            if (key == Normalise(indicator.Id) || key == Normalise(indicator.NameZh) || key == Normalise(indicator.NameEn))
            {
                return indicator;
            }
        }

        return null;
    }

    /// <summary>The spreadsheet's letter for a 0-based column: A, …, Z, AA, AB, ….</summary>
    public static string ColumnLetter(int column)
    {
        if (column < 0)
        {
            return string.Empty;
        }

        var letters = new StringBuilder();
        for (var n = column + 1; n > 0; n = (n - 1) / 26)
        {
            letters.Insert(0, (char)('A' + ((n - 1) % 26)));
        }

        return letters.ToString();
    }

    private static (int IdColumn, int NameColumn, List<(int, Indicator)> Indicators) Header(IReadOnlyList<string> row, CatalogueIndex catalogue)
    {
        int id = -1, name = -1;
        var indicators = new List<(int, Indicator)>();
        for (var c = 0; c < row.Count; c++)
        {
            var key = Normalise(row[c]);
            if (key.Length == 0)
            {
                continue;
            }

            if (id < 0 && s_idHeaders.Any(h => Normalise(h) == key))
            {
                id = c;
            }
            else if (name < 0 && s_nameHeaders.Any(h => Normalise(h) == key))
            {
                name = c;
            }
            else if (MatchIndicator(row[c], catalogue) is { } indicator)
            {
                indicators.Add((c, indicator));
            }
        }

        return (id, name, indicators);
    }

    private static string Cell(IReadOnlyList<string> row, int column) => column >= 0 && column < row.Count ? row[column] ?? string.Empty : string.Empty;

    private static string Normalise(string text)
    {
        var t = text.Trim().TrimStart('\uFEFF');
        // A unit of measure in brackets at the end: 党员数（人）, Party members (people).
        foreach (var (open, close) in new[] { ('（', '）'), ('(', ')') })
        {
            if (t.Length > 0 && t[^1] == close && t.LastIndexOf(open) is var start and > 0)
            {
                t = t[..start];
            }
        }

        var builder = new StringBuilder(t.Length);
        foreach (var c in t)
        {
            if (!char.IsWhiteSpace(c) && c is not ('"' or '“' or '”' or '\'' or '‘' or '’' or '_' or '-'))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }

        return builder.ToString();
    }
}
