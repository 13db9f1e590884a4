using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Federation.Node.Web;

/// <summary>
/// Writes a <see cref="WebTable"/> as an .xlsx with the Open XML SDK: a bold frozen header, the page's text
/// cells as text and its figures as numbers in the format they are shown in, so a sheet holds the same rows
/// as the page and still sums in Excel.
/// </summary>
internal static class XlsxTable
{
    public const string ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    // Style indexes into Styles(), in order.
    private const uint HeaderStyle = 1;
    private const uint IntegerStyle = 2;
    private const uint PercentStyle = 3;
    private const uint DecimalStyle = 4;
    private const uint Decimal2Style = 5;

    public static byte[] Write(WebTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            workbook.AddNewPart<WorkbookStylesPart>().Stylesheet = Styles();
            var part = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            var header = new Row { RowIndex = 1 };
            for (var c = 0; c < table.Columns.Count; c++)
            {
                header.Append(Text(c + 1, 1, table.Columns[c].Title, HeaderStyle));
            }

            data.Append(header);
            for (var r = 0; r < table.Rows.Count; r++)
            {
                var rowIndex = (uint)(r + 2);
                var row = new Row { RowIndex = rowIndex };
                var cells = table.Rows[r].Cells;
                for (var c = 0; c < cells.Count && c < table.Columns.Count; c++)
                {
                    row.Append(cells[c].Number is { } number
                        ? new Cell
                        {
                            CellReference = Reference(c + 1, rowIndex),
                            CellValue = new CellValue(number),
                            DataType = CellValues.Number,
                            StyleIndex = StyleOf(cells[c].NumberFormat),
                        }
                        : Text(c + 1, rowIndex, cells[c].Text, 0));
                }

                data.Append(row);
            }

            var columns = new Columns();
            for (var c = 0; c < table.Columns.Count; c++)
            {
                var width = Math.Clamp(table.Rows.Select(r => c < r.Cells.Count ? Width(r.Cells[c].Text) : 0).Append(Width(table.Columns[c].Title)).Max() + 2, 6, 60);
                columns.Append(new Column { Min = (uint)(c + 1), Max = (uint)(c + 1), Width = width, CustomWidth = true });
            }

            var view = new SheetView { WorkbookViewId = 0 };
            view.Append(new Pane { VerticalSplit = 1, TopLeftCell = "A2", ActivePane = PaneValues.BottomLeft, State = PaneStateValues.Frozen });
            part.Worksheet = new Worksheet(new SheetViews(view), columns, data);
            var sheets = workbook.Workbook.AppendChild(new Sheets());
            sheets.Append(new Sheet { Id = workbook.GetIdOfPart(part), SheetId = 1, Name = SheetName(table.Title) });
            workbook.Workbook.Save();
        }

        return stream.ToArray();
    }

    /// <summary>Excel's rules for a sheet name: at most 31 characters, none of : \ / ? * [ ].</summary>
    internal static string SheetName(string title)
    {
        var cleaned = new string([.. title.Select(static c => c is ':' or '\\' or '/' or '?' or '*' or '[' or ']' ? ' ' : c)]).Trim();
        cleaned = cleaned.Length == 0 ? "Sheet1" : cleaned;
        return cleaned.Length <= 31 ? cleaned : cleaned[..31];
    }

    private static uint StyleOf(string? format) => format switch
    {
        "0.0%" => PercentStyle,
        "0.0" => DecimalStyle,
        "0.00" => Decimal2Style,
        _ => IntegerStyle,
    };

    /// <summary>Chinese characters are about twice as wide as Latin ones.</summary>
    private static double Width(string text) => text.Sum(static c => c > 0x2E80 ? 2.0 : 1.0);

    private static Cell Text(int column, uint row, string text, uint style) => new()
    {
        CellReference = Reference(column, row),
        DataType = CellValues.InlineString,
        InlineString = new InlineString(new Text(text) { Space = SpaceProcessingModeValues.Preserve }),
        StyleIndex = style,
    };

    private static string Reference(int column, uint row)
    {
        var letters = string.Empty;
        for (var c = column; c > 0; c = (c - 1) / 26)
        {
            letters = (char)('A' + ((c - 1) % 26)) + letters;
        }

        return letters + row.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static Stylesheet Styles() => new(
        new NumberingFormats(
            new NumberingFormat { NumberFormatId = 164, FormatCode = "0.0%" },
            new NumberingFormat { NumberFormatId = 165, FormatCode = "0.0" },
            new NumberingFormat { NumberFormatId = 166, FormatCode = "0.00" }) { Count = 3 },
        new Fonts(new Font(), new Font(new Bold())) { Count = 2 },
        new Fills(
            new Fill(new PatternFill { PatternType = PatternValues.None }),
            new Fill(new PatternFill { PatternType = PatternValues.Gray125 }),
            new Fill(new PatternFill(new ForegroundColor { Rgb = "FFE8EEF4" }) { PatternType = PatternValues.Solid })) { Count = 3 },
        new Borders(new Border()) { Count = 1 },
        new CellFormats(
            new CellFormat(),
            new CellFormat { FontId = 1, FillId = 2, ApplyFont = true, ApplyFill = true },
            new CellFormat { NumberFormatId = 3, ApplyNumberFormat = true },
            new CellFormat { NumberFormatId = 164, ApplyNumberFormat = true },
            new CellFormat { NumberFormatId = 165, ApplyNumberFormat = true },
            new CellFormat { NumberFormatId = 166, ApplyNumberFormat = true }) { Count = 6 });
}
