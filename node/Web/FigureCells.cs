using System.Globalization;
using Federation.Protos.V1;

namespace Federation.Node.Web;

/// <summary>
/// How a figure is shown, one rule for every table: counts as whole numbers, shares and ratios as percents
/// with one decimal, means with one decimal, categories as their counts. The spreadsheet gets the same
/// value rounded as shown, so the page and the download agree to the digit.
/// </summary>
internal static class FigureCells
{
    public static WebCell Value(IndicatorTotal? total, WebTexts texts)
    {
        if (total?.Indicator is null || total.Aggregate is null || total.Aggregate.UnitCount == 0 || total.Value is null || total.Value.Denominator == 0)
        {
            return new WebCell("—") { Hint = texts["no-data"], Css = "nodata" };
        }

        var a = total.Aggregate;
        var value = (double)total.Value.Numerator / total.Value.Denominator;
        return total.Indicator.Kind switch
        {
            ValueKind.Count => new WebCell(a.Total.ToString("N0", CultureInfo.InvariantCulture), a.Total, "#,##0"),
            ValueKind.Flag => Percent(value, $"{a.Total}/{a.UnitCount}"),
            ValueKind.Ratio => Percent(value, $"{a.Total}/{a.DenominatorTotal}"),
            ValueKind.Measure => new WebCell(Math.Round(value, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture),
                Math.Round(value, 1, MidpointRounding.AwayFromZero), "0.0") { Hint = $"{a.Min}–{a.Max}" },
            ValueKind.Category => new WebCell(string.Join(" · ", total.Indicator.Categories
                .Select(c => (Category: c, Count: a.Categories.FirstOrDefault(h => h.Code == c.Code)?.UnitCount ?? 0))
                .Where(static c => c.Count > 0)
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"{texts.Name(c.Category)} {c.Count}")))),
            _ => new WebCell(string.Empty),
        };
    }

    /// <summary>A node's own figure given as a fraction (GetTargets), shown as <see cref="Value"/> shows it.</summary>
    public static WebCell Fraction(Indicator indicator, Protos.V1.Fraction? value)
    {
        if (value is not { Denominator: > 0 })
        {
            return new WebCell("—") { Css = "nodata" };
        }

        var number = (double)value.Numerator / value.Denominator;
        return indicator.Kind switch
        {
            ValueKind.Count => Count(value.Numerator / value.Denominator),
            ValueKind.Flag or ValueKind.Ratio => Percent(number, $"{value.Numerator}/{value.Denominator}"),
            _ => new WebCell(Math.Round(number, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture),
                Math.Round(number, 1, MidpointRounding.AwayFromZero), "0.0"),
        };
    }

    /// <summary>The headline value as a number for charts (a share as a fraction); null when there is none or it is a category.</summary>
    public static double? Number(IndicatorTotal? total) =>
        total?.Indicator is null || total.Aggregate is null || total.Aggregate.UnitCount == 0 || total.Value is null || total.Value.Denominator == 0
            || total.Indicator.Kind == ValueKind.Category
            ? null
            : (double)total.Value.Numerator / total.Value.Denominator;

    public static bool IsShare(Indicator indicator) => indicator.Kind is ValueKind.Flag or ValueKind.Ratio;

    public static WebCell Count(long count) => new(count.ToString("N0", CultureInfo.InvariantCulture), count, "#,##0");

    /// <summary>A share rounded to a tenth of a percent, e.g. "83.3%".</summary>
    public static WebCell Percent(double fraction, string? hint = null)
    {
        var rounded = Math.Round(fraction, 3, MidpointRounding.AwayFromZero);
        return new WebCell((rounded * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%", rounded, "0.0%") { Hint = hint };
    }

    public static WebCell Rate(long part, long whole) => whole == 0 ? new WebCell("—") : Percent((double)part / whole, $"{part}/{whole}");

    /// <summary>A target as people say it: "≥ 85%" for shares, "≥ 2 per unit" for counts and measures.</summary>
    public static string Target(Indicator indicator, WebTexts texts)
    {
        if (indicator.Target is not { ThresholdDenominator: > 0 } target)
        {
            return string.Empty;
        }

        var sign = target.Comparison == Comparison.AtMost ? "≤" : "≥";
        var threshold = (double)target.ThresholdNumerator / target.ThresholdDenominator;
        return IsShare(indicator)
            ? string.Create(CultureInfo.InvariantCulture, $"{sign} {threshold * 100:0.#}%")
            : string.Create(CultureInfo.InvariantCulture, $"{sign} {threshold:0.##} {texts["per-unit"]}");
    }

    /// <summary>The target's threshold in the chart's units; null without a target.</summary>
    public static double? Threshold(Indicator indicator) =>
        indicator.Target is { ThresholdDenominator: > 0 } target ? (double)target.ThresholdNumerator / target.ThresholdDenominator : null;

    public static WebCell Status(TargetAttainment? attainment, bool hasData, WebTexts texts) =>
        attainment is null ? new WebCell(string.Empty)
        : !hasData ? new WebCell("—") { Css = "nodata" }
        : attainment.Met ? new WebCell(texts["met"]) { Css = "met" }
        : new WebCell(texts["short"]) { Css = "short" };

    public static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? string.Empty : time.ToDateTimeOffset().ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
