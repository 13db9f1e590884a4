using Federation.Protos.V1;

namespace Federation.Node.Web;

/// <summary>One entry of the page's navigation.</summary>
internal sealed record WebNavItem(string Path, string TextKey, Func<WebSession, bool> Shows);

/// <summary>
/// The navigation, in one list: a new page (the rectification ledger goes between star ratings and
/// promotion) is one more entry here and one more page under Web/Pages, shown to the roles it is for. Every
/// entry is only a link: what an account may see is still decided by the API when the page asks.
/// </summary>
internal static class WebNav
{
    public static readonly IReadOnlyList<WebNavItem> Items =
    [
        new("/", "nav.totals", static _ => true),
        new("/drill", "nav.drill", static _ => true),
        new("/completeness", "nav.completeness", static _ => true),
        new("/laggards", "nav.laggards", static _ => true),
        new("/trends", "nav.trends", static _ => true),
        new("/ratings", "nav.ratings", static _ => true),
        new("/promotion", "nav.promotion", static _ => true),
        new("/review", "nav.review", static s => s.Role == Role.Reviewer),
        new("/ledger", "nav.ledger", static _ => true),
    ];
}
