using System.Globalization;
using System.Text.Json;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Node.Cli;

/// <summary>One unit's values read from a file; the unit id is empty when the file names none.</summary>
public sealed record UnitValues(string UnitId, IReadOnlyList<IndicatorValue> Values);

/// <summary>
/// Reads report files as clerks keep them. Three shapes:
/// a JSON object of indicator id to value; a two-column CSV "indicator,value"; or a wide CSV
/// (an Excel sheet saved as CSV) whose header is "unit_id" followed by indicator ids, one row per unit.
/// Values are converted by the indicator's kind: counts and measures as whole numbers, flags as
/// yes/no (also true/false, 1/0, 是/否), categories as their codes.
/// </summary>
public static class ReportFile
{
    public static IReadOnlyList<UnitValues> Read(string path, CatalogueIndex catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        var text = File.ReadAllText(path);
        return Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase)
            ? [ParseJson(text, catalogue)]
            : ParseCsv(text, catalogue);
    }

    public static UnitValues ParseJson(string json, CatalogueIndex catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        using var document = JsonDocument.Parse(json);
        var unitId = string.Empty;
        var values = new List<IndicatorValue>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "unit_id")
            {
                unitId = property.Value.GetString() ?? string.Empty;
                continue;
            }

            var raw = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
            values.Add(ToValue(catalogue, property.Name, raw));
        }

        return new UnitValues(unitId, values);
    }

    public static IReadOnlyList<UnitValues> ParseCsv(string csv, CatalogueIndex catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        var rows = csv.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(static line => !line.StartsWith('#'))
            .Select(static line => line.Split(',', StringSplitOptions.TrimEntries))
            .ToList();
        if (rows.Count == 0)
        {
            throw new FormatException("The CSV file is empty.");
        }

        var header = rows[0];
        if (header[0].TrimStart('\uFEFF') == "unit_id")
        {
            return [.. rows.Skip(1).Select(row => new UnitValues(
                row[0],
                [.. header.Skip(1).Zip(row.Skip(1)).Where(static c => c.Second.Length > 0).Select(c => ToValue(catalogue, c.First, c.Second))]))];
        }

        var body = header[0].TrimStart('\uFEFF') == "indicator" ? rows.Skip(1) : rows;
        return [new UnitValues(string.Empty, [.. body.Select(row => row.Length >= 2
            ? ToValue(catalogue, row[0], row[1])
            : throw new FormatException($"CSV row '{string.Join(',', row)}' needs an indicator and a value."))])];
    }

    private static IndicatorValue ToValue(CatalogueIndex catalogue, string indicatorId, string raw)
    {
        var value = new IndicatorValue { IndicatorId = indicatorId };
        if (!catalogue.TryGet(indicatorId, out var indicator))
        {
            // Let the node name the unknown indicator in its answer.
            value.Count = long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
            return value;
        }

        switch (indicator.Kind)
        {
            case ValueKind.Flag:
                value.Flag = raw.Trim().ToLowerInvariant() switch
                {
                    "yes" or "true" or "1" or "y" or "是" => true,
                    "no" or "false" or "0" or "n" or "否" => false,
                    _ => throw new FormatException($"'{indicatorId}' takes yes or no, not '{raw}'."),
                };
                break;
            case ValueKind.Category:
                value.Category = raw.Trim();
                break;
            case ValueKind.Measure:
                value.Measure = ParseWhole(indicatorId, raw);
                break;
            default:
                value.Count = ParseWhole(indicatorId, raw);
                break;
        }

        return value;
    }

    private static long ParseWhole(string indicatorId, string raw) =>
        long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new FormatException($"'{indicatorId}' takes a whole number, not '{raw}'.");
}
