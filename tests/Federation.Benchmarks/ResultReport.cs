using System.Globalization;
using System.Text.Json;

namespace Federation.Benchmarks;

/// <summary>Prints the measurements as a table and writes them as JSON, one object per measurement.</summary>
internal static class ResultReport
{
    private static readonly string[] s_header = ["name", "value", "unit", "baseline", "baseline value", "ratio", "goal", "met"];

    public static void PrintTable(IReadOnlyList<Measurement> measurements, TextWriter output)
    {
        var rows = measurements.Select(static m => new[]
        {
            m.Name, Number(m.Value), m.Unit, m.BaselineName, Number(m.Baseline), Number(m.Ratio),
            m.Goal?.ToString() ?? "-", m.Met switch { true => "yes", false => "NO", null => "-" },
        }).ToList();
        var widths = s_header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(Line(s_header, widths));
        output.WriteLine(string.Join("  ", widths.Select(static w => new string('-', w))));
        foreach (var row in rows)
        {
            output.WriteLine(Line(row, widths));
        }
    }

    /// <summary>The README's table: the same columns in Markdown.</summary>
    public static void PrintMarkdown(IReadOnlyList<Measurement> measurements, TextWriter output)
    {
        output.WriteLine("| " + string.Join(" | ", s_header) + " |");
        output.WriteLine("|" + string.Concat(s_header.Select(static (_, i) => i is 1 or 4 or 5 ? "---:|" : "---|")));
        foreach (var m in measurements)
        {
            output.WriteLine($"| {m.Name} | {Number(m.Value)} | {m.Unit} | {m.BaselineName} | {Number(m.Baseline)} | {Number(m.Ratio)} | " +
                $"{(m.Goal?.ToString() ?? "–").Replace(">=", "≥", StringComparison.Ordinal).Replace("<=", "≤", StringComparison.Ordinal)} | " +
                $"{m.Met switch { true => "yes", false => "**no**", null => "–" }} |");
        }
    }

    /// <summary>A JSON array of objects with exactly name, unit, value, baseline, baseline_name, ratio, goal, met.</summary>
    public static void WriteJson(IReadOnlyList<Measurement> measurements, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        using var stream = File.Create(path);
        // Relaxed escaping keeps "<=" and ">=" readable; the file is data, never embedded in HTML.
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartArray();
        foreach (var m in measurements)
        {
            json.WriteStartObject();
            json.WriteString("name", m.Name);
            json.WriteString("unit", m.Unit);
            WriteNumber(json, "value", m.Value);
            WriteNumber(json, "baseline", m.Baseline);
            json.WriteString("baseline_name", m.BaselineName);
            WriteNumber(json, "ratio", m.Ratio);
            if (m.Goal is { } goal)
            {
                json.WriteString("goal", goal.ToString());
            }
            else
            {
                json.WriteNull("goal");
            }

            if (m.Met is { } met)
            {
                json.WriteBoolean("met", met);
            }
            else
            {
                json.WriteNull("met");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>JSON has no NaN or infinity: a figure that could not be formed is null.</summary>
    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, Math.Round(value, 6));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Number(double value) => value switch
    {
        double.NaN => "-",
        _ when double.IsInfinity(value) => "inf",
        _ when Math.Abs(value) >= 1000 => value.ToString("N0", CultureInfo.InvariantCulture),
        _ when Math.Abs(value) >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ when Math.Abs(value) >= 0.01 || value == 0 => value.ToString("0.00", CultureInfo.InvariantCulture),
        _ => value.ToString("0.0e0", CultureInfo.InvariantCulture),
    };

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i is 1 or 4 or 5 ? c.PadLeft(widths[i]) : c.PadRight(widths[i]))).TrimEnd();
}
