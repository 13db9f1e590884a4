using Federation.Node.Application;
using Federation.Protos.V1;
using Microsoft.AspNetCore.Mvc;
using PeriodValue = Federation.Aggregator.Periods.Period;

namespace Federation.Node.Web.Pages;

/// <summary>One indicator of a node across periods (GetHistory), as a chart drawn on the server and a table.</summary>
public sealed class TrendsModel : WebPageModel
{
    private const int DefaultSpan = 8;

    [BindProperty(SupportsGet = true, Name = "indicator")]
    public string? IndicatorId { get; set; }

    [BindProperty(SupportsGet = true, Name = "from")]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true, Name = "to")]
    public string? To { get; set; }

    internal List<Indicator> Indicators { get; } = [];

    /// <summary>The chart as SVG markup built by <see cref="SvgChart"/> (every text in it escaped).</summary>
    internal string? Chart { get; private set; }

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        // Eight periods of the picked period's type, ending with it, unless the range is given.
        if (string.IsNullOrWhiteSpace(To))
        {
            To = PeriodText;
        }

        if (string.IsNullOrWhiteSpace(From))
        {
            From = PeriodValue.TryParse(To, out var end) ? Enumerable.Range(1, DefaultSpan - 1).Aggregate(end, static (p, _) => p.Previous()).ToString() : To;
        }

        var channel = await Api.ChannelAsync(cancellationToken);
        var catalogue = await new FederationService.FederationServiceClient(channel).GetCatalogueAsync(new GetCatalogueRequest(), Api.Call(Session!, cancellationToken));
        Indicators.AddRange(catalogue.Catalogue.Indicators);
        IndicatorId = Indicators.Any(i => i.Id == IndicatorId) ? IndicatorId
            : (Indicators.FirstOrDefault(static i => i.Target is not null) ?? Indicators.FirstOrDefault())?.Id;
        Title = T.Format("trends.title", TargetNodeOrSelf, TargetNodeOrSelf, $"{From} – {To}");
        if (IndicatorId is null)
        {
            return;
        }

        var history = await AllPages.GetHistoryAsync(new QueryService.QueryServiceClient(channel),
            new GetHistoryRequest { NodeId = TargetNode, IndicatorId = IndicatorId, FromPeriod = From, ToPeriod = To }, () => Api.Call(Session!, cancellationToken), MaxListingPages);
        var indicator = history.Indicator ?? Indicators.First(i => i.Id == IndicatorId);
        Title = T.Format("trends.title", T.Name(indicator), history.NodeId, $"{From} – {To}");

        var table = new WebTable("history", T.Name(indicator),
        [
            new(T["period"]), new(T["value"], Numeric: true), new(T["units-reported"], Numeric: true), new(T["reported"], Numeric: true), new(T["status"]),
        ]);
        var points = new List<ChartPoint>();
        foreach (var point in history.Points)
        {
            var total = point.HasData ? point.Total : null;
            if (total is not null && total.Indicator is null)
            {
                total.Indicator = indicator;
            }

            points.Add(new ChartPoint(point.Period, FigureCells.Number(total)));
            table.Rows.Add(new WebRow(
            [
                point.Period,
                point.HasData ? FigureCells.Value(total, T) : new WebCell(T["no-data"]) { Css = "nodata" },
                point.HasData ? FigureCells.Count(total?.Aggregate?.UnitCount ?? 0) : new WebCell("—"),
                point.Coverage is { } c ? new WebCell($"{c.ReportedLeafCount}/{c.ExpectedLeafCount}") : new WebCell("—"),
                FigureCells.Status(total?.Attainment, point.HasData && total?.Aggregate is { UnitCount: > 0 }, T),
            ], point.Period));
        }

        if (history.NextPageToken.Length > 0)
        {
            table.MoreText = T.Format("listing.more", table.Rows.Count, CountOfPeriods());
        }

        Tables.Add(table);
        if (indicator.Kind != ValueKind.Category)
        {
            var share = FigureCells.IsShare(indicator);
            var threshold = FigureCells.Threshold(indicator);
            Chart = SvgChart.Line(points, share ? threshold : null, share, Title, T["no-data"], FigureCells.Target(indicator, T));
        }
    }

    /// <summary>Periods in the range asked (From and To parsed the same, as the API accepted them).</summary>
    private int CountOfPeriods()
    {
        var count = 0;
        if (PeriodValue.TryParse(From, out var period) && PeriodValue.TryParse(To, out var last))
        {
            for (; period <= last; period = period.Next())
            {
                count++;
            }
        }

        return count;
    }
}
