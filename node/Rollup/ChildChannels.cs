using System.Collections.Concurrent;
using Grpc.Net.Client;

namespace Federation.Node.Rollup;

/// <summary>One gRPC channel per child address, kept for the life of the host.</summary>
internal sealed class ChildChannels : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public GrpcChannel For(string address) => _channels.GetOrAdd(address, static a => GrpcChannel.ForAddress(a));

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }
}
