using Federation.Node.Application;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Web.Pages;

/// <summary>
/// Target attainment at a node and the leaf units below it that fall short (后进, GetTargets), one row per
/// unit with every target it misses. Names come from the completeness walk where a unit is known by name. Both
/// listings' pages are followed (as far as <see cref="WebPageModel.MaxListingPages"/>); a unit's targets all come on one
/// page, so each row read is whole, and a table cut short says how many units there are.
/// </summary>
public sealed class LaggardsModel : WebPageModel
{
    private const int ListingPageSize = 10_000;

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Title = T.Format("laggards.title", TargetNodeOrSelf, TargetNodeOrSelf, PeriodText);
        var channel = await Api.ChannelAsync(cancellationToken);
        var query = new QueryService.QueryServiceClient(channel);
        var targets = await AllPages.GetTargetsAsync(query,
            new GetTargetsRequest { NodeId = TargetNode, Period = PeriodText, PageSize = ListingPageSize }, () => Api.Call(Session!, cancellationToken), MaxListingPages);
        var (names, nodeIds) = await NamesAsync(query, cancellationToken);
        Title = T.Format("laggards.title", names.GetValueOrDefault(targets.NodeId) ?? targets.NodeId, targets.NodeId, targets.Period);

        var standing = new WebTable("targets", T["targets"],
        [
            new(T["indicator"]), new(T["value"], Numeric: true), new(T["target"]), new(T["status"]), new(T["meeting"], Numeric: true),
            new(T["lagging-count"], Numeric: true),
        ]);
        var lagging = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var target in targets.Targets)
        {
            var hasData = target.Attainment is { UnitCount: > 0 } && target.Value is not null;
            standing.Rows.Add(new WebRow(
            [
                T.Name(target.Indicator),
                hasData ? FigureCells.Fraction(target.Indicator, target.Value) : new WebCell("—") { Css = "nodata" },
                FigureCells.Target(target.Indicator, T),
                FigureCells.Status(target.Attainment, hasData, T),
                target.Attainment is { } a ? new WebCell($"{a.MeetingUnitCount}/{a.UnitCount}") : new WebCell(string.Empty),
                FigureCells.Count(Math.Max(target.LaggingUnitCount, (uint)target.LaggingUnitIds.Count)),
            ], target.Indicator.Id, target.Attainment is { Met: false } && hasData ? "lagging" : null));
            foreach (var unit in target.LaggingUnitIds)
            {
                if (!lagging.TryGetValue(unit, out var list))
                {
                    lagging[unit] = list = [];
                }

                list.Add(T.Name(target.Indicator));
            }
        }

        var laggards = new WebTable("laggards", T["laggards"], [new(T["code"]), new(T["name"]), new(T["unmet"]), new(T["unmet-count"], Numeric: true)])
        {
            EmptyText = "—",
        };
        foreach (var (unit, missed) in lagging.OrderByDescending(static l => l.Value.Count).ThenBy(static l => l.Key, StringComparer.Ordinal))
        {
            var code = nodeIds.Contains(unit) ? new WebCell(unit) { Href = Link("/drill", unit) } : new WebCell(unit);
            laggards.Rows.Add(new WebRow([code, names.GetValueOrDefault(unit) ?? string.Empty, T.List(missed), FigureCells.Count(missed.Count)], unit, "lagging"));
        }

        if (laggards.Rows.Count < targets.LaggingUnitCount)
        {
            laggards.MoreText = T.Format("listing.more", laggards.Rows.Count, targets.LaggingUnitCount);
        }

        Tables.Add(standing);
        Tables.Add(laggards);
    }

    /// <summary>Display names of the nodes below and of the units listed missing or late; empty when the walk is refused.</summary>
    private async Task<(Dictionary<string, string> Names, HashSet<string> NodeIds)> NamesAsync(QueryService.QueryServiceClient query, CancellationToken cancellationToken)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var nodeIds = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var walk = await AllPages.GetCompletenessAsync(query,
                new GetCompletenessRequest { NodeId = TargetNode, Period = PeriodText, PageSize = ListingPageSize }, () => Api.Call(Session!, cancellationToken), MaxListingPages);
            foreach (var node in walk.Nodes)
            {
                names.TryAdd(node.NodeId, node.DisplayName);
                nodeIds.Add(node.NodeId);
            }

            foreach (var leaf in walk.Missing.Concat(walk.Late))
            {
                names.TryAdd(leaf.UnitId, leaf.DisplayName);
            }
        }
        catch (RpcException ex) when (ex.StatusCode is not global::Grpc.Core.StatusCode.Unauthenticated)
        {
            // Names are a courtesy: the codes are the list.
        }

        return (names, nodeIds);
    }
}
