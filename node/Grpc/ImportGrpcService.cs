using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Import;
using Federation.Node.Security;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint: a clerk's sheet in, the problems or what was stored out; the sheet to fill.</summary>
internal sealed class ImportGrpcService(SheetImporter importer, SheetTemplates templates) : ImportService.ImportServiceBase
{
    [Authorize(Policy = Policies.Clerk)]
    public override async Task<ImportSheetResponse> ImportSheet(ImportSheetRequest request, ServerCallContext context)
    {
        if (!System.Enum.IsDefined(request.Mode))
        {
            throw RpcErrors.ToException(Rejection.Of(
                RejectionReason.MalformedRequest, $"mode {(int)request.Mode} is not one of the SubmitMode values.", "mode"));
        }

        RequestChecks.Period(request.Period);
        if (request.FileBytes.IsEmpty)
        {
            throw RpcErrors.ToException(Rejection.Of(RejectionReason.MissingField, "file_bytes is empty.", "file_bytes"));
        }

        var caller = Caller.Of(context.GetHttpContext().User);
        return (await importer.ImportAsync(request, caller.Scope, context.CancellationToken)).ValueOrThrow();
    }

    [Authorize(Policy = Policies.ClerkOrReviewer)]
    public override Task<GetSheetTemplateResponse> GetSheetTemplate(GetSheetTemplateRequest request, ServerCallContext context)
    {
        var period = RequestChecks.Period(request.Period);
        var caller = Caller.Of(context.GetHttpContext().User);
        return Task.FromResult(templates.Make(request, period, caller.Scope).ValueOrThrow());
    }
}
