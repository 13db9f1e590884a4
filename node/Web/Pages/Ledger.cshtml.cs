using Federation.Node.Application;
using Federation.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;
using RpcStatus = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Web.Pages;

/// <summary>One count at the top of the ledger page: its id in the page, the catalogue's name, the figure.</summary>
internal sealed record LedgerCountCell(string Id, string Label, WebCell Value);

/// <summary>
/// The rectification ledger (整改台账) of a node for a period, as the API answers it: the node's counts from its totals
/// (GetTotals: the same rolled-up figures as every other page, never recounted here), the tier below with its counts,
/// each node linking to its own ledger (GetDrillDown), and the items the node holds (ListLedgerItems), overdue ones
/// marked. A reviewer accepts a reported fix or sends it back from here (AcceptLedgerItem, SendBackLedgerItem at this
/// node); whether they may, being the tier above, is the API's answer.
/// </summary>
public sealed class LedgerModel : WebPageModel
{
    // Pages of items followed for one view: at most 5,000 items; beyond that the page says there are more.
    private const int PageSize = 500;
    private const int MaxPages = 10;

    /// <summary>Only items with this status: open, fix-reported or cleared; anything else is every status.</summary>
    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "overdue")]
    public bool OverdueOnly { get; set; }

    /// <summary>Only the items of one unit the node holds (a village's notice, 上墙公示).</summary>
    [BindProperty(SupportsGet = true, Name = "unit")]
    public string? UnitFilter { get; set; }

    [BindProperty(SupportsGet = true, Name = "done")]
    public string? Done { get; set; }

    [BindProperty(SupportsGet = true, Name = "done-unit")]
    public string? DoneUnit { get; set; }

    [BindProperty(SupportsGet = true, Name = "done-item")]
    public string? DoneItem { get; set; }

    [BindProperty(Name = "step-unit")]
    public string? StepUnit { get; set; }

    [BindProperty(Name = "step-item")]
    public string? StepItem { get; set; }

    [BindProperty(Name = "reason")]
    public string? Reason { get; set; }

    /// <summary>The status filters offered, by their value in the query.</summary>
    internal static IReadOnlyList<(string Value, LedgerItemStatus Status)> StatusFilters { get; } =
    [
        ("open", LedgerItemStatus.Open),
        ("fix-reported", LedgerItemStatus.FixReported),
        ("cleared", LedgerItemStatus.Cleared),
    ];

    /// <summary>Listed, cleared, overdue and closure rate, from the node's totals; empty for a clerk, whom totals do not admit.</summary>
    internal List<LedgerCountCell> Counts { get; } = [];

    /// <summary>True when the node has no totals for the period yet: the counts are unknown, not zero.</summary>
    internal bool CountsMissing { get; private set; }

    /// <summary>The items listed, by their row key (unit/item).</summary>
    internal Dictionary<string, LedgerItem> Items { get; } = new(StringComparer.Ordinal);

    /// <summary>Row keys of items this page offers to accept or send back.</summary>
    internal HashSet<string> Steppable { get; } = new(StringComparer.Ordinal);

    /// <summary>True when more items match than the page lists.</summary>
    internal bool More { get; private set; }

    internal int Listed => Items.Count;

    internal string? UnitName { get; private set; }

    /// <summary>False when the drill-down shows the node hosts no unit (its ledger is kept by the nodes below); null when not asked.</summary>
    internal bool? HostsUnits { get; private set; }

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        var session = Session!;
        Title = T.Format("ledger.title", TargetNode.Length == 0 ? Self.DisplayName : TargetNode, TargetNodeOrSelf, PeriodText);
        if (Done is "accept" or "send-back" && !string.IsNullOrEmpty(DoneUnit) && !string.IsNullOrEmpty(DoneItem))
        {
            Notice = T.Format("done." + Done, T.Format("ledger.item-ref", DoneUnit, DoneItem));
        }

        var channel = await Api.ChannelAsync(cancellationToken);
        var catalogue = (await new FederationService.FederationServiceClient(channel).GetCatalogueAsync(new GetCatalogueRequest(), Api.Call(session, cancellationToken))).Catalogue;
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        HashSet<string>? children = null;
        if (session.Role is Role.Reader or Role.Reviewer)
        {
            children = await LoadFiguresAsync(channel, catalogue, names, cancellationToken);
        }

        var request = new ListLedgerItemsRequest
        {
            NodeId = session.Role is Role.Reader or Role.Reviewer ? TargetNode : NodeId ?? string.Empty,
            // A clerk of one unit names it: the API lists a unit's items to its own clerk only that way.
            UnitId = !string.IsNullOrEmpty(UnitFilter) ? UnitFilter
                : session.Role == Role.Clerk && session.Scope != Self.NodeId && string.IsNullOrEmpty(NodeId) ? session.Scope : string.Empty,
            Period = PeriodText,
            Status = StatusFilters.FirstOrDefault(f => f.Value == Status).Status,
            OverdueOnly = OverdueOnly,
            PageSize = PageSize,
        };
        var ledger = new LedgerService.LedgerServiceClient(channel);
        var items = new List<LedgerItem>();
        for (var pages = 1; ; pages++)
        {
            var page = await ledger.ListLedgerItemsAsync(request, Api.Call(session, cancellationToken));
            items.AddRange(page.Items);
            if (page.NextPageToken.Length == 0)
            {
                break;
            }

            if (pages == MaxPages)
            {
                More = true;
                break;
            }

            request.PageToken = page.NextPageToken;
        }

        if (!string.IsNullOrEmpty(UnitFilter))
        {
            UnitName = names.GetValueOrDefault(UnitFilter);
        }

        // A reviewer here is offered the steps on items held here, and on the items of a village running its own node
        // directly below (the API delivers the step there). Whether the reviewer is the tier above is the API's answer.
        if (session.Role == Role.Reviewer && children is null
            && items.Any(i => i.NodeId != Self.NodeId && i.NodeId == i.UnitId && i.Status == LedgerItemStatus.FixReported))
        {
            children = await ChildrenOfSelfAsync(channel, cancellationToken);
        }

        var categories = catalogue.LedgerCategories.GroupBy(static c => c.Code, StringComparer.Ordinal).ToDictionary(static g => g.Key, static g => g.First(), StringComparer.Ordinal);
        var table = new WebTable("items", T["ledger.items"],
        [
            new(T["code"]), new(T["name"]), new(T["ledger.item-no"]), new(T["ledger.category"]), new(T["ledger.problem"]), new(T["ledger.measure"]),
            new(T["ledger.deadline"]), new(T["ledger.responsible"]), new(T["status"]), new(T["ledger.last-note"]),
        ])
        { EmptyText = T[HostsUnits == false && string.IsNullOrEmpty(UnitFilter) ? "ledger.held-below" : "ledger.no-items"] };
        foreach (var item in items)
        {
            var key = item.UnitId + "/" + item.ItemId;
            if (!Items.TryAdd(key, item))
            {
                continue;
            }

            var entry = item.Entry ?? new LedgerEntry();
            var status = T["ledger.status." + item.Status];
            var history = Link("/ledger/item", item.NodeId == Self.NodeId ? string.Empty : item.NodeId, ("unit", item.UnitId), ("item", item.ItemId));
            table.Rows.Add(new WebRow(
            [
                item.UnitId,
                names.GetValueOrDefault(item.UnitId) ?? string.Empty,
                new WebCell(item.ItemId) { Href = history },
                categories.TryGetValue(entry.Category, out var category) ? T.Name(category) : entry.Category,
                entry.Problem,
                entry.Measure,
                entry.Deadline,
                entry.Responsible,
                item.Overdue ? new WebCell(T.Format("ledger.overdue-status", status)) { Css = "short" }
                    : new WebCell(status) { Css = item.Status == LedgerItemStatus.Cleared ? "met" : null },
                item.LastNote,
            ], key, item.Overdue ? "overdue" : null));
            if (session.Role == Role.Reviewer && item.Status == LedgerItemStatus.FixReported
                && (item.NodeId == Self.NodeId || (item.NodeId == item.UnitId && (children is null || children.Contains(item.NodeId)))))
            {
                Steppable.Add(key);
            }
        }

        Tables.Add(table);
    }

    public Task<IActionResult> OnPostAcceptAsync() => StepAsync("accept", (ledger, call) =>
        ledger.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = StepUnit ?? string.Empty, ItemId = StepItem ?? string.Empty }, call).ResponseAsync);

    public Task<IActionResult> OnPostSendBackAsync() => StepAsync("send-back", (ledger, call) =>
        ledger.SendBackLedgerItemAsync(
            new SendBackLedgerItemRequest { UnitId = StepUnit ?? string.Empty, ItemId = StepItem ?? string.Empty, Reason = Reason?.Trim() ?? string.Empty }, call).ResponseAsync);

    /// <summary>The filters in words, so that a printed list says what it leaves out; empty when it lists every item.</summary>
    internal string FilterText => T.List(new[]
    {
        StatusFilters.FirstOrDefault(f => f.Value == Status) is { Value: not null } chosen ? T["status"] + " " + T["ledger.status." + chosen.Status] : null,
        OverdueOnly ? T["ledger.overdue-only"] : null,
    }.OfType<string>());

    /// <summary>This page's filters, for links and forms that come back to it.</summary>
    internal (string Name, string? Value)[] Filters(params (string Name, string? Value)[] extra) => [.. Keeping(UnitFilter), .. extra];

    /// <summary>This ledger with the same filters for <paramref name="unit"/>, or for every unit.</summary>
    internal string UnitLink(string? unit) => Link("/ledger", null, Keeping(unit));

    /// <summary>The status and overdue filters, with <paramref name="unit"/> as the unit filter.</summary>
    private (string Name, string? Value)[] Keeping(string? unit) =>
    [
        ("status", StatusFilters.Any(f => f.Value == Status) ? Status : null),
        ("overdue", OverdueOnly ? "true" : null),
        ("unit", unit),
    ];

    /// <summary>The node's counts (GetTotals) and the tier below (GetDrillDown); returns the children when the node is this one.</summary>
    private async Task<HashSet<string>?> LoadFiguresAsync(GrpcChannel channel, Catalogue catalogue, Dictionary<string, string> names, CancellationToken cancellationToken)
    {
        var listed = catalogue.Indicators.FirstOrDefault(static i => i.LedgerCount == LedgerCount.Listed);
        var cleared = catalogue.Indicators.FirstOrDefault(static i => i.LedgerCount == LedgerCount.Cleared);
        var overdue = catalogue.Indicators.FirstOrDefault(static i => i.LedgerCount == LedgerCount.Overdue);
        var rate = listed is null || cleared is null ? null : catalogue.Indicators.FirstOrDefault(i =>
            i.Kind == ValueKind.Ratio && i.Ratio?.NumeratorIndicatorId == cleared.Id && i.Ratio.DenominatorIndicatorId == listed.Id);
        var shown = new[] { ("listed", listed), ("cleared", cleared), ("overdue", overdue), ("rate", rate) }
            .Where(static s => s.Item2 is not null).Select(static s => (Id: s.Item1, Indicator: s.Item2!)).ToList();

        var query = new QueryService.QueryServiceClient(channel);
        try
        {
            var totals = await query.GetTotalsAsync(new GetTotalsRequest { NodeId = TargetNode, Period = PeriodText }, Api.Call(Session!, cancellationToken));
            Title = T.Format("ledger.title", totals.DisplayName, totals.NodeId, totals.Period);
            names[totals.NodeId] = totals.DisplayName;
            foreach (var (id, indicator) in shown)
            {
                Counts.Add(new LedgerCountCell(id, T.Name(indicator), Figure(indicator, totals.Totals.FirstOrDefault(t => t.Indicator?.Id == indicator.Id))));
            }
        }
        catch (RpcException ex) when (ex.StatusCode == RpcStatus.NotFound && ApiProblems.Reason(ex) == "NO_FIGURES")
        {
            CountsMissing = true;
        }

        var drill = await AllPages.GetDrillDownAsync(query,
            new GetDrillDownRequest { NodeId = TargetNode, Period = PeriodText, SortIndicatorId = overdue?.Id ?? string.Empty, Descending = overdue is not null, PageSize = 1000 },
            () => Api.Call(Session!, cancellationToken), MaxListingPages);
        HostsUnits = drill.Rows.Any(static r => r.Kind != ContributionKind.ChildSummary);
        var columns = new List<WebColumn> { new(T["code"]), new(T["name"]), new(T["kind"]) };
        columns.AddRange(shown.Select(s => new WebColumn(T.Name(s.Indicator), Numeric: true)));
        var below = new WebTable("below", T["ledger.below"], columns);
        var children = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in drill.Rows)
        {
            // The node's own name from its totals stands: a village running its own node may know its unit by id only.
            names.TryAdd(row.SourceId, row.DisplayName);
            if (row.SourceId == drill.NodeId)
            {
                // A village running its own node hosts itself: its one row is the node, already counted above.
                continue;
            }

            var isNode = row.Kind == ContributionKind.ChildSummary;
            if (isNode)
            {
                children.Add(row.SourceId);
            }

            // A node below opens its own ledger; a unit held here filters this one.
            var href = isNode ? Link("/ledger", row.SourceId, Keeping(null)) : UnitLink(row.SourceId);
            var cells = new List<WebCell>
            {
                new(row.SourceId) { Href = href },
                new(row.DisplayName) { Href = href },
                T[isNode ? "kind.node" : "kind.unit"],
            };
            var late = false;
            foreach (var (id, indicator) in shown)
            {
                // A node whose figures never arrived has no counts: unknown, not zero.
                var cell = row.Totals.Count == 0 ? new WebCell("—") { Css = "nodata" } : Figure(indicator, row.Totals.FirstOrDefault(t => t.Indicator?.Id == indicator.Id));
                late |= id == "overdue" && cell.Number > 0;
                cells.Add(id == "overdue" && cell.Number > 0 ? cell with { Css = "short" } : cell);
            }

            below.Rows.Add(new WebRow(cells, row.SourceId, late ? "lagging" : null));
        }

        if (below.Rows.Count > 0)
        {
            Tables.Add(below);
        }

        return drill.NodeId == Self.NodeId ? children : null;
    }

    /// <summary>This node's children, to know which villages running their own node a step here reaches; null when the API does not say.</summary>
    private async Task<HashSet<string>?> ChildrenOfSelfAsync(GrpcChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            var drill = await AllPages.GetDrillDownAsync(new QueryService.QueryServiceClient(channel),
                new GetDrillDownRequest { Period = PeriodText, PageSize = 1000 }, () => Api.Call(Session!, cancellationToken), MaxListingPages);
            return [.. drill.Rows.Where(static r => r.Kind == ContributionKind.ChildSummary).Select(static r => r.SourceId)];
        }
        catch (RpcException ex) when (ex.StatusCode is RpcStatus.PermissionDenied or RpcStatus.NotFound)
        {
            // A reviewer scoped below this node: the API decides when the step is taken.
            return null;
        }
    }

    /// <summary>A count as a whole number (no items is 0, from the totals' aggregate), the closure rate as the other pages show a ratio.</summary>
    private WebCell Figure(Indicator indicator, IndicatorTotal? total) =>
        indicator.Kind == ValueKind.Count ? FigureCells.Count(total?.Aggregate?.Total ?? 0) : FigureCells.Value(total, T);

    /// <summary>Takes one ledger step through the API; then back to the ledger (post, redirect, get), or the refusal above it.</summary>
    private async Task<IActionResult> StepAsync(string step, Func<LedgerService.LedgerServiceClient, CallOptions, Task> take)
    {
        var taken = false;
        var result = await RunAsync(async cancellationToken =>
        {
            var channel = await Api.ChannelAsync(cancellationToken);
            await take(new LedgerService.LedgerServiceClient(channel), Api.Call(Session!, cancellationToken));
            taken = true;
        }, ApiProblems.ForLedgerStep);
        if (taken)
        {
            return Redirect(Link("/ledger", null, Filters(("done", step), ("done-unit", StepUnit), ("done-item", StepItem))));
        }

        if (Problem is { Kind: ProblemKind.Line })
        {
            // Show the ledger again under the refusal's line.
            try
            {
                await LoadAsync(HttpContext.RequestAborted);
            }
            catch (RpcException)
            {
                // The line above already says what is wrong.
            }
        }

        return result;
    }
}
