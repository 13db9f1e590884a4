using System.Globalization;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PeriodValue = Federation.Aggregator.Periods.Period;

namespace Federation.Node.Web.Pages;

/// <summary>
/// What every page shares: the language, the period and node asked about, the session, the API, tables
/// that download as .xlsx, and one way of turning the API's refusals into a line, a 403 or the login page.
/// </summary>
public abstract class WebPageModel : PageModel
{
    private const int MaxParameterLength = 64;

    /// <summary>Most pages of one listing a page reads (each at most 1 MiB); beyond them the table says the list goes on.</summary>
    internal const int MaxListingPages = 20;

    internal WebTexts T { get; private set; } = WebTexts.Zh;

    /// <summary>The period asked for (<c>?period=</c>), or the current quarter.</summary>
    [BindProperty(SupportsGet = true, Name = "period")]
    public string? Period { get; set; }

    /// <summary>The node asked about (<c>?node=</c>); empty means the account's scope, or this node.</summary>
    [BindProperty(SupportsGet = true, Name = "node")]
    public string? NodeId { get; set; }

    internal WebSession? Session { get; private set; }

    internal NodeIdentity Self => HttpContext.RequestServices.GetRequiredService<NodeIdentity>();

    internal NodeApi Api => HttpContext.RequestServices.GetRequiredService<NodeApi>();

    internal WebProblem? Problem { get; private set; }

    internal string? Notice { get; set; }

    internal List<WebTable> Tables { get; } = [];

    /// <summary>The page title, set by each page once it knows the node.</summary>
    internal string Title { get; set; } = string.Empty;

    /// <summary>The period as sent to the API.</summary>
    internal string PeriodText => Period!;

    /// <summary>What a download's file name says the table is for: the period, unless the page asks by year or range.</summary>
    internal virtual string DownloadLabel => PeriodText;

    /// <summary>The node as sent to the API: the one asked for, else the account's scope when it is below this node, else this node ("").</summary>
    internal string TargetNode => !string.IsNullOrEmpty(NodeId) ? NodeId
        : Session is { Role: Role.Reader or Role.Reviewer } s && s.Scope != Self.NodeId ? s.Scope : string.Empty;

    internal string TargetNodeOrSelf => TargetNode.Length > 0 ? TargetNode : Self.NodeId;

    /// <summary>This year and the four before it, newest first, for the year pickers.</summary>
    internal IEnumerable<string> RecentYears => Enumerable.Range(0, 5).Select(i => (Now().Year - i).ToString(CultureInfo.InvariantCulture));

    /// <summary>The current year in China, where every period is reckoned.</summary>
    internal int CurrentYear => Now().Year;

