using Federation.Protos.V1;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Web.Pages;

/// <summary>
/// One ledger item and its history (GetLedgerHistory): every signed step, oldest first, with who took it, when, the
/// note or reason, the node that signed it and its key id, so that a step can be checked offline against that key.
/// </summary>
public sealed class LedgerItemModel : WebPageModel
{
    [BindProperty(SupportsGet = true, Name = "unit")]
    public string? UnitId { get; set; }

    [BindProperty(SupportsGet = true, Name = "item")]
    public string? ItemId { get; set; }

    internal LedgerItem? Item { get; private set; }

    /// <summary>The node holding the item, as it answered.</summary>
    internal string HolderId { get; private set; } = string.Empty;

    internal string CategoryName { get; private set; } = string.Empty;

    /// <summary>The item's status as the list shows it, overdue marked.</summary>
    internal WebCell StatusCell { get; private set; } = new(string.Empty);

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Title = T.Format("ledger.item-title", UnitId ?? string.Empty, ItemId ?? string.Empty);
        var channel = await Api.ChannelAsync(cancellationToken);
        var catalogue = (await new FederationService.FederationServiceClient(channel).GetCatalogueAsync(new GetCatalogueRequest(), Api.Call(Session!, cancellationToken))).Catalogue;

        // The node as linked (the holder), never the account's scope: an item held here is asked about by its unit.
        var history = await new LedgerService.LedgerServiceClient(channel).GetLedgerHistoryAsync(
            new GetLedgerHistoryRequest { NodeId = NodeId ?? string.Empty, UnitId = UnitId ?? string.Empty, ItemId = ItemId ?? string.Empty },
            Api.Call(Session!, cancellationToken));
        Item = history.Item ?? new LedgerItem();
        HolderId = history.NodeId;
        var entry = Item.Entry ?? new LedgerEntry();
        CategoryName = catalogue.LedgerCategories.FirstOrDefault(c => c.Code == entry.Category) is { } category ? T.Name(category) : entry.Category;
        var status = T["ledger.status." + Item.Status];
        StatusCell = Item.Overdue ? new WebCell(T.Format("ledger.overdue-status", status)) { Css = "short" }
            : new WebCell(status) { Css = Item.Status == LedgerItemStatus.Cleared ? "met" : null };

        var table = new WebTable("steps", T["ledger.history"],
        [
            new(T["ledger.step-no"], Numeric: true), new(T["ledger.step-kind"]), new(T["ledger.account"]), new(T["ledger.time"]), new(T["ledger.note"]),
            new(T["ledger.signer"]), new(T["ledger.key"]),
        ]);
        foreach (var signed in history.Steps)
        {
            var step = LedgerStep.Parser.ParseFrom(signed.StepBytes);
            var kind = step.Kind == LedgerStepKind.List && step.ByTierAbove ? "ListAbove" : step.Kind.ToString();
            table.Rows.Add(new WebRow(
            [
                FigureCells.Count(step.Sequence),
                T["ledger.step." + kind],
                step.Account,
                FigureCells.Time(step.StepTime),
                step.Note,
                step.NodeId,
                signed.KeyId,
            ], step.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), step.Kind == LedgerStepKind.SentBack ? "lagging" : null));
        }

        Tables.Add(table);
    }
}
