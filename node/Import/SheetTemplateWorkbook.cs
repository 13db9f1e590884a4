using System.Globalization;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Federation.Aggregator.Import;

namespace Federation.Node.Import;

/// <summary>
/// Writes a <see cref="SheetTemplateLayout"/> as an .xlsx with the Open XML SDK: a title row, the header
/// with a note on each cell, unit rows with ids stored as text, data validation on every figure cell
/// (with the same note as an input prompt), frozen headers, and the notes sheet.
/// </summary>
internal static class SheetTemplateWorkbook
{
    private const int HeaderRow = 2;
    private const int FirstUnitRow = 3;

    // Style indexes into the stylesheet built by Styles(), in this order.
    private const uint TitleStyle = 1;
    private const uint HeaderStyle = 2;
    private const uint RequiredHeaderStyle = 3;
    private const uint UnitIdStyle = 4;
    private const uint UnitNameStyle = 5;
    private const uint InputStyle = 6;

    // Excel's limits for a validation's prompt (title 32, text 255 characters).
    private const int PromptTitleLength = 32;
    private const int PromptLength = 255;

    public static byte[] Write(SheetTemplateLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        using var stream = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(stream, SpreadsheetDocumentType.Workbook))
        {
            var workbookPart = document.AddWorkbookPart();
            workbookPart.Workbook = new Workbook();
            workbookPart.AddNewPart<WorkbookStylesPart>().Stylesheet = Styles();
            var sheets = workbookPart.Workbook.AppendChild(new Sheets());
            AddSheet(workbookPart, sheets, 1, layout.SheetName, part => FillSheet(part, layout));
            AddSheet(workbookPart, sheets, 2, layout.NotesSheetName, part => NotesSheet(part, layout));
            workbookPart.Workbook.Save();
        }

