using Federation.Node.Storage;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federation.Node.Grpc;

/// <summary>The backstop: an escaped exception becomes Internal with a generic message, and is logged.</summary>
internal sealed class ExceptionInterceptor(ILogger<ExceptionInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (StoreClosedException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The node is stopping; try again."));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled or its deadline passed."));
        }
        catch (Exception ex)
        {
            GrpcLog.Unhandled(logger, context.Method, ex);
            throw new RpcException(new Status(StatusCode.Internal, "Internal error; see the node's log."));
        }
    }
}

/// <summary>Source-generated log messages of the gRPC layer.</summary>
internal static partial class GrpcLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "Unhandled exception in {Method}")]
    public static partial void Unhandled(ILogger logger, string method, Exception exception);
}
