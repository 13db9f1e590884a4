using Federation.Node.Application;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federation.Node.Grpc;

/// <summary>A request of a listing that pages (AIP-158): its page_size, as the generated message has it.</summary>
internal interface IPagedRequest
{
    int PageSize { get; }
}

/// <summary>
/// Refuses a negative page_size on every paged RPC (<see cref="PageTokens.CheckSize"/>) before the endpoint sees
/// the request: nothing is read, forwarded, listed or let go for it, and a held listing stays readable with its
/// token. Registered after the scope check, so a caller outside its scope hears that first.
/// </summary>
internal sealed class PageSizeInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        request is IPagedRequest paged && PageTokens.CheckSize(paged.PageSize) is { } rejection
            ? throw RpcErrors.ToException(rejection)
            : continuation(request, context);
}
