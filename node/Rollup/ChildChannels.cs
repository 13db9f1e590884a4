using System.Collections.Concurrent;
using Federation.Node.Security;
using Grpc.Net.Client;

namespace Federation.Node.Rollup;

/// <summary>
/// The one factory of channels for calls to other nodes: over https it presents this node's
/// certificate and accepts only a server whose certificate names the node it expects. One channel
/// per address and node, kept for the life of the host.
/// </summary>
internal sealed class ChildChannels(NodeCertificates certificates) : IDisposable
{
    private readonly ConcurrentDictionary<(string Address, string? NodeId), GrpcChannel> _channels = new();

    /// <summary>A channel to the node <paramref name="nodeId"/> at <paramref name="address"/>.</summary>
    public GrpcChannel For(string address, string? nodeId) =>
        _channels.GetOrAdd((address, nodeId), static (key, certs) => Create(key.Address, key.NodeId, certs), certificates);

    public static GrpcChannel Create(string address, string? nodeId, NodeCertificates certificates)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = certificates.ClientOptions(nodeId),
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
