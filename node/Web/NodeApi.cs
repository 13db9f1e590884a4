using System.Net.Security;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Federation.Node.Web;

/// <summary>
/// The page's one way to the figures: its own node's gRPC API, called over loopback on the node's own
/// listener with the session's token, trusting only the node's own certificate. So every rule (roles,
/// scopes, routing down the tree, rate limits, signed decisions) is the API's, applied once.
/// </summary>
internal sealed class NodeApi(NodeEndpoint endpoint, NodeCertificates certificates, IOptions<WebOptions> options, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private GrpcChannel? _channel;

    public async Task<GrpcChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _channel) is { } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _channel ??= Open(await endpoint.ListeningAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Call options for one call: the session's bearer token and the page's budget.</summary>
    public CallOptions Call(WebSession session, CancellationToken cancellationToken) => Call(session.Token, cancellationToken);

    public CallOptions Call(string token, CancellationToken cancellationToken) => new(
        headers: new Metadata { { "authorization", "Bearer " + token } },
        deadline: (time.GetUtcNow() + options.Value.CallTimeout).UtcDateTime,
        cancellationToken: cancellationToken);

    /// <summary>The listening address as seen from this machine: a wildcard becomes loopback.</summary>
    internal static string Loopback(string listening)
    {
        var uri = new UriBuilder(listening);
        uri.Host = uri.Host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            _ => uri.Host,
        };
        return uri.Uri.GetLeftPart(UriPartial.Authority);
    }

    private GrpcChannel Open(string listening)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), EnableMultipleHttp2Connections = true };
        if (certificates.Certificate is { } own)
        {
            // Pinned to the very certificate this node serves: the token goes to this process and nowhere else.
            var pinned = own.RawData;
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(pinned),
            };
        }

        return GrpcChannel.ForAddress(Loopback(listening), new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
    }

    public void Dispose()
    {
        _channel?.Dispose();
        _gate.Dispose();
    }
}
