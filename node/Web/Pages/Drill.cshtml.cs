using Federation.Node.Application;
using Federation.Protos.V1;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Web.Pages;

/// <summary>
/// The tier below a node, ranked (GetDrillDown): child nodes link one tier further down, to the village;
/// names beside codes, the targets each misses, the headline figures with their attainment.
/// </summary>
public sealed class DrillModel : WebPageModel
{
    private const int MaxTrail = 12;

    [BindProperty(SupportsGet = true, Name = "sort")]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true, Name = "desc")]
    public bool Descending { get; set; }

    /// <summary>The nodes clicked through to get here, top first (ids, comma-separated), for the way back up.</summary>
    [BindProperty(SupportsGet = true, Name = "trail")]
    public string? TrailText { get; set; }

    internal List<string> Trail { get; } = [];

    internal List<Indicator> Indicators { get; } = [];

    internal Coverage? Coverage { get; private set; }

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Trail.AddRange((TrailText ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(MaxTrail));
        Title = T.Format("drill.title", TargetNodeOrSelf, TargetNodeOrSelf, PeriodText);
        var channel = await Api.ChannelAsync(cancellationToken);
        var catalogue = await new FederationService.FederationServiceClient(channel).GetCatalogueAsync(new GetCatalogueRequest(), Api.Call(Session!, cancellationToken));
        Indicators.AddRange(catalogue.Catalogue.Indicators);
        var query = new QueryService.QueryServiceClient(channel);
        var totals = await query.GetTotalsAsync(new GetTotalsRequest { NodeId = TargetNode, Period = PeriodText }, Api.Call(Session!, cancellationToken));
        Title = T.Format("drill.title", totals.DisplayName, totals.NodeId, totals.Period);
        Coverage = totals.Coverage;
        var drill = await AllPages.GetDrillDownAsync(query,
            new GetDrillDownRequest { NodeId = TargetNode, Period = PeriodText, SortIndicatorId = Sort ?? string.Empty, Descending = Descending, PageSize = 1000 },
            () => Api.Call(Session!, cancellationToken), MaxListingPages);

        // The headline columns: party members, every indicator with a target, and the one ranked by.
        var shown = Indicators.Where(i => i.Id == "party_members" || i.Target is not null || i.Id == Sort).ToList();
        var byId = Indicators.ToDictionary(static i => i.Id, StringComparer.Ordinal);
        var columns = new List<WebColumn> { new(T["rank"], Numeric: true), new(T["code"]), new(T["name"]), new(T["kind"]), new(T["reported"], Numeric: true) };
        columns.AddRange(shown.Select(i => new WebColumn(T.Name(i), Numeric: true)));
        columns.Add(new WebColumn(T["unmet"]));
        var table = new WebTable("drill", T["nav.drill"], columns) { EmptyText = T["no-figures"] };
        var trail = string.Join(',', Trail.Append(totals.NodeId));
        foreach (var row in drill.Rows)
        {
            var isNode = row.Kind == ContributionKind.ChildSummary;
            var code = new WebCell(row.SourceId);
            var name = new WebCell(row.DisplayName);
            if (isNode)
            {
                var href = Link("/drill", row.SourceId, ("sort", Sort), ("desc", Descending ? "true" : null), ("trail", trail));
                code = code with { Href = href };
                name = name with { Href = href };
            }

            var cells = new List<WebCell>
            {
                new(row.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture), row.Rank, "0"),
                code,
                name,
                T[isNode ? "kind.node" : "kind.unit"],
                row.Coverage is { } c ? new WebCell($"{c.ReportedLeafCount}/{c.ExpectedLeafCount}") : new WebCell("—"),
            };
            foreach (var indicator in shown)
            {
                var total = row.Totals.FirstOrDefault(t => t.Indicator?.Id == indicator.Id);
                var cell = FigureCells.Value(total, T);
                cells.Add(total?.Attainment is { } a && total.Aggregate is { UnitCount: > 0 } ? cell with { Css = a.Met ? "met" : "short" } : cell);
            }

            cells.Add(T.List(row.UnmetIndicatorIds.Select(id => byId.TryGetValue(id, out var i) ? T.Name(i) : id)));
            table.Rows.Add(new WebRow(cells, row.SourceId, row.UnmetIndicatorIds.Count > 0 ? "lagging" : null));
        }

        if (table.Rows.Count < drill.RowCount)
        {
            table.MoreText = T.Format("listing.more", table.Rows.Count, drill.RowCount);
        }

        Tables.Add(table);
    }
}
