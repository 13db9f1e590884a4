namespace Federation.Node.Web;

/// <summary>A column of a page table.</summary>
internal sealed record WebColumn(string Title, bool Numeric = false);

/// <summary>
/// One cell: the text the page shows, and for the spreadsheet the number behind it (already rounded as
/// shown) with its Excel number format. <see cref="Href"/>, <see cref="Css"/> and <see cref="Hint"/> are for the page only.
/// </summary>
internal sealed record WebCell(string Text, double? Number = null, string? NumberFormat = null)
{
    public string? Href { get; init; }

    public string? Css { get; init; }

    public string? Hint { get; init; }

    public static implicit operator WebCell(string text) => new(text);
}

/// <summary>A row, with an optional key (a unit or node id) for row actions and a style for the whole row.</summary>
internal sealed record WebRow(IReadOnlyList<WebCell> Cells, string? Key = null, string? Css = null);

/// <summary>
/// A table exactly as the page shows it. The page renders it and the download writes it, from the same
/// object built by the same request, so the .xlsx always holds the page's rows.
/// </summary>
internal sealed class WebTable(string name, string title, IReadOnlyList<WebColumn> columns)
{
    /// <summary>The table's name in its download link (<c>?handler=Xlsx&amp;table=NAME</c>).</summary>
    public string Name { get; } = name;

    public string Title { get; } = title;

    public IReadOnlyList<WebColumn> Columns { get; } = columns;

    public List<WebRow> Rows { get; } = [];

    /// <summary>Shown instead of the rows when there are none.</summary>
    public string? EmptyText { get; init; }

    /// <summary>Shown under the rows when the list goes on beyond them (the page reads a long listing only so far).</summary>
    public string? MoreText { get; set; }

    public void Add(params WebCell[] cells) => Rows.Add(new WebRow(cells));
}
