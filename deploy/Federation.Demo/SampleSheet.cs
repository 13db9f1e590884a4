using System.Globalization;

namespace Federation.Demo;

/// <summary>One row of the sheet as text: the unit and its raw cells by indicator id (empty cells left out).</summary>
internal sealed record SheetRow(string UnitId, IReadOnlyDictionary<string, string> Cells);

/// <summary>
/// The sample sheet read straight from its text for the independent check, deliberately without the
/// node's file reader, so that a fault in that reader would show up as a mismatch.
/// </summary>
internal sealed class SampleSheet
{
    private SampleSheet(IReadOnlyList<SheetRow> rows) => Rows = rows;

    public IReadOnlyList<SheetRow> Rows { get; }

    public static SampleSheet Read(string path)
    {
        var lines = File.ReadAllLines(path).Where(static l => l.Trim().Length > 0).ToList();
        var header = lines[0].TrimStart('\uFEFF').Split(',').Select(static h => h.Trim()).ToArray();
        if (header[0] != "unit_id")
        {
            throw new DemoException($"{path}: the first column must be unit_id.");
        }

        var rows = new List<SheetRow>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',').Select(static c => c.Trim()).ToArray();
            if (cells.Length != header.Length)
            {
                throw new DemoException($"{path}: row '{line}' has {cells.Length} cells; the header has {header.Length}.");
            }

            var byIndicator = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 1; i < header.Length; i++)
            {
                if (cells[i].Length > 0)
                {
                    byIndicator[header[i]] = cells[i];
                }
            }

            rows.Add(new SheetRow(cells[0], byIndicator));
        }

        return new SampleSheet(rows);
    }

    /// <summary>A whole-number cell (COUNT, MEASURE).</summary>
    public static long Whole(SheetRow row, string indicatorId) =>
        long.TryParse(row.Cells[indicatorId], NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new DemoException($"unit {row.UnitId}: '{indicatorId}' is '{row.Cells[indicatorId]}', not a whole number.");

    /// <summary>A yes/no cell (FLAG), in the spellings clerks use.</summary>
    public static bool YesNo(SheetRow row, string indicatorId) => row.Cells[indicatorId].ToLowerInvariant() switch
    {
        "yes" or "y" or "true" or "1" or "是" => true,
        "no" or "n" or "false" or "0" or "否" => false,
        var other => throw new DemoException($"unit {row.UnitId}: '{indicatorId}' is '{other}', not yes or no."),
    };

    /// <summary>The rows that report every one of the given indicators.</summary>
    public IEnumerable<SheetRow> Reporting(params string[] indicatorIds) =>
        Rows.Where(r => indicatorIds.All(r.Cells.ContainsKey));
}
