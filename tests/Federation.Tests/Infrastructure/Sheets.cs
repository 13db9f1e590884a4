using System.Text;
using MiniExcelLibs;

namespace Federation.Tests.Infrastructure;

/// <summary>Real spreadsheet files as clerks save them: .xlsx written by a spreadsheet library, CSV in GBK or UTF-8.</summary>
public static class Sheets
{
    static Sheets() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>An .xlsx with one worksheet holding the rows as given (no header is added); null is an empty cell.</summary>
    public static byte[] Xlsx(IReadOnlyList<object?[]> rows, string sheetName = "Sheet1")
    {
        var records = Records(rows);
        using var stream = new MemoryStream();
        stream.SaveAs(records, printHeader: false, sheetName: sheetName);
        return stream.ToArray();
    }

    /// <summary>An .xlsx with one worksheet per entry, in order, each holding its rows as given.</summary>
    public static byte[] XlsxSheets(IReadOnlyList<(string Name, IReadOnlyList<object?[]> Rows)> sheets)
    {
        var workbook = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, rows) in sheets)
        {
            workbook[name] = Records(rows);
        }

        using var stream = new MemoryStream();
        stream.SaveAs(workbook, printHeader: false);
        return stream.ToArray();
    }

    private static List<Dictionary<string, object?>> Records(IReadOnlyList<object?[]> rows)
    {
        var width = rows.Max(static r => r.Length);
        return [.. rows.Select(row =>
        {
            var record = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var c = 0; c < width; c++)
            {
                record[((char)('A' + c)).ToString()] = c < row.Length ? row[c] : null;
            }

            return record;
        })];
    }

    /// <summary>The same rows as CSV text (fields with commas or quotes quoted), one line each.</summary>
    public static string Csv(IReadOnlyList<object?[]> rows) =>
        string.Join("\r\n", rows.Select(static row => string.Join(',', row.Select(static cell =>
        {
            var text = Convert.ToString(cell, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
            return text.Contains(',', StringComparison.Ordinal) || text.Contains('"', StringComparison.Ordinal)
                ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
                : text;
        })))) + "\r\n";

    /// <summary>CSV saved by Chinese Excel: GBK (code page 936).</summary>
    public static byte[] GbkCsv(IReadOnlyList<object?[]> rows) => Encoding.GetEncoding("GBK").GetBytes(Csv(rows));

    /// <summary>CSV saved as UTF-8 with a BOM.</summary>
    public static byte[] Utf8BomCsv(IReadOnlyList<object?[]> rows) => [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Csv(rows))];
}
