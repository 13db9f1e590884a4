using Federation.Protos.V1;
using Federation.Node.Configuration;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>The one gRPC channel to the parent, opened on first use and closed with the host.</summary>
internal sealed class ParentChannel(IOptions<NodeOptions> options) : IDisposable
{
    private readonly Lazy<GrpcChannel> _channel = new(() => GrpcChannel.ForAddress(options.Value.Parent.Address));

    public FederationService.FederationServiceClient Client => new(_channel.Value);

    public void Dispose()
    {
        if (_channel.IsValueCreated)
        {
            _channel.Value.Dispose();
        }
    }
}
