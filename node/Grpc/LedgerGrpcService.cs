using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Ledger;
using Federation.Node.Queries;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Federation.Node.Grpc;

/// <summary>
/// Thin endpoint for the rectification ledger: the request checked, one call to the ledger service, its answer back. Reads
/// about a node below (node_id, or a village running its own node named as unit_id) travel down the tree like queries.
/// </summary>
internal sealed class LedgerGrpcService(LedgerOperations ledger, PeerCalls peers, QueryRouter router, NodeIdentity identity) : LedgerService.LedgerServiceBase
{
    [Authorize(Policy = Policies.ClerkOrReviewer)]
    public override async Task<AddLedgerItemResponse> AddLedgerItem(AddLedgerItemRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.UnitId, "unit_id");
        var result = (await ledger.AddAsync(request.UnitId, request.Entry, request.Note, CallerOf(context), peers.For(context))).ValueOrThrow();
        return new() { Item = result.Item, Step = result.Step };
    }

    [Authorize(Policy = Policies.Clerk)]
    public override async Task<ReportLedgerFixResponse> ReportLedgerFix(ReportLedgerFixRequest request, ServerCallContext context)
    {
        var result = await StepAsync(LedgerStepKind.FixReported, request.UnitId, request.ItemId, request.Note, context);
        return new() { Item = result.Item, Step = result.Step };
    }

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<AcceptLedgerItemResponse> AcceptLedgerItem(AcceptLedgerItemRequest request, ServerCallContext context)
    {
        var result = await StepAsync(LedgerStepKind.Accepted, request.UnitId, request.ItemId, request.Note, context);
        return new() { Item = result.Item, Step = result.Step };
    }

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<SendBackLedgerItemResponse> SendBackLedgerItem(SendBackLedgerItemRequest request, ServerCallContext context)
    {
        var result = await StepAsync(LedgerStepKind.SentBack, request.UnitId, request.ItemId, request.Reason, context);
        return new() { Item = result.Item, Step = result.Step };
    }

    [Authorize(Policy = Policies.LedgerReader)]
    public override async Task<ListLedgerItemsResponse> ListLedgerItems(ListLedgerItemsRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.NodeId, "node_id", required: false);
        RequestChecks.Id(request.UnitId, "unit_id", required: false);
        if (request.Period.Length > 0)
        {
            RequestChecks.Period(request.Period);
        }

        var nodeId = NodeOf(request.NodeId, request.UnitId);
        if (!router.IsLocal(nodeId, context))
        {
            var forwarded = request.Clone();
            forwarded.NodeId = nodeId;
            return await router.ForwardOnChannelAsync(nodeId, (channel, call) => new LedgerService.LedgerServiceClient(channel).ListLedgerItemsAsync(forwarded, call).ResponseAsync,
                static r => r.NodeId, context);
        }

        var pageSize = PageTokens.Size(request.PageSize, LedgerOperations.DefaultPageSize, LedgerOperations.MaxPageSize);
        var page = ledger.List(request.UnitId, request.Period, request.Status, request.OverdueOnly, pageSize, request.PageToken).ValueOrThrow();
        var response = new ListLedgerItemsResponse { NodeId = identity.NodeId, NextPageToken = page.NextPageToken };
        response.Items.AddRange(page.Items);
        return response;
    }

    [Authorize(Policy = Policies.LedgerReader)]
    public override async Task<GetLedgerHistoryResponse> GetLedgerHistory(GetLedgerHistoryRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.NodeId, "node_id", required: false);
        RequestChecks.Id(request.UnitId, "unit_id");
        var nodeId = NodeOf(request.NodeId, request.UnitId);
        if (!router.IsLocal(nodeId, context))
        {
            var forwarded = request.Clone();
            forwarded.NodeId = nodeId;
            return await router.ForwardOnChannelAsync(nodeId, (channel, call) => new LedgerService.LedgerServiceClient(channel).GetLedgerHistoryAsync(forwarded, call).ResponseAsync,
                static r => r.NodeId, context);
        }

        var history = ledger.History(request.UnitId, request.ItemId).ValueOrThrow();
        var response = new GetLedgerHistoryResponse { NodeId = identity.NodeId, Item = history.Item };
        response.Steps.AddRange(history.Steps);
        return response;
    }

    [Authorize(Policy = Policies.ParentNode)]
    public override async Task<ApplyParentLedgerStepResponse> ApplyParentLedgerStep(ApplyParentLedgerStepRequest request, ServerCallContext context) =>
        (await ledger.ApplyParentStepAsync(request.Step, context.CancellationToken)).ValueOrThrow();

    private async Task<LedgerStepResult> StepAsync(LedgerStepKind kind, string unitId, string itemId, string note, ServerCallContext context)
    {
        RequestChecks.Id(unitId, "unit_id");
        return (await ledger.StepAsync(kind, unitId, itemId, note, CallerOf(context), peers.For(context))).ValueOrThrow();
    }

    /// <summary>The node a read is about: node_id, or a village running its own node named as the unit (its ledger is at its node).</summary>
    private string NodeOf(string nodeId, string unitId) => nodeId.Length == 0 && ledger.IsChild(unitId) ? unitId : nodeId;

    private static LedgerCaller CallerOf(ServerCallContext context)
    {
        var caller = Caller.Of(context.GetHttpContext().User);
        return new LedgerCaller(caller.Role == Role.Reviewer, caller.AccountName);
    }
}
