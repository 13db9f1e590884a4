using System.Globalization;
using Federation.Protos.V1;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>Renders totals for people, in Chinese or English: exact figures, category names, target status, what is not confirmed.</summary>
public static class TotalsTable
{
    public static Table Render(GetTotalsResponse totals, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var coverage = totals.Coverage ?? new Coverage();
        var title = chinese
            ? $"{totals.DisplayName}（{totals.NodeId}，{totals.Tier}）· {totals.Period} · 已报 {coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount} 个单位"
            : $"{totals.DisplayName} ({totals.NodeId}, {totals.Tier}) · {totals.Period} · {coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount} units reported";
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn(chinese ? "指标" : "Indicator")
            .AddColumn(new TableColumn(chinese ? "数值" : "Value").RightAligned())
            .AddColumn(new TableColumn(chinese ? "单位数" : "Units").RightAligned())
            .AddColumn(chinese ? "目标" : "Target")
            .AddColumn(chinese ? "状态" : "Status");
        foreach (var total in totals.Totals)
        {
            var attainment = total.Attainment;
            table.AddRow(
                Markup.Escape(chinese ? total.Indicator.NameZh : total.Indicator.NameEn),
                Markup.Escape(FormatValue(total, chinese)),
                total.Aggregate.UnitCount.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(attainment?.Target.Description ?? string.Empty),
                attainment is null ? string.Empty : attainment.UnitCount == 0 ? "-" : Status(attainment, chinese));
        }

        if (Unconfirmed(coverage, chinese) is { Length: > 0 } caption)
        {
            table.Caption(Markup.Escape(caption));
        }

        return table;
    }

    /// <summary>Nodes below, at any depth, whose figures are not confirmed fresh, and children that sent nothing; empty when all is confirmed.</summary>
    public static string Unconfirmed(Coverage coverage, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        var parts = new List<string>();
        if (coverage.UnconfirmedNodes.Count > 0 || coverage.UnconfirmedLeafCount > 0)
        {
            var nodes = string.Join(chinese ? "、" : ", ", coverage.UnconfirmedNodes.Select(n =>
            {
                var asOf = n.AsOfTime?.ToDateTimeOffset().ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? (chinese ? "从未上报" : "never");
                return chinese ? $"{n.NodeId}（{n.LeafCount} 个单位，截至 {asOf}）" : $"{n.NodeId} ({n.LeafCount} units, as of {asOf})";
            }));
            var more = coverage.UnconfirmedOmittedCount == 0 ? string.Empty
                : chinese ? $" 等，另有 {coverage.UnconfirmedOmittedCount} 个节点" : $" and {coverage.UnconfirmedOmittedCount} more nodes";
            parts.Add(chinese
                ? $"未确认最新 {coverage.UnconfirmedLeafCount} 个单位：{nodes}{more}"
                : $"not confirmed fresh, {coverage.UnconfirmedLeafCount} units: {nodes}{more}");
        }

        if (coverage.SilentSourceIds.Count > 0)
        {
            parts.Add(chinese ? $"未上报：{string.Join("、", coverage.SilentSourceIds)}" : $"sent nothing: {string.Join(", ", coverage.SilentSourceIds)}");
        }

        return string.Join(chinese ? "；" : "; ", parts);
    }

    /// <summary>The headline figure as a short exact text, e.g. "42", "10/12 (83.3%)", "mean 45.5 (38–52)", "好 3 · 较好 2".</summary>
    public static string FormatValue(IndicatorTotal total, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(total);
        var a = total.Aggregate;
        if (a.UnitCount == 0)
        {
            return chinese ? "无数据" : "no data";
        }

        return a.Kind switch
        {
            ValueKind.Count => a.Total.ToString("N0", CultureInfo.InvariantCulture),
            ValueKind.Flag => string.Create(CultureInfo.InvariantCulture, $"{a.Total}/{a.UnitCount} ({Percent(a.Total, a.UnitCount)})"),
            ValueKind.Ratio => string.Create(CultureInfo.InvariantCulture, $"{a.Total}/{a.DenominatorTotal} ({Percent(a.Total, a.DenominatorTotal)})"),
            ValueKind.Measure => string.Create(CultureInfo.InvariantCulture, $"{(chinese ? "均值" : "mean")} {(double)a.Total / a.UnitCount:0.#} ({a.Min}–{a.Max})"),
            ValueKind.Category => string.Join(" · ", a.Categories
                .OrderBy(c => IndexOf(total.Indicator, c.Code))
                .Select(c => $"{CategoryName(total.Indicator, c.Code, chinese)} {c.UnitCount}")),
            _ => string.Empty,
        };
    }

    /// <summary>A category's name in the language, or its code when the catalogue does not name it.</summary>
    public static string CategoryName(Indicator indicator, string code, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        var category = indicator.Categories.FirstOrDefault(c => c.Code == code);
        return category is null ? code : chinese ? category.NameZh : category.NameEn;
    }

    private static int IndexOf(Indicator indicator, string code)
    {
        var index = indicator.Categories.Select(static c => c.Code).ToList().IndexOf(code);
        return index < 0 ? int.MaxValue : index;
    }

    private static string Status(TargetAttainment attainment, bool chinese) =>
        (attainment.Met, chinese) switch
        {
            (true, true) => $"[green]达标[/]（{attainment.MeetingUnitCount}/{attainment.UnitCount} 个单位）",
            (false, true) => $"[red]未达标[/]（{attainment.MeetingUnitCount}/{attainment.UnitCount} 个单位）",
            (true, false) => $"[green]met[/] ({attainment.MeetingUnitCount}/{attainment.UnitCount} units)",
            (false, false) => $"[red]short[/] ({attainment.MeetingUnitCount}/{attainment.UnitCount} units)",
        };

    private static string Percent(long numerator, long denominator) =>
        denominator == 0 ? "n/a" : ((double)numerator / denominator).ToString("P1", CultureInfo.InvariantCulture);
}
