using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Queries;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Microsoft.AspNetCore.Authorization;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>
/// Thin endpoint for leaders' queries. A query about a node further down is sent on to the child on
/// its path; the node it is about answers from what it holds, asking its subtree where the query needs it.
/// </summary>
[Authorize(Policy = Policies.Reader)]
internal sealed class QueryGrpcService(
    TotalsQuery totals, LocalQueries queries, PromotionQuery promotion, ProofService proofs, PeerCalls peers, QueryRouter router, NodeIdentity identity)
    : QueryService.QueryServiceBase
{
    public override async Task<GetTotalsResponse> GetTotals(GetTotalsRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.Period);
        if (!router.IsLocal(request.NodeId, context))
        {
            return await router.ForwardAsync(request.NodeId, (c, o) => c.GetTotalsAsync(request, o).ResponseAsync, static r => r.NodeId, context);
        }

        var view = (await totals.GetAsync(request.Period, request.Refresh, peers.For(context))).ValueOrThrow();
        var response = new GetTotalsResponse
        {
            NodeId = identity.NodeId,
            Tier = identity.Tier,
            DisplayName = identity.DisplayName,
            Period = view.Summary.Period,
            Coverage = view.Summary.Coverage,
            SignedSummary = view.Document.ToSigned(),
        };
        response.Totals.AddRange(view.Figures.Select(LocalQueries.Convert));
        return response;
    }

    public override async Task<GetDrillDownResponse> GetDrillDown(GetDrillDownRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.Period);
        return router.IsLocal(request.NodeId, context)
            ? (await queries.DrillDownAsync(request)).ValueOrThrow()
            : await router.ForwardAsync(request.NodeId, (c, o) => c.GetDrillDownAsync(request, o).ResponseAsync, static r => r.NodeId, context);
    }

    public override async Task<GetCompletenessResponse> GetCompleteness(GetCompletenessRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.Period);
        return router.IsLocal(request.NodeId, context)
            ? (await queries.CompletenessAsync(request, peers.For(context))).ValueOrThrow()
            : await router.ForwardAsync(request.NodeId, (c, o) => c.GetCompletenessAsync(request, o).ResponseAsync, static r => r.NodeId, context);
    }

    public override async Task<GetTargetsResponse> GetTargets(GetTargetsRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.Period);
        return router.IsLocal(request.NodeId, context)
            ? (await queries.TargetsAsync(request, peers.For(context))).ValueOrThrow()
            : await router.ForwardAsync(request.NodeId, (c, o) => c.GetTargetsAsync(request, o).ResponseAsync, static r => r.NodeId, context);
    }

    public override async Task<GetHistoryResponse> GetHistory(GetHistoryRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.FromPeriod, "from_period");
        RequestChecks.Period(request.ToPeriod, "to_period");
        if (router.IsLocal(request.NodeId, context) || router.IsHostedUnit(request.NodeId, context))
        {
            var unitId = router.IsLocal(request.NodeId, context) ? string.Empty : request.NodeId;
            return queries.History(request, unitId).ValueOrThrow();
        }

        return await router.ForwardAsync(request.NodeId, (c, o) => c.GetHistoryAsync(request, o).ResponseAsync, static r => r.NodeId, context);
    }

    public override async Task<GetPromotionResponse> GetPromotion(GetPromotionRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.FromPeriod, "from_period");
        RequestChecks.Period(request.ToPeriod, "to_period");
        return router.IsLocal(request.NodeId, context)
            ? (await promotion.GetAsync(request.IndicatorId, request.FromPeriod, request.ToPeriod, peers.For(context))).ValueOrThrow()
            : await router.ForwardAsync(request.NodeId, (c, o) => c.GetPromotionAsync(request, o).ResponseAsync, static r => r.NodeId, context);
    }

    public override async Task<GetProofResponse> GetProof(GetProofRequest request, ServerCallContext context)
    {
        RequestChecks.Period(request.Period);
        RequestChecks.Id(request.UnitId, "unit_id");
        return new() { Proof = (await proofs.ProveAsync(request.Period, request.UnitId, peers.For(context))).ValueOrThrow() };
    }

    public override async Task<GetAuditBundleResponse> GetAuditBundle(GetAuditBundleRequest request, ServerCallContext context)
    {
        CheckNodeAndPeriod(request.NodeId, request.Period);
        return router.IsLocal(request.NodeId, context)
            ? new GetAuditBundleResponse { Bundle = proofs.Bundle(request.Period).ValueOrThrow() }
            : await router.ForwardAsync(request.NodeId, (c, o) => c.GetAuditBundleAsync(request, o).ResponseAsync, static r => BundleNode(r), context);
    }

    /// <summary>Checks the node id (empty means this node) and period of a query before it is answered or sent on.</summary>
    private static void CheckNodeAndPeriod(string nodeId, string period, string periodField = "period")
    {
        RequestChecks.Id(nodeId, "node_id", required: false);
        RequestChecks.Period(period, periodField);
    }

    /// <summary>The node whose summary an audit bundle holds; empty when it holds none that parses.</summary>
    private static string BundleNode(GetAuditBundleResponse response)
    {
        try
        {
            return response.Bundle?.Summary is { } signed ? Summary.Parser.ParseFrom(signed.SummaryBytes).NodeId : string.Empty;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return string.Empty;
        }
    }
}
