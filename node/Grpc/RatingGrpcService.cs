using Federation.Aggregator;
using Federation.Aggregator.Ratings;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Queries;
using Federation.Node.Ratings;
using Federation.Node.Security;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Federation.Node.Grpc;

/// <summary>
/// Thin endpoint for star rating: a reviewer's scores in, the signed statement out; reads of statements and
/// flags, sent on to the node they are about when it is further down, as queries are.
/// </summary>
internal sealed class RatingGrpcService(RatingOperations ratings, QueryRouter router, NodeIdentity identity) : RatingService.RatingServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<SetScoresResponse> SetScores(SetScoresRequest request, ServerCallContext context)
    {
        RequestChecks.Period(request.Year, "year");
        var caller = Caller.Of(context.GetHttpContext().User);
        for (var i = 0; i < request.Units.Count; i++)
        {
            var unitId = request.Units[i].UnitId;
            RequestChecks.Id(unitId, $"units[{i}].unit_id");

            // The scope is checked unit by unit, before anything else is said about the request.
            if (!ScopeInterceptor.AdmitsUnit(caller.Scope, identity.NodeId, unitId))
            {
                throw RpcErrors.ToException(Rejection.Of(RejectionReason.OutOfScope,
                    $"unit {unitId} is outside your scope, {caller.Scope} and what is below it.", $"units[{i}].unit_id"));
            }
        }

        var entries = request.Units.Select(static u => new ScoreEntry(u.UnitId, [.. u.Assessments], u.Adjustments is null ? null : [.. u.Adjustments.Entries], u.Replace)).ToList();
        var change = (await ratings.SetScoresAsync(request.Year, entries, caller.AccountName, context.CancellationToken)).ValueOrThrow();
        return new SetScoresResponse { Statement = change.Statement, Changed = change.Changed };
    }

    [Authorize(Policy = Policies.Reader)]
    public override async Task<GetRatingsResponse> GetRatings(GetRatingsRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.NodeId, "node_id", required: false);
        RequestChecks.Period(request.Year, "year");
        RequestChecks.Id(request.UnitId, "unit_id", required: false);
        if (!router.IsLocal(request.NodeId, context))
        {
            return await router.ForwardOnChannelAsync(request.NodeId,
                (channel, call) => new RatingService.RatingServiceClient(channel).GetRatingsAsync(request, call).ResponseAsync, static r => r.NodeId, context);
        }

        var view = ratings.Get(request.Year, request.Version, request.UnitId).ValueOrThrow();
        return new GetRatingsResponse
        {
            NodeId = identity.NodeId,
            Statement = view.Document.ToSigned(),
            PreviousVersion = (ulong)view.PreviousVersion,
            UnitScoresBytes = ByteString.CopyFrom(view.UnitScoresBytes),
        };
    }

    [Authorize(Policy = Policies.Reader)]
    public override async Task<ListRatingFlagsResponse> ListRatingFlags(ListRatingFlagsRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.NodeId, "node_id", required: false);
        RequestChecks.Period(request.Year, "year");
        RequestChecks.Id(request.PageToken, "page_token", required: false);
        if (!router.IsLocal(request.NodeId, context))
        {
            return await router.ForwardOnChannelAsync(request.NodeId,
                (channel, call) => new RatingService.RatingServiceClient(channel).ListRatingFlagsAsync(request, call).ResponseAsync, static r => r.NodeId, context);
        }

        var pageSize = PageTokens.Size(request.PageSize, DefaultPageSize, MaxPageSize);
        var page = ratings.Flags(request.Year, pageSize, request.PageToken).ValueOrThrow();
        var response = new ListRatingFlagsResponse
        {
            NodeId = identity.NodeId,
            Year = request.Year,
            NextPageToken = page.NextPageToken,
            StatementVersion = page.StatementVersion,
            PreviousYearStatementVersion = page.PreviousYearStatementVersion,
        };
        response.Flags.AddRange(page.Flags);
        return response;
    }

    [Authorize(Policy = Policies.Anyone)]
    public override Task<GetRatingSchemeResponse> GetRatingScheme(GetRatingSchemeRequest request, ServerCallContext context) =>
        Task.FromResult(new GetRatingSchemeResponse { Scheme = ratings.Scheme.Scheme });
}
