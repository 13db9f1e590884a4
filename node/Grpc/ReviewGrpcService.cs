using Federation.Node.Application;
using Federation.Node.Review;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for review decisions: the request checked, one call to the review service, its decision back.</summary>
internal sealed class ReviewGrpcService(ReviewOperations review, PeerCalls peers) : ReviewService.ReviewServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<ApproveReportResponse> ApproveReport(ApproveReportRequest request, ServerCallContext context) =>
        new() { Decision = await DecideUnitAsync(DecisionKind.Approve, request.UnitId, request.Period, request.Reason, context) };

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<ReturnReportResponse> ReturnReport(ReturnReportRequest request, ServerCallContext context) =>
        new() { Decision = await DecideUnitAsync(DecisionKind.Return, request.UnitId, request.Period, request.Reason, context) };

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<ReopenReportResponse> ReopenReport(ReopenReportRequest request, ServerCallContext context) =>
        new() { Decision = await DecideUnitAsync(DecisionKind.Reopen, request.UnitId, request.Period, request.Reason, context) };

    [Authorize(Policy = Policies.ClerkOrReviewer)]
    public override async Task<WithdrawReportResponse> WithdrawReport(WithdrawReportRequest request, ServerCallContext context) =>
        new() { Decision = await DecideUnitAsync(DecisionKind.Withdraw, request.UnitId, request.Period, request.Reason, context) };

    [Authorize(Policy = Policies.ReportReader)]
    public override Task<GetReviewStatusResponse> GetReviewStatus(GetReviewStatusRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.UnitId, "unit_id");
        RequestChecks.Period(request.Period);
        var view = review.Status(request.UnitId, request.Period).ValueOrThrow();
        return Task.FromResult(new GetReviewStatusResponse
        {
            Status = ReviewOperations.ToStatus(view.State),
            ReportVersion = view.ReportVersion,
            Reason = view.Reason,
            LastDecision = view.LastDecision,
            LockedAbove = view.LockedAbove,
        });
    }

    [Authorize(Policy = Policies.ReportReader)]
    public override Task<GetDecisionsResponse> GetDecisions(GetDecisionsRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.SubjectId, "subject_id", required: false);
        RequestChecks.Period(request.Period);
        RequestChecks.Id(request.PageToken, "page_token", required: false);
        var pageSize = PageTokens.Size(request.PageSize, DefaultPageSize, MaxPageSize);
        var page = review.Decisions(request.SubjectId, request.Period, pageSize, request.PageToken).ValueOrThrow();
        var response = new GetDecisionsResponse { NextPageToken = page.NextPageToken };
        response.Decisions.AddRange(page.Decisions);
        return Task.FromResult(response);
    }

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<ApproveChildResponse> ApproveChild(ApproveChildRequest request, ServerCallContext context) =>
        new() { Decision = await DecideChildAsync(DecisionKind.Approve, request.NodeId, request.Period, request.Reason, context) };

    [Authorize(Policy = Policies.Reviewer)]
    public override async Task<ReopenChildResponse> ReopenChild(ReopenChildRequest request, ServerCallContext context) =>
        new() { Decision = await DecideChildAsync(DecisionKind.Reopen, request.NodeId, request.Period, request.Reason, context) };

    [Authorize(Policy = Policies.UnitLister)]
    public override Task<ListUnitsResponse> ListUnits(ListUnitsRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.PageToken, "page_token", required: false);
        var pageSize = PageTokens.Size(request.PageSize, DefaultPageSize, MaxPageSize);
        var page = review.ListUnits(request.PageToken, pageSize, request.Period).ValueOrThrow().Units;
        var response = new ListUnitsResponse { NextPageToken = page.Count == pageSize ? page[^1].Id : string.Empty };
        response.Units.AddRange(page);
        return Task.FromResult(response);
    }

    [Authorize(Policy = Policies.ParentNode)]
    public override async Task<ApplyParentDecisionResponse> ApplyParentDecision(ApplyParentDecisionRequest request, ServerCallContext context) =>
        (await review.ApplyParentDecisionAsync(request.Decision, context.CancellationToken)).ValueOrThrow();

    private async Task<SignedDecision> DecideUnitAsync(DecisionKind kind, string unitId, string period, string reason, ServerCallContext context)
    {
        RequestChecks.Id(unitId, "unit_id");
        RequestChecks.Period(period);
        var account = Caller.Of(context.GetHttpContext().User).AccountName;
        return (await review.DecideUnitAsync(kind, unitId, period, reason, account, peers.For(context))).ValueOrThrow();
    }

    private async Task<SignedDecision> DecideChildAsync(DecisionKind kind, string nodeId, string period, string reason, ServerCallContext context)
    {
        RequestChecks.Id(nodeId, "node_id");
        RequestChecks.Period(period);
        var account = Caller.Of(context.GetHttpContext().User).AccountName;
        return (await review.DecideChildAsync(kind, nodeId, period, reason, account, peers.For(context))).ValueOrThrow();
    }
}