        return stream.ToArray();
    }

    private static void AddSheet(WorkbookPart workbookPart, Sheets sheets, uint id, string name, Action<WorksheetPart> write)
    {
        var part = workbookPart.AddNewPart<WorksheetPart>();
        write(part);
        sheets.Append(new Sheet { Id = workbookPart.GetIdOfPart(part), SheetId = id, Name = name });
    }

    private static void FillSheet(WorksheetPart part, SheetTemplateLayout layout)
    {
        var lastColumn = layout.Columns.Count + 2;
        var lastRow = FirstUnitRow + layout.Units.Count - 1;
        var data = new SheetData();
        data.Append(new Row(TextCell(1, 1, layout.Title, TitleStyle)) { RowIndex = 1, Height = 24, CustomHeight = true });

        var header = new Row { RowIndex = HeaderRow, Height = 48, CustomHeight = true };
        header.Append(TextCell(1, HeaderRow, layout.IdHeader, HeaderStyle), TextCell(2, HeaderRow, layout.NameHeader, HeaderStyle));
        for (var i = 0; i < layout.Columns.Count; i++)
        {
            var column = layout.Columns[i];
            header.Append(TextCell(i + 3, HeaderRow, column.Header, column.Required ? RequiredHeaderStyle : HeaderStyle));
        }

        data.Append(header);
        for (var u = 0; u < layout.Units.Count; u++)
        {
            var rowIndex = (uint)(FirstUnitRow + u);
            var row = new Row { RowIndex = rowIndex };
            row.Append(TextCell(1, (int)rowIndex, layout.Units[u].Id, UnitIdStyle), TextCell(2, (int)rowIndex, layout.Units[u].DisplayName, UnitNameStyle));
            for (var c = 3; c <= lastColumn; c++)
            {
                // An empty styled cell, so that the sheet shows where figures go.
                row.Append(new Cell { CellReference = Reference(c, (int)rowIndex), StyleIndex = InputStyle });
            }

            data.Append(row);
        }

        var columns = new Columns(
            new Column { Min = 1, Max = 1, Width = 16, CustomWidth = true, Style = UnitIdStyle },
            new Column { Min = 2, Max = 2, Width = 14, CustomWidth = true },
            new Column { Min = 3, Max = (uint)lastColumn, Width = 13, CustomWidth = true });
        var worksheet = new Worksheet(
            new SheetProperties(new PageSetupProperties { FitToPage = true }),
            new SheetViews(new SheetView(new Pane
            {
                HorizontalSplit = 2, VerticalSplit = HeaderRow, TopLeftCell = Reference(3, FirstUnitRow),
                ActivePane = PaneValues.BottomRight, State = PaneStateValues.Frozen,
            })
            { TabSelected = true, WorkbookViewId = 0 }),
            new SheetFormatProperties { DefaultRowHeight = 15 },
            columns,
            data,
            new MergeCells(new MergeCell { Reference = $"A1:{Reference(lastColumn, 1)}" }),
            Validations(layout, lastRow),
            new PageMargins { Left = 0.4, Right = 0.4, Top = 0.5, Bottom = 0.5, Header = 0.3, Footer = 0.3 },
            new PageSetup { Orientation = OrientationValues.Landscape, FitToWidth = 1, FitToHeight = 0, PaperSize = 9 });
        part.Worksheet = worksheet;

        var notes = new List<(int Column, string Text)> { (1, layout.IdNote) };
        notes.AddRange(layout.Columns.Select((c, i) => (i + 3, c.Note)));
        AddNotes(part, notes);
        part.Worksheet.Append(new LegacyDrawing { Id = part.GetIdOfPart(part.VmlDrawingParts.Single()) });
        part.Worksheet.Save();
    }

    private static DataValidations Validations(SheetTemplateLayout layout, int lastRow)
    {
        var validations = new DataValidations();
        for (var i = 0; i < layout.Columns.Count; i++)
        {
            var column = layout.Columns[i];
            var range = $"{Reference(i + 3, FirstUnitRow)}:{Reference(i + 3, Math.Max(lastRow, FirstUnitRow))}";
            var validation = new DataValidation
            {
                SequenceOfReferences = new ListValue<StringValue> { InnerText = range },
                AllowBlank = true,
                ShowInputMessage = true,
                ShowErrorMessage = true,
                ErrorStyle = DataValidationErrorStyleValues.Stop,
                PromptTitle = Clip(column.Header, PromptTitleLength),
                Prompt = Clip(column.Note, PromptLength),
                ErrorTitle = Clip(column.Header, PromptTitleLength),
            };
            if (column.Input == TemplateInput.Choice)
            {
                validation.Type = DataValidationValues.List;
                validation.Formula1 = new Formula1("\"" + string.Join(',', column.Choices) + "\"");
                validation.Error = layout.Chinese ? "请从下拉列表中选择：" + string.Join("、", column.Choices) : "Choose one of: " + string.Join(", ", column.Choices);
            }
            else
            {
                validation.Type = DataValidationValues.Whole;
                validation.Operator = DataValidationOperatorValues.GreaterThanOrEqual;
                validation.Formula1 = new Formula1("0");
                validation.Error = layout.Chinese ? "请填写 0 或正整数" : "Write a whole number, 0 or more";
            }

            validations.Append(validation);
        }

        validations.Count = (uint)layout.Columns.Count;
        return validations;
    }

    private static void NotesSheet(WorksheetPart part, SheetTemplateLayout layout)
    {
        var data = new SheetData();
        var header = new Row { RowIndex = 1 };
        header.Append(layout.NotesHeader.Select((h, i) => TextCell(i + 1, 1, h, HeaderStyle)));
        data.Append(header);
        var rowIndex = 1;
        foreach (var note in layout.Notes)
        {
            rowIndex++;
            var row = new Row { RowIndex = (uint)rowIndex };
            row.Append(new Cell { CellReference = Reference(1, rowIndex), CellValue = new CellValue(note.Number), DataType = CellValues.Number });
            string[] texts = [note.Id, note.Name, note.OtherName, note.Kind, note.Unit, note.Allowed, note.Required, note.Target];
            row.Append(texts.Select((t, i) => TextCell(i + 2, rowIndex, t, 0)));
            data.Append(row);
        }

        part.Worksheet = new Worksheet(
            new Columns(
                new Column { Min = 1, Max = 1, Width = 6, CustomWidth = true },
                new Column { Min = 2, Max = 2, Width = 30, CustomWidth = true },
                new Column { Min = 3, Max = 4, Width = 26, CustomWidth = true },
                new Column { Min = 5, Max = 6, Width = 12, CustomWidth = true },
                new Column { Min = 7, Max = 7, Width = 44, CustomWidth = true },
                new Column { Min = 8, Max = 9, Width = 26, CustomWidth = true }),
            data,
            new PageMargins { Left = 0.4, Right = 0.4, Top = 0.5, Bottom = 0.5, Header = 0.3, Footer = 0.3 },
            new PageSetup { Orientation = OrientationValues.Landscape, PaperSize = 9 });
    }

    /// <summary>Header notes: the comments part, and the legacy drawing Excel needs to show them.</summary>
    private static void AddNotes(WorksheetPart part, IReadOnlyList<(int Column, string Text)> notes)
    {
        var commentsPart = part.AddNewPart<WorksheetCommentsPart>();
        commentsPart.Comments = new Comments(
            new Authors(new Author("Federation")),
            new CommentList(notes.Select(n => new Comment(new CommentText(new Run(new Text(n.Text) { Space = SpaceProcessingModeValues.Preserve })))
            {
                Reference = Reference(n.Column, HeaderRow),
                AuthorId = 0,
            })));
        commentsPart.Comments.Save();

        var vml = new StringBuilder()
            .Append("<xml xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:x=\"urn:schemas-microsoft-com:office:excel\">")
            .Append("<o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"1\"/></o:shapelayout>")
            .Append("<v:shapetype id=\"_x0000_t202\" coordsize=\"21600,21600\" o:spt=\"202\" path=\"m,l,21600r21600,l21600,xe\">")
            .Append("<v:stroke joinstyle=\"miter\"/><v:path gradientshapeok=\"t\" o:connecttype=\"rect\"/></v:shapetype>");
        var shape = 1024;
        foreach (var (column, _) in notes)
        {
            var col = column - 1;
            vml.Append(CultureInfo.InvariantCulture,
                    $"<v:shape id=\"_x0000_s{++shape}\" type=\"#_x0000_t202\" style=\"position:absolute;width:220pt;height:110pt;z-index:{shape - 1024};visibility:hidden\" fillcolor=\"#ffffe1\" o:insetmode=\"auto\">")
                .Append("<v:fill color2=\"#ffffe1\"/><v:shadow on=\"t\" color=\"black\" obscured=\"t\"/><v:path o:connecttype=\"none\"/>")
                .Append("<v:textbox style=\"mso-direction-alt:auto\"><div style=\"text-align:left\"></div></v:textbox>")
                .Append(CultureInfo.InvariantCulture,
                    $"<x:ClientData ObjectType=\"Note\"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{col + 1}, 15, {HeaderRow - 1}, 2, {col + 4}, 15, {HeaderRow + 6}, 16</x:Anchor>")
                .Append(CultureInfo.InvariantCulture, $"<x:AutoFill>False</x:AutoFill><x:Row>{HeaderRow - 1}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>");
        }

        vml.Append("</xml>");
        var vmlPart = part.AddNewPart<VmlDrawingPart>();
        using var writer = new StreamWriter(vmlPart.GetStream(FileMode.Create), new UTF8Encoding(false));
        writer.Write(vml.ToString());
    }

    private static Stylesheet Styles() => new(
        new Fonts(
            new Font(new FontSize { Val = 11 }, new FontName { Val = "等线" }),
            new Font(new Bold(), new FontSize { Val = 14 }, new FontName { Val = "等线" }),
            new Font(new Bold(), new FontSize { Val = 11 }, new FontName { Val = "等线" }),
            new Font(new Bold(), new FontSize { Val = 11 }, new Color { Rgb = "FFC00000" }, new FontName { Val = "等线" })),
        new Fills(
            new Fill(new PatternFill { PatternType = PatternValues.None }),
            new Fill(new PatternFill { PatternType = PatternValues.Gray125 }),
            new Fill(new PatternFill(new ForegroundColor { Rgb = "FFD9E1F2" }) { PatternType = PatternValues.Solid }),
            new Fill(new PatternFill(new ForegroundColor { Rgb = "FFEDEDED" }) { PatternType = PatternValues.Solid })),
        new Borders(
            new Border(),
            new Border(
                new LeftBorder { Style = BorderStyleValues.Thin }, new RightBorder { Style = BorderStyleValues.Thin },
                new TopBorder { Style = BorderStyleValues.Thin }, new BottomBorder { Style = BorderStyleValues.Thin }, new DiagonalBorder())),
        new CellFormats(
            new CellFormat(),
            new CellFormat { FontId = 1, ApplyFont = true },
            new CellFormat(new Alignment { WrapText = true, Vertical = VerticalAlignmentValues.Center, Horizontal = HorizontalAlignmentValues.Center })
            {
                FontId = 2, FillId = 2, BorderId = 1, ApplyFont = true, ApplyFill = true, ApplyBorder = true, ApplyAlignment = true,
            },
            new CellFormat(new Alignment { WrapText = true, Vertical = VerticalAlignmentValues.Center, Horizontal = HorizontalAlignmentValues.Center })
            {
                FontId = 3, FillId = 2, BorderId = 1, ApplyFont = true, ApplyFill = true, ApplyBorder = true, ApplyAlignment = true,
            },
            // Text (@): a pasted or typed id keeps every digit instead of becoming 3.70124E+11.
            new CellFormat { NumberFormatId = 49, FillId = 3, BorderId = 1, ApplyNumberFormat = true, ApplyFill = true, ApplyBorder = true },
            new CellFormat { FillId = 3, BorderId = 1, ApplyFill = true, ApplyBorder = true },
            new CellFormat { BorderId = 1, ApplyBorder = true }));

    private static Cell TextCell(int column, int row, string text, uint style) => new()
    {
        CellReference = Reference(column, row),
        DataType = CellValues.InlineString,
        InlineString = new InlineString(new Text(text) { Space = SpaceProcessingModeValues.Preserve }),
        StyleIndex = style,
    };

    /// <summary>"A1"-style reference of a 1-based column and row.</summary>
    public static string Reference(int column, int row)
    {
        var letters = string.Empty;
        for (var c = column; c > 0; c = (c - 1) / 26)
        {
            letters = (char)('A' + ((c - 1) % 26)) + letters;
        }

        return letters + row.ToString(CultureInfo.InvariantCulture);
    }

    private static string Clip(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
