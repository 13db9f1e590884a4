using Federation.Node.Cli;
using Federation.Protos.V1;
using Spectre.Console;

namespace Federation.Demo;

/// <summary>One row per district, read from each district's own node, with the city's totals last.</summary>
internal static class DistrictTable
{
    /// <summary>Headline indicators: membership, recruitment, and the three targets leaders watch most.</summary>
    private static readonly string[] s_headlines =
        ["party_members", "members_developed", "secretary_college_degree", "reserve_cadres", "satisfaction_rate"];

    public static Table Render(IReadOnlyList<GetTotalsResponse> districts, GetTotalsResponse city)
    {
        var sample = city.Totals.ToDictionary(static t => t.Indicator.Id, StringComparer.Ordinal);
        var table = new Table()
            .Title($"{Markup.Escape(city.Period)} by district")
            .AddColumn("区县 District")
            .AddColumn("Id")
            .AddColumn(new TableColumn("Reported").RightAligned());
        foreach (var id in s_headlines)
        {
            var indicator = sample[id].Indicator;
            table.AddColumn(new TableColumn(Markup.Escape($"{indicator.NameZh}\n{indicator.NameEn}")).RightAligned());
        }

        foreach (var district in districts)
        {
            table.AddRow(Row(district, bold: false));
        }

        table.AddRow(Row(city, bold: true));
        return table;
    }

    private static string[] Row(GetTotalsResponse totals, bool bold)
    {
        var byId = totals.Totals.ToDictionary(static t => t.Indicator.Id, StringComparer.Ordinal);
        var coverage = totals.Coverage ?? new Coverage();
        string[] cells =
        [
            totals.DisplayName,
            totals.NodeId,
            $"{coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount}",
            .. s_headlines.Select(id => byId.TryGetValue(id, out var total) ? Headline(total) : "no data"),
        ];
        return [.. cells.Select(c => bold ? $"[bold]{Markup.Escape(c)}[/]" : Markup.Escape(c))];
    }

    /// <summary>The figure; for a per-unit COUNT target also the units meeting it, e.g. "26 (8/12 units meet)".</summary>
    private static string Headline(IndicatorTotal total)
    {
        var value = TotalsTable.FormatValue(total, CliLanguage.IsChinese((string?)null));
        return total.Attainment is { } attainment && total.Indicator.Kind == ValueKind.Count
            ? $"{value} ({attainment.MeetingUnitCount}/{attainment.UnitCount} units meet)"
            : value;
    }
}
