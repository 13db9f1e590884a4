using Federation.Aggregator;
using Federation.Node.Admin;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Microsoft.AspNetCore.Authorization;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for operator actions: an admin token, or the node's local admin socket.</summary>
[Authorize(Policy = Policies.Admin)]
internal sealed class AdminGrpcService(AdminOperations admin, RebuildScheduler rebuilds, NodeIdentity identity) : AdminService.AdminServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public override async Task<EnrolChildResponse> EnrolChild(EnrolChildRequest request, ServerCallContext context)
    {
        var keyId = (await admin.EnrolChildAsync(
            request.ChildId, request.PublicKey.ToByteArray(), request.DisplayName, request.ExpectedLeafCount, request.Address, context.CancellationToken)).ValueOrThrow();
        return new EnrolChildResponse { KeyId = keyId };
    }

    public override Task<ListChildrenResponse> ListChildren(ListChildrenRequest request, ServerCallContext context)
    {
        var pageSize = PageTokens.Size(request.PageSize, DefaultPageSize, MaxPageSize);
        var page = admin.ListChildren(request.PageToken, pageSize);
        var response = new ListChildrenResponse { NextPageToken = page.Count == pageSize ? page[^1].Id : string.Empty };
        response.Children.AddRange(page.Select(static c => new EnrolledChild
        {
            ChildId = c.Id,
            KeyId = c.KeyId,
            DisplayName = c.DisplayName,
            Address = c.Address,
            EnrolTime = SummaryRebuilder.ToTimestamp(c.EnrolledTicks),
        }));
        return Task.FromResult(response);
    }

    public override async Task<AddHostedUnitResponse> AddHostedUnit(AddHostedUnitRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.UnitId))
        {
            throw RpcErrors.ToException(Rejection.Of(RejectionReason.MissingField, "unit_id is required.", "unit_id"));
        }

        (await admin.AddHostedUnitAsync(request.UnitId, request.DisplayName, request.Rename, context.CancellationToken)).ValueOrThrow();
        return new AddHostedUnitResponse();
    }

    public override async Task<RetireHostedUnitResponse> RetireHostedUnit(RetireHostedUnitRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.UnitId, "unit_id");
        RequestChecks.Period(request.FromPeriod, "from_period");
        (await admin.RetireHostedUnitAsync(request.UnitId, request.FromPeriod, context.CancellationToken)).ValueOrThrow();
        return new RetireHostedUnitResponse();
    }

    public override Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context)
    {
        var status = admin.Status(rebuilds.PendingRebuildCount);
        var response = new GetStatusResponse
        {
            NodeId = identity.NodeId,
            PendingRebuildCount = (uint)status.PendingRebuildCount,
            EquivocationCount = (uint)Math.Min(uint.MaxValue, status.EquivocationCount),
            HostedUnitCount = (uint)status.HostedUnitCount,
            ChildCount = (uint)status.ChildCount,
        };
        response.OutboxPeriods.AddRange(status.OutboxPeriods);
        response.Alerts.AddRange(status.Alerts.Select(static a => new StatusAlert
        {
            Period = a.Period, Version = (ulong)a.Version, Reason = a.Reason, SinceTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(a.Since),
        }));
        return Task.FromResult(response);
    }

    public override async Task<ResetChildResponse> ResetChild(ResetChildRequest request, ServerCallContext context)
    {
        var reset = (await admin.ResetChildAsync(request.ChildId, context.CancellationToken)).ValueOrThrow();
        return new ResetChildResponse { ReleasedSummaryCount = (uint)reset.ReleasedSummaryCount };
    }
}
