using Federation.Node.Application;
using Federation.Protos.V1;

namespace Federation.Node.Web.Pages;

/// <summary>
/// Who has reported, on time or late, at every node below (GetCompleteness). A node that did not answer is
/// marked with the time its figures are from (or unknown), and its units not yet reported are counted as
/// unknown beside the missing list, never dropped from it. The listing's pages are followed (as far as
/// <see cref="WebPageModel.MaxListingPages"/>; a table cut short says how long its list is).
/// </summary>
public sealed class CompletenessModel : WebPageModel
{
    private const int ListingPageSize = 10_000;

    internal GetCompletenessResponse? Answer { get; private set; }

    /// <summary>Units below nodes that did not answer whose standing is unknown: expected minus reported as last known.</summary>
    internal long UnknownCount { get; private set; }

    /// <summary>True when a node that did not answer never sent anything for the period: how many units it has is unknown too.</summary>
    internal bool UnknownSize { get; private set; }

    /// <summary>The unknown count as said: "3", "3+" when some sizes are unknown, "?" when only that is known.</summary>
    internal string UnknownText => UnknownSize
        ? (UnknownCount > 0 ? UnknownCount.ToString(System.Globalization.CultureInfo.InvariantCulture) + "+" : "?")
        : UnknownCount.ToString(System.Globalization.CultureInfo.InvariantCulture);

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Title = T.Format("completeness.title", TargetNodeOrSelf, TargetNodeOrSelf, PeriodText);
        var channel = await Api.ChannelAsync(cancellationToken);
        Answer = await AllPages.GetCompletenessAsync(new QueryService.QueryServiceClient(channel),
            new GetCompletenessRequest { NodeId = TargetNode, Period = PeriodText, PageSize = ListingPageSize }, () => Api.Call(Session!, cancellationToken), MaxListingPages);
        var self = Answer.Nodes.FirstOrDefault();
        Title = T.Format("completeness.title", self?.DisplayName ?? Answer.NodeId, Answer.NodeId, Answer.Period);

        var nodes = new WebTable("nodes", T["nodes"],
        [
            new(T["code"]), new(T["name"]), new(T["tier"]), new(T["expected"], Numeric: true), new(T["reported"], Numeric: true),
            new(T["on-time"], Numeric: true), new(T["rate"], Numeric: true), new(T["freshness"]),
        ]);
        var unknown = new WebTable("unknown", T["unknown-units"], [new(T["code"]), new(T["name"]), new(T["unknown-count"], Numeric: true), new(T["freshness"])]);
        foreach (var node in Answer.Nodes)
        {
            var freshness = !node.Stale ? new WebCell(T["fresh"])
                : node.AsOfTime is null ? new WebCell(T["unknown"]) { Css = "short" }
                : new WebCell(T.Format("stale-as-of", FigureCells.Time(node.AsOfTime))) { Css = "short" };
            var link = Link("/completeness", node.NodeId);
            nodes.Rows.Add(new WebRow(
            [
                new WebCell(node.NodeId) { Href = link },
                node.DisplayName,
                node.Tier,
                FigureCells.Count(node.ExpectedLeafCount),
                FigureCells.Count(node.ReportedLeafCount),
                FigureCells.Count(node.OnTimeLeafCount),
                FigureCells.Rate(node.ReportedLeafCount, node.ExpectedLeafCount),
                freshness,
            ], node.NodeId, node.Stale ? "lagging" : null));
            if (node.Stale && node.ExpectedLeafCount > node.ReportedLeafCount)
            {
                var count = node.ExpectedLeafCount - node.ReportedLeafCount;
                UnknownCount += count;
                unknown.Rows.Add(new WebRow([node.NodeId, node.DisplayName, FigureCells.Count(count), freshness], node.NodeId));
            }
            else if (node.Stale && node.AsOfTime is null)
            {
                // Nothing ever received for the period: not even its size is known. Said so, never counted as zero.
                UnknownSize = true;
                unknown.Rows.Add(new WebRow([node.NodeId, node.DisplayName, new WebCell("?"), freshness], node.NodeId));
            }
        }

        var missing = new WebTable("missing", T["missing"], [new(T["code"]), new(T["name"]), new(T["host"])]) { EmptyText = "—" };
        foreach (var leaf in Answer.Missing)
        {
            missing.Rows.Add(new WebRow([leaf.UnitId, leaf.DisplayName, leaf.HostNodeId], leaf.UnitId));
        }

        var late = new WebTable("late", T["late"], [new(T["code"]), new(T["name"]), new(T["host"]), new(T["received"])]) { EmptyText = "—" };
        foreach (var leaf in Answer.Late)
        {
            late.Rows.Add(new WebRow([leaf.UnitId, leaf.DisplayName, leaf.HostNodeId, FigureCells.Time(leaf.ReceiveTime)], leaf.UnitId));
        }

        nodes.MoreText = More(nodes.Rows.Count, Answer.NodeCount);
        missing.MoreText = More(missing.Rows.Count, Answer.MissingCount);
        late.MoreText = More(late.Rows.Count, Answer.LateCount);
        Tables.Add(nodes);
        Tables.Add(missing);
        if (unknown.Rows.Count > 0)
        {
            Tables.Add(unknown);
        }

        Tables.Add(late);
    }

    private string? More(int listed, uint total) => listed < total ? T.Format("listing.more", listed, total) : null;
}
