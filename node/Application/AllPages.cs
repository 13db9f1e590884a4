using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Application;

/// <summary>
/// Reads a listing page after page, as one answer, for the clients inside the project (the command line, the web
/// page, the demo): each page with its own call options (a deadline per call), until the last page or
/// <c>maxPages</c>. The answer is the first page with the later pages' entries added in order; its next_page_token
/// is empty when every page was read, else the token of the first page not read.
/// </summary>
public static class AllPages
{
    public static async Task<GetCompletenessResponse> GetCompletenessAsync(
        QueryService.QueryServiceClient client, GetCompletenessRequest request, Func<CallOptions> call, int maxPages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(call);
        return await FollowAsync(request, static (r, t) => r.PageToken = t, r => client.GetCompletenessAsync(r, call()).ResponseAsync, static (all, page) =>
        {
            all.Nodes.AddRange(page.Nodes);
            all.Missing.AddRange(page.Missing);
            all.Late.AddRange(page.Late);
        }, static r => r.NextPageToken, static (r, t) => r.NextPageToken = t, maxPages);
    }

    public static async Task<GetTargetsResponse> GetTargetsAsync(
        QueryService.QueryServiceClient client, GetTargetsRequest request, Func<CallOptions> call, int maxPages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(call);
        return await FollowAsync(request, static (r, t) => r.PageToken = t, r => client.GetTargetsAsync(r, call()).ResponseAsync, static (all, page) =>
        {
            // Every page lists the same targets in the same order, each with the page's units short of it.
            foreach (var (target, more) in all.Targets.Join(page.Targets, static t => t.Indicator.Id, static t => t.Indicator.Id, static (a, p) => (a, p)))
            {
                target.LaggingUnitIds.AddRange(more.LaggingUnitIds);
            }
        }, static r => r.NextPageToken, static (r, t) => r.NextPageToken = t, maxPages);
    }

    public static async Task<GetDrillDownResponse> GetDrillDownAsync(
        QueryService.QueryServiceClient client, GetDrillDownRequest request, Func<CallOptions> call, int maxPages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(call);
        return await FollowAsync(request, static (r, t) => r.PageToken = t, r => client.GetDrillDownAsync(r, call()).ResponseAsync,
            static (all, page) => all.Rows.AddRange(page.Rows), static r => r.NextPageToken, static (r, t) => r.NextPageToken = t, maxPages);
    }

    public static async Task<GetHistoryResponse> GetHistoryAsync(
        QueryService.QueryServiceClient client, GetHistoryRequest request, Func<CallOptions> call, int maxPages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(call);
        return await FollowAsync(request, static (r, t) => r.PageToken = t, r => client.GetHistoryAsync(r, call()).ResponseAsync,
            static (all, page) => all.Points.AddRange(page.Points), static r => r.NextPageToken, static (r, t) => r.NextPageToken = t, maxPages);
    }

    public static async Task<GetSubtreeStatusResponse> GetSubtreeStatusAsync(
        FederationService.FederationServiceClient client, GetSubtreeStatusRequest request, Func<CallOptions> call, int maxPages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(call);
        return await FollowAsync(request, static (r, t) => r.PageToken = t, r => client.GetSubtreeStatusAsync(r, call()).ResponseAsync, static (all, page) =>
        {
            all.Nodes.AddRange(page.Nodes);
            all.Leaves.AddRange(page.Leaves);
        }, static r => r.NextPageToken, static (r, t) => r.NextPageToken = t, maxPages);
    }

    private static async Task<TResponse> FollowAsync<TRequest, TResponse>(
        TRequest request,
        Action<TRequest, string> setToken,
        Func<TRequest, Task<TResponse>> ask,
        Action<TResponse, TResponse> append,
        Func<TResponse, string> nextToken,
        Action<TResponse, string> setNextToken,
        int maxPages)
        where TRequest : Google.Protobuf.IDeepCloneable<TRequest>
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPages, 1);
        var asked = request.Clone();
        var all = await ask(asked);
        for (var pages = 1; nextToken(all).Length > 0 && pages < maxPages; pages++)
        {
            setToken(asked, nextToken(all));
            var page = await ask(asked);
            append(all, page);
            setNextToken(all, nextToken(page));
        }

        return all;
    }
}
