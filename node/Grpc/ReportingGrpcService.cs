using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Reporting;
using Federation.Node.Security;
using Microsoft.AspNetCore.Authorization;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint: a clerk's report in, a durable acknowledgement out; a reviewer's list of flags.</summary>
internal sealed class ReportingGrpcService(ReportIntake intake, ReportFlagsQuery flags) : ReportingService.ReportingServiceBase
{
    [Authorize(Policy = Policies.Clerk)]
    public override async Task<SubmitReportResponse> SubmitReport(SubmitReportRequest request, ServerCallContext context)
    {
        if (!System.Enum.IsDefined(request.Mode))
        {
            // An unknown mode from a newer client must not silently be read as strict.
            throw RpcErrors.ToException(Rejection.Of(
                RejectionReason.MalformedRequest, $"mode {(int)request.Mode} is not one of the SubmitMode values.", "mode"));
        }

        var receipt = (await intake.SubmitAsync(request.UnitId, request.Period, request.Values, request.Mode, context.CancellationToken)).ValueOrThrow();
        return new SubmitReportResponse
        {
            Version = receipt.Version,
            Digest = ByteString.CopyFrom(receipt.Digest),
            ReceiveTime = Timestamp.FromDateTimeOffset(receipt.ReceiveTime),
            Changes = { receipt.Changes },
            Warnings = { receipt.Warnings },
        };
    }

    [Authorize(Policy = Policies.ReportReader)]
    public override Task<GetReportResponse> GetReport(GetReportRequest request, ServerCallContext context)
    {
        RequestChecks.Id(request.UnitId, "unit_id");
        RequestChecks.Period(request.Period);
        var document = intake.Get(request.UnitId, request.Period).ValueOrThrow();
        return Task.FromResult(new GetReportResponse
        {
            ReportBytes = ByteString.CopyFrom(document.Bytes),
            Report = UnitReport.Parser.ParseFrom(document.Bytes),
            Digest = ByteString.CopyFrom(document.Digest),
            Warnings = { document.Warnings.Select(static w => w.ToProto()) },
        });
    }

    [Authorize(Policy = Policies.Reader)]
    public override Task<ListFlagsResponse> ListFlags(ListFlagsRequest request, ServerCallContext context) =>
        Task.FromResult(flags.List(RequestChecks.Period(request.Period), request.PageSize, request.PageToken).ValueOrThrow());
}
