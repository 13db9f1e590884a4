using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;

namespace Federation.Node.Web.Pages;

/// <summary>
/// The review queue of this node for a period (ListUnits): hosted units' reports and children's summaries,
/// where each stands, the reason a report was returned; and the decisions, made through the API as the
/// signed-in reviewer (ApproveReport, ReturnReport with its required reason, ApproveChild, reopening).
/// </summary>
public sealed class ReviewModel : WebPageModel
{
    private const int PageSize = 1000;
    private const int MaxPages = 20;
    private const int MaxReasonLookups = 500;

    [BindProperty(SupportsGet = true, Name = "done")]
    public string? Done { get; set; }

    [BindProperty(SupportsGet = true, Name = "id")]
    public string? Id { get; set; }

    [BindProperty(Name = "kind")]
    public string? Kind { get; set; }

    [BindProperty(Name = "reason")]
    public string? Reason { get; set; }

    internal Dictionary<string, UnitEntry> Entries { get; } = new(StringComparer.Ordinal);

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Title = T.Format("review.title", Self.DisplayName, Self.NodeId, PeriodText);
        if (Done is "approve" or "return" or "reopen" && Id is not null)
        {
            Notice = T.Format("done." + Done, Id);
        }

        var channel = await Api.ChannelAsync(cancellationToken);
        var review = new ReviewService.ReviewServiceClient(channel);
        var request = new ListUnitsRequest { Period = PeriodText, PageSize = PageSize };
        var more = false;
        for (var pages = 0; pages < MaxPages; pages++)
        {
            var page = await review.ListUnitsAsync(request, Api.Call(Session!, cancellationToken));
            foreach (var entry in page.Units.Where(static u => u.RetiredFromPeriod.Length == 0 || u.ReviewStatus != ReviewStatus.NotSubmitted))
            {
                Entries[entry.Id] = entry;
            }

            if (page.NextPageToken.Length == 0)
            {
                break;
            }

            // A queue longer than the pages read is said to go on, never cut off silently.
            more = pages == MaxPages - 1;
            request.PageToken = page.NextPageToken;
        }

        // The reason a report was returned (or withdrawn) is the last decision's; asked only for those.
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Entries.Values.Where(static e => e.Kind == UnitEntryKind.HostedUnit && e.ReviewStatus is ReviewStatus.Returned or ReviewStatus.Withdrawn).Take(MaxReasonLookups))
        {
            var status = await review.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = entry.Id, Period = PeriodText }, Api.Call(Session!, cancellationToken));
            reasons[entry.Id] = status.Reason;
        }

        var table = new WebTable("review", T["nav.review"],
        [
            new(T["code"]), new(T["name"]), new(T["kind"]), new(T["review.state"]), new(T["approved"], Numeric: true), new(T["reason"]),
        ]);
        foreach (var entry in Entries.Values.OrderBy(static e => e.Id, StringComparer.Ordinal))
        {
            table.Rows.Add(new WebRow(
            [
                entry.Id,
                entry.DisplayName,
                T[entry.Kind == UnitEntryKind.HostedUnit ? "kind.unit" : "kind.node"],
                new WebCell(T.Review(entry.ReviewStatus)) { Css = entry.ReviewStatus switch { ReviewStatus.Approved => "met", ReviewStatus.Returned => "short", _ => null } },
                new WebCell($"{entry.ApprovedLeafCount}/{entry.ExpectedLeafCount}"),
                reasons.GetValueOrDefault(entry.Id) ?? string.Empty,
            ], entry.Id));
        }

        if (more)
        {
            table.MoreText = T.Format("listing.more-unknown", table.Rows.Count);
        }

        Tables.Add(table);
    }

    public Task<IActionResult> OnPostApproveAsync() => DecideAsync("approve", (review, call) => Kind == "child"
        ? review.ApproveChildAsync(new ApproveChildRequest { NodeId = Id ?? string.Empty, Period = PeriodText }, call).ResponseAsync
        : review.ApproveReportAsync(new ApproveReportRequest { UnitId = Id ?? string.Empty, Period = PeriodText }, call).ResponseAsync);

    public Task<IActionResult> OnPostReturnAsync() => DecideAsync("return", (review, call) =>
        review.ReturnReportAsync(new ReturnReportRequest { UnitId = Id ?? string.Empty, Period = PeriodText, Reason = Reason?.Trim() ?? string.Empty }, call).ResponseAsync);

    public Task<IActionResult> OnPostReopenAsync() => DecideAsync("reopen", (review, call) => Kind == "child"
        ? review.ReopenChildAsync(new ReopenChildRequest { NodeId = Id ?? string.Empty, Period = PeriodText, Reason = Reason?.Trim() ?? string.Empty }, call).ResponseAsync
        : review.ReopenReportAsync(new ReopenReportRequest { UnitId = Id ?? string.Empty, Period = PeriodText, Reason = Reason?.Trim() ?? string.Empty }, call).ResponseAsync);

    /// <summary>Makes one decision through the API; then back to the queue (post, redirect, get), or the refusal on the queue.</summary>
    private async Task<IActionResult> DecideAsync(string decision, Func<ReviewService.ReviewServiceClient, CallOptions, Task> decide)
    {
        var decided = false;
        var result = await RunAsync(async cancellationToken =>
        {
            var channel = await Api.ChannelAsync(cancellationToken);
            await decide(new ReviewService.ReviewServiceClient(channel), Api.Call(Session!, cancellationToken));
            decided = true;
        });
        if (decided)
        {
            return Redirect(Link("/review", extra: [("done", decision), ("id", Id)]));
        }

        if (Problem is { Kind: ProblemKind.Line })
        {
            // Show the queue again under the refusal's line.
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