    /// <summary>Recent periods for the picker: months, quarters, halves and years around now.</summary>
    internal IEnumerable<string> RecentPeriods
    {
        get
        {
            var now = Now();
            var quarter = PeriodValue.Quarter(now.Year, ((now.Month - 1) / 3) + 1);
            for (var i = 0; i < 8; i++, quarter = quarter.Previous())
            {
                yield return quarter.ToString();
            }

            var month = PeriodValue.Month(now.Year, now.Month);
            for (var i = 0; i < 12; i++, month = month.Previous())
            {
                yield return month.ToString();
            }

            for (var year = now.Year; year > now.Year - 3; year--)
            {
                yield return PeriodValue.Half(year, 2).ToString();
                yield return PeriodValue.Half(year, 1).ToString();
                yield return PeriodValue.OfYear(year).ToString();
            }
        }
    }

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        T = WebTexts.For(WebTexts.Resolve(HttpContext));
        Session = WebSession.Of(User);
        NodeId = Bounded(NodeId);
        Period = Bounded(Period) is { Length: > 0 } asked ? asked : DefaultPeriod();
        await next();
    }

    /// <summary>The page's GET: loads its data, or turns the API's refusal into what a person should see.</summary>
    public async Task<IActionResult> OnGetAsync() => await RunAsync(LoadAsync);

    /// <summary>Any table of the page as .xlsx, built by the same code as the page, so it holds the same rows.</summary>
    public async Task<IActionResult> OnGetXlsxAsync(string? table)
    {
        var result = await RunAsync(LoadAsync);
        if (Problem is not null || result is not PageResult)
        {
            return result;
        }

        if (Tables.FirstOrDefault(t => t.Name == table) is not { } found)
        {
            return NotFound();
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"{TargetNodeOrSelf}-{DownloadLabel}-{found.Name}.xlsx");
        return File(XlsxTable.Write(found), XlsxTable.ContentType, name);
    }

    /// <summary>Fills the page's figures and tables through the API.</summary>
    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    /// <summary>The page's own line for a refusal reason (an ErrorInfo reason), or null for the common one.</summary>
    protected virtual string? Explain(string reason) => null;

    /// <summary>Runs API calls; a refusal becomes a line, the 403 page, or (credential gone) the login page.</summary>
    protected Task<IActionResult> RunAsync(Func<CancellationToken, Task> work) => RunAsync(work, ApiProblems.From);

    /// <summary>As <see cref="RunAsync(Func{CancellationToken, Task})"/>, with the page's own reading of the API's refusals (a step it takes).</summary>
    private protected async Task<IActionResult> RunAsync(Func<CancellationToken, Task> work, Func<RpcException, WebTexts, WebProblem> refusal)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(refusal);
        try
        {
            await work(HttpContext.RequestAborted);
            return Page();
        }
        catch (RpcException ex)
        {
            var problem = refusal(ex, T);
            switch (problem.Kind)
            {
                case ProblemKind.Login:
                    await HttpContext.SignOutAsync(WebAuth.Scheme);
                    return Redirect("/login?expired=true&returnUrl=" + Uri.EscapeDataString(Request.Path + Request.QueryString));
                case ProblemKind.NoFigures:
                    Notice = problem.Line;
                    return Page();
                default:
                    // A page may say more precisely what its own parameters got wrong than the generic line does.
                    Problem = problem.Kind == ProblemKind.Line && Explain(ApiProblems.Reason(ex)) is { } line ? problem with { Line = line } : problem;
                    Response.StatusCode = problem.StatusCode;
                    return Page();
            }
        }
    }

    /// <summary>A link to a page of this site that keeps the node and period.</summary>
    internal string Link(string path, string? node = null, params (string Name, string? Value)[] extra)
    {
        var query = new List<string>();
        var target = node ?? NodeId;
        if (!string.IsNullOrEmpty(target))
        {
            query.Add("node=" + Uri.EscapeDataString(target));
        }

        query.Add("period=" + Uri.EscapeDataString(PeriodText));
        query.AddRange(extra.Where(static e => !string.IsNullOrEmpty(e.Value)).Select(static e => e.Name + "=" + Uri.EscapeDataString(e.Value!)));
        return path + "?" + string.Join('&', query);
    }

    /// <summary>The download link of a table of this page, with the page's own query.</summary>
    internal string DownloadLink(WebTable table)
    {
        var query = Request.Query.Where(static q => q.Key is not ("handler" or "table" or "lang"))
            .SelectMany(static q => q.Value.Select(v => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(v ?? string.Empty)))
            .Append("handler=Xlsx")
            .Append("table=" + Uri.EscapeDataString(table.Name));
        return Request.Path + "?" + string.Join('&', query);
    }

    private DateTimeOffset Now() => HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToOffset(TimeSpan.FromHours(8));

    private string DefaultPeriod()
    {
        var now = Now();
        return PeriodValue.Quarter(now.Year, ((now.Month - 1) / 3) + 1).ToString();
    }

    private static string? Bounded(string? value) => value is null ? null : value.Trim() is var trimmed && trimmed.Length > MaxParameterLength ? trimmed[..MaxParameterLength] : value.Trim();
}
