using System.Globalization;
using System.Text;
using Federation.Aggregator.Import;
using MiniExcelLibs;

namespace Federation.Node.Import;

/// <summary>
/// Turns an uploaded file into sheets of text cells: .xlsx (every worksheet) through MiniExcel, or a CSV
/// in UTF-8 (with or without a BOM) or GBK/GB18030, the encodings Chinese Excel saves. A CSV is decoded
/// as strict UTF-8 first; bytes that are not valid UTF-8 are read as GB18030, a superset of GBK.
/// </summary>
internal static class SheetFile
{
    /// <summary>Most bytes an .xlsx may unpack to (its parts' declared sizes, which the unzip enforces), so a small zip bomb is refused unread.</summary>
    public const long MaxUnpackedBytes = 64L * 1024 * 1024;

    /// <summary>Most rows read from one file (all its sheets together), and columns of one row; a sheet is a township's units, not a database.</summary>
    public const int MaxRows = 20_000;

    /// <summary>Most columns read from one row; cells further right are not read.</summary>
    public const int MaxColumns = 256;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static SheetFile() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The sheets of the file, or null with a reason when it cannot be read.</summary>
    public static IReadOnlyList<SheetGrid>? Read(string fileName, byte[] bytes, out string error)
    {
        error = string.Empty;
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        try
        {
            switch (extension)
            {
                case ".xlsx" when UnpackedBytes(bytes) > MaxUnpackedBytes:
                    error = $"file_name '{Aggregator.Identifiers.Echo.Of(fileName)}' unpacks to more than {MaxUnpackedBytes / (1024 * 1024)} MiB.";
                    return null;
                case ".xlsx":
                    return Bounded(fileName, ReadXlsx(bytes), out error);
                case ".csv":
                    return Bounded(fileName, [new SheetGrid(Path.GetFileName(fileName), ParseCsv(Decode(bytes)))], out error);
                default:
                    error = $"file_name '{Aggregator.Identifiers.Echo.Of(fileName)}' must end in .xlsx or .csv.";
                    return null;
            }
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            // Whatever a damaged or hostile file makes the reader throw, it is the file's fault, not the node's.
            error = $"file_name '{Aggregator.Identifiers.Echo.Of(fileName)}' is not a readable {extension.TrimStart('.')} file.";
            return null;
        }
    }

    private static List<SheetGrid>? Bounded(string fileName, List<SheetGrid> sheets, out string error)
    {
        error = string.Empty;
        if (sheets.Sum(static s => s.Rows.Count) > MaxRows)
        {
            error = $"file_name '{Aggregator.Identifiers.Echo.Of(fileName)}' has more than {MaxRows} rows.";
            return null;
        }

        return sheets;
    }

    private static long UnpackedBytes(byte[] bytes)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(bytes, writable: false), System.IO.Compression.ZipArchiveMode.Read);
        return zip.Entries.Sum(static e => e.Length);
    }

    /// <summary>Strict UTF-8 (a BOM is dropped), else GB18030.</summary>
    public static string Decode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }

        try
        {
            return s_strictUtf8.GetString(span);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.GetEncoding(54936).GetString(bytes);
        }
    }

    /// <summary>RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF.</summary>
    public static List<IReadOnlyList<string>> ParseCsv(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rows = new List<IReadOnlyList<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    if (row.Count < MaxColumns)
                    {
                        row.Add(field.ToString());
                    }

                    field.Clear();
                    break;
                case '\r':
                    break;
                case '\n' when row.Count >= MaxColumns:
                    field.Clear();
                    rows.Add(row);
                    row = [];
                    break;
                case '\n':
                    row.Add(field.ToString());
                    field.Clear();
                    rows.Add(row);
                    row = [];
                    break;
                default:
                    field.Append(c);
                    break;
            }
        }

        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }

        return rows;
    }

    private static List<SheetGrid> ReadXlsx(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        var sheets = new List<SheetGrid>();
        foreach (var name in MiniExcel.GetSheetNames(stream))
        {
            stream.Position = 0;
            var rows = new List<IReadOnlyList<string>>();
            foreach (IDictionary<string, object?> cells in MiniExcel.Query(stream, useHeaderRow: false, sheetName: name))
            {
                if (rows.Count > MaxRows)
                {
                    // Enough to refuse the file: stop reading.
                    break;
                }

                var row = new List<string>();
                foreach (var (letters, value) in cells)
                {
                    var column = ColumnIndex(letters);
                    if (column >= MaxColumns || value is null)
                    {
                        continue;
                    }

                    while (row.Count <= column)
                    {
                        row.Add(string.Empty);
                    }

                    row[column] = Text(value);
                }

                rows.Add(row);
            }

            sheets.Add(new SheetGrid(name, rows));
        }

        return sheets;
    }

    private static int ColumnIndex(string letters)
    {
        var index = 0;
        foreach (var c in letters)
        {
            index = (index * 26) + (char.ToUpperInvariant(c) - 'A' + 1);
        }

        return index - 1;
    }

    /// <summary>A cell as text: numbers in invariant culture, whole ones without a fraction (Excel stores every number as a double).</summary>
    private static string Text(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        double d when d == Math.Floor(d) && Math.Abs(d) < 1e15 => d.ToString("0", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? "1" : "0",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
