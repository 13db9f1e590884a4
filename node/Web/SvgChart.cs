using System.Globalization;
using System.Net;
using System.Text;

namespace Federation.Node.Web;

/// <summary>One point of a trend: a period and its value, or none (a gap, never drawn as zero).</summary>
internal readonly record struct ChartPoint(string Label, double? Value);

/// <summary>One series of a bar chart: its label and one count per category.</summary>
internal sealed record BarSeries(string Label, IReadOnlyList<long> Values);

/// <summary>
/// A line chart as inline SVG, drawn on the server: no script, nothing fetched, crisp in print. Periods
/// without figures break the line and are marked as gaps; a target is a dashed line. Presentation
/// attributes only (no style attributes), so the page's content security policy needs no exception.
/// </summary>
internal static class SvgChart
{
    private const double Width = 720;
    private const double Height = 300;
    private const double Left = 64;
    private const double Right = 24;
    private const double Top = 20;
    private const double Bottom = 56;

    public static string Line(IReadOnlyList<ChartPoint> points, double? target, bool percent, string title, string gapLabel, string targetLabel)
    {
        ArgumentNullException.ThrowIfNull(points);
        var values = points.Where(static p => p.Value is not null).Select(static p => p.Value!.Value).ToList();
        var top = Math.Max(values.DefaultIfEmpty(0).Max(), target ?? 0);
        var (step, max) = Scale(percent ? Math.Max(top, 0.1) : Math.Max(top, 1));
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        double X(int i) => Left + (points.Count == 1 ? plotWidth / 2 : plotWidth * i / (points.Count - 1));
        double Y(double v) => Top + plotHeight - (plotHeight * v / max);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Escape(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{Escape(title)}</title>");
        for (var tick = 0.0; tick <= max + (step / 2); tick += step)
        {
            var y = Y(tick);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\" stroke=\"#d9dee4\" stroke-width=\"1\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" font-size=\"12\" fill=\"#444\">{Escape(Tick(tick, percent))}</text>");
        }

        var every = Math.Max(1, (int)Math.Ceiling(points.Count / 12.0));
        for (var i = 0; i < points.Count; i++)
        {
            if (i % every == 0 || i == points.Count - 1)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<text x=\"{X(i):0.#}\" y=\"{Height - Bottom + 20}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#444\">{Escape(points[i].Label)}</text>");
            }
        }

        if (target is { } t)
        {
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Left}\" y1=\"{Y(t):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(t):0.#}\" stroke=\"#b3261e\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>");
            svg.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{Width - Right}\" y=\"{Y(t) - 6:0.#}\" text-anchor=\"end\" font-size=\"12\" fill=\"#b3261e\">{Escape(targetLabel)}</text>");
        }

        // One polyline per run of consecutive periods with figures: a gap is a gap, not a slope.
        var run = new List<string>();
        void Flush()
        {
            if (run.Count > 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(' ', run)}\" fill=\"none\" stroke=\"#1f5f99\" stroke-width=\"2.5\"/>");
            }

            run.Clear();
        }

        for (var i = 0; i < points.Count; i++)
        {
            if (points[i].Value is { } v)
            {
                run.Add(string.Create(CultureInfo.InvariantCulture, $"{X(i):0.#},{Y(v):0.#}"));
            }
            else
            {
                Flush();
            }
        }

        Flush();
        for (var i = 0; i < points.Count; i++)
        {
            if (points[i].Value is { } v)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(i):0.#}\" cy=\"{Y(v):0.#}\" r=\"4\" fill=\"#1f5f99\"><title>{Escape(points[i].Label)}: {Escape(Tick(v, percent, precise: true))}</title></circle>");
            }
            else
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<text x=\"{X(i):0.#}\" y=\"{Y(0) - 6:0.#}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#888\">{Escape(gapLabel)}</text>");
            }
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Y(0):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(0):0.#}\" stroke=\"#444\" stroke-width=\"1\"/>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    // Series colours, told apart in greyscale print too by their order in the legend and the counts on the bars.
    private static readonly string[] s_palette = ["#1f5f99", "#c27c0e", "#2e7d32", "#7b4ea3", "#b3261e", "#00838f"];

    /// <summary>
    /// Grouped bars of counts: one group per category, one bar per series, the count written above each bar
    /// that has one, a legend under the axis. Counts are whole numbers, so the gridlines are too.
    /// </summary>
    public static string Bars(IReadOnlyList<string> categories, IReadOnlyList<BarSeries> series, string title)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        var top = series.SelectMany(static s => s.Values).DefaultIfEmpty(0).Max();
        var (step, max) = Scale(Math.Max(top, 1));
        if (step < 1)
        {
            (step, max) = (1, Math.Max(top, 1));
        }

        var legendRows = (series.Count + 3) / 4;
        var height = Height + (legendRows * 18);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var group = plotWidth / Math.Max(categories.Count, 1);
        var bar = group * 0.8 / Math.Max(series.Count, 1);
        double Y(double v) => Top + plotHeight - (plotHeight * v / max);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {Width} {height}\" role=\"img\" aria-label=\"{Escape(title)}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{Escape(title)}</title>");
        for (var tick = 0.0; tick <= max + (step / 2); tick += step)
        {
            var y = Y(tick);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\" stroke=\"#d9dee4\" stroke-width=\"1\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" font-size=\"12\" fill=\"#444\">{Escape(Tick(tick, percent: false))}</text>");
        }

        for (var c = 0; c < categories.Count; c++)
        {
            var x0 = Left + (group * c) + (group * 0.1);
            svg.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{Left + (group * c) + (group / 2):0.#}\" y=\"{Height - Bottom + 20}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#444\">{Escape(categories[c])}</text>");
            for (var s = 0; s < series.Count; s++)
            {
                var value = c < series[s].Values.Count ? series[s].Values[c] : 0;
                var x = x0 + (bar * s);
                var colour = s_palette[s % s_palette.Length];
                svg.Append(CultureInfo.InvariantCulture,
                    $"<rect class=\"bar\" x=\"{x:0.#}\" y=\"{Y(value):0.#}\" width=\"{Math.Max(bar - 2, 1):0.#}\" height=\"{Y(0) - Y(value):0.#}\" fill=\"{colour}\"><title>{Escape(series[s].Label)} {Escape(categories[c])}: {value}</title></rect>");
                if (value > 0)
                {
                    svg.Append(CultureInfo.InvariantCulture,
                        $"<text x=\"{x + ((bar - 2) / 2):0.#}\" y=\"{Y(value) - 4:0.#}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#222\">{value}</text>");
                }
            }
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Y(0):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(0):0.#}\" stroke=\"#444\" stroke-width=\"1\"/>");
        for (var s = 0; s < series.Count; s++)
        {
            var x = Left + (s % 4 * 160);
            var y = Height - Bottom + 38 + (s / 4 * 18);
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{s_palette[s % s_palette.Length]}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 18}\" y=\"{y}\" font-size=\"12\" fill=\"#444\">{Escape(series[s].Label)}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>A step of 1, 2 or 5 times a power of ten giving about five gridlines, and the axis top.</summary>
    internal static (double Step, double Max) Scale(double top)
    {
        var rough = top / 5;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * power).First(s => s >= rough);
        return (step, Math.Ceiling(top / step) * step);
    }

    private static string Tick(double value, bool percent, bool precise = false) =>
        percent ? (value * 100).ToString(precise ? "0.0" : "0.#", CultureInfo.InvariantCulture) + "%"
        : value.ToString(precise ? "#,##0.#" : "#,##0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
