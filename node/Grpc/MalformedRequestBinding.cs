using System.Reflection;
using Federation.Aggregator;
using Federation.Node.Application;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Federation.Node.Grpc;

/// <summary>
/// Request bytes that are not a valid protobuf message get InvalidArgument (MALFORMED_REQUEST).
/// grpc-dotnet reads and parses the request before any interceptor runs; an exception thrown by the
/// parser reaches its handler's catch-all, which answers Unknown and logs an error with a stack trace
/// for every such message, while an <see cref="RpcException"/> thrown there becomes the call's status
/// (logged at Information). So each method is bound with a request marshaller whose parser turns
/// <see cref="InvalidProtocolBufferException"/> into that status.
/// </summary>
internal static class MalformedRequestBinding
{
    /// <summary>Replaces grpc-dotnet's default method binding with one whose request parsing fails as InvalidArgument.</summary>
    public static IServiceCollection AddMalformedRequestStatus(this IServiceCollection services)
    {
        // The default provider would bind the same routes a second time; it is the only open-generic one.
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(StrictParsingMethodProvider<>)));
        return services;
    }

    /// <summary>Wraps a parser so that malformed bytes fail the call with InvalidArgument.</summary>
    public static Marshaller<T> Strict<T>(Marshaller<T> inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        return new Marshaller<T>(inner.ContextualSerializer, context =>
        {
            try
            {
                return inner.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException)
            {
                throw RpcErrors.ToException(Rejection.Of(RejectionReason.MalformedRequest,
                    $"the request is not a valid {typeof(T).Name} protobuf message."));
            }
        });
    }
}

/// <summary>
/// Binds the methods of a generated service base (found through its [BindServiceMethod]) as grpc-dotnet's
/// own binder does: the same handler lookup and the same endpoint metadata (the attributes of the
/// service class and of the method, so authorization attributes keep working), with a strict parser.
/// </summary>
internal sealed class StrictParsingMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } bind)
            {
                var method = bind.BindType.GetMethod(
                    bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), type]);
                method?.Invoke(null, [new Binder(context, type), null]);
                return;
            }
        }
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type declaringType) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, [typeof(TRequest), typeof(ServerCallContext)]);
            context.AddUnaryMethod(Strict(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<ServerStreamingServerMethod<TService, TRequest, TResponse>>(
                method.Name, [typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)]);
            context.AddServerStreamingMethod(Strict(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<ClientStreamingServerMethod<TService, TRequest, TResponse>>(
                method.Name, [typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)]);
            context.AddClientStreamingMethod(Strict(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Handler<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(
                method.Name, [typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)]);
            context.AddDuplexStreamingMethod(Strict(method), metadata, invoker);
        }

        private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, MalformedRequestBinding.Strict(method.RequestMarshaller), method.ResponseMarshaller);

        /// <summary>The service's override of the generated method, and its endpoint metadata (type attributes first, so method ones win).</summary>
        private (TDelegate Invoker, List<object> Metadata) Handler<TDelegate>(string name, Type[] parameters)
            where TDelegate : Delegate
        {
            var handler = Find(name, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService).Name} does not override {declaringType.Name}.{name}.");
            var metadata = new List<object>();
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(handler.GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), handler), metadata);
        }

        private MethodInfo? Find(string name, Type[] parameters)
        {
            for (var type = typeof(TService); type is not null; type = type.BaseType)
            {
                var candidate = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters);
                if (candidate is null)
                {
                    return null;
                }

                // A method that hides rather than overrides the generated one is not the handler.
                if (candidate.IsVirtual && candidate.GetBaseDefinition().DeclaringType == declaringType)
                {
                    return candidate;
                }
            }

            return null;
        }
    }
}
