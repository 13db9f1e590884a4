using Federation.Aggregator;
using Google.Protobuf;

namespace Federation.Node.Application;

/// <summary>Writes a gRPC status as a trailers-only response, for refusals made before a service method runs.</summary>
internal static class GrpcResponses
{
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    public static Task WriteStatusAsync(HttpContext context, RejectionReason reason, string message)
    {
        var status = RpcErrors.Build(Rejection.Of(reason, message));
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(status.Message);
        response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray());
        return Task.CompletedTask;
    }
}
