using System.Globalization;
using Federation.Protos.V1;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>Renders totals for people: zh/en labels, exact figures, target status.</summary>
public static class TotalsTable
{
    public static Table Render(GetTotalsResponse totals)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var coverage = totals.Coverage ?? new Coverage();
        var table = new Table()
            .Title($"{Markup.Escape(totals.DisplayName)} ({Markup.Escape(totals.NodeId)}, {Markup.Escape(totals.Tier)}) · {Markup.Escape(totals.Period)} · " +
                   $"{coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount} units reported")
            .AddColumn("指标")
            .AddColumn("Indicator")
            .AddColumn(new TableColumn("Value").RightAligned())
            .AddColumn(new TableColumn("Units").RightAligned())
            .AddColumn("Target")
            .AddColumn("Status");
        foreach (var total in totals.Totals)
        {
            var attainment = total.Attainment;
            table.AddRow(
                Markup.Escape(total.Indicator.NameZh),
                Markup.Escape(total.Indicator.NameEn),
                Markup.Escape(FormatValue(total)),
                total.Aggregate.UnitCount.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(attainment?.Target.Description ?? string.Empty),
                attainment is null ? string.Empty
                    : attainment.Met ? $"[green]met[/] ({attainment.MeetingUnitCount}/{attainment.UnitCount} units)"
                    : $"[red]short[/] ({attainment.MeetingUnitCount}/{attainment.UnitCount} units)");
        }

        return table;
    }

    /// <summary>The headline figure as a short exact text, e.g. "42", "10/12 (83.3%)", "mean 45.5 (38–52)".</summary>
    public static string FormatValue(IndicatorTotal total)
    {
        ArgumentNullException.ThrowIfNull(total);
        var a = total.Aggregate;
        if (a.UnitCount == 0)
        {
            return "no data";
        }

        return a.Kind switch
        {
            ValueKind.Count => a.Total.ToString("N0", CultureInfo.InvariantCulture),
            ValueKind.Flag => string.Create(CultureInfo.InvariantCulture, $"{a.Total}/{a.UnitCount} ({Percent(a.Total, a.UnitCount)})"),
            ValueKind.Ratio => string.Create(CultureInfo.InvariantCulture, $"{a.Total}/{a.DenominatorTotal} ({Percent(a.Total, a.DenominatorTotal)})"),
            ValueKind.Measure => string.Create(CultureInfo.InvariantCulture, $"mean {(double)a.Total / a.UnitCount:0.#} ({a.Min}–{a.Max})"),
            ValueKind.Category => string.Join(" ", a.Categories.Select(static c => $"{c.Code}:{c.UnitCount}")),
            _ => string.Empty,
        };
    }

    private static string Percent(long numerator, long denominator) =>
        denominator == 0 ? "n/a" : ((double)numerator / denominator).ToString("P1", CultureInfo.InvariantCulture);
}
