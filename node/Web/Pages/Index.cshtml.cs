using Federation.Protos.V1;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Web.Pages;

/// <summary>Totals of a node for a period against their targets, with coverage and who is stale (GetTotals).</summary>
public sealed class IndexModel : WebPageModel
{
    /// <summary>Pull fresh figures from the subtree first (GetTotals with refresh, under the page's deadline).</summary>
    [BindProperty(SupportsGet = true, Name = "refresh")]
    public bool Refresh { get; set; }

    internal GetTotalsResponse? Totals { get; private set; }

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Title = T.Format("totals.title", TargetNodeOrSelf, TargetNodeOrSelf, PeriodText);
        var channel = await Api.ChannelAsync(cancellationToken);
        Totals = await new QueryService.QueryServiceClient(channel).GetTotalsAsync(
            new GetTotalsRequest { NodeId = TargetNode, Period = PeriodText, Refresh = Refresh }, Api.Call(Session!, cancellationToken));
        Title = T.Format("totals.title", Totals.DisplayName, Totals.NodeId, Totals.Period);
        var table = new WebTable("totals", T["nav.totals"],
        [
            new(T["indicator"]), new(T["value"], Numeric: true), new(T["units-reported"], Numeric: true), new(T["target"]),
            new(T["meeting"], Numeric: true), new(T["status"]),
        ]);
        foreach (var total in Totals.Totals)
        {
            var hasData = total.Aggregate is { UnitCount: > 0 };
            var value = FigureCells.Value(total, T);
            table.Rows.Add(new WebRow(
            [
                T.Name(total.Indicator),
                value,
                FigureCells.Count(total.Aggregate?.UnitCount ?? 0),
                FigureCells.Target(total.Indicator, T),
                total.Attainment is { } a ? new WebCell($"{a.MeetingUnitCount}/{a.UnitCount}") : new WebCell(string.Empty),
                FigureCells.Status(total.Attainment, hasData, T),
            ], Key: total.Indicator.Id, Css: total.Attainment is { Met: false } && hasData ? "lagging" : null));
        }

        Tables.Add(table);
    }
}
