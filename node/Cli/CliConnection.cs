using System.CommandLine;
using System.Net.Security;
using System.Net.Sockets;
using Federation.Node.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Node.Cli;

/// <summary>
/// How the command line reaches a node: an https:// address with a bearer token (checked against the
/// deployment CA given by --ca), or <c>unix:PATH</c>, the node's admin socket on this machine, which
/// needs no token.
/// </summary>
public static class CliConnection
{
    /// <summary>The bearer token; FEDERATION_TOKEN when not given.</summary>
    public static readonly Option<string?> Token = new("--token")
    {
        Description = "Bearer token (default: $FEDERATION_TOKEN)",
        Recursive = true,
    };

    /// <summary>The deployment CA certificate; FEDERATION_CA when not given.</summary>
    public static readonly Option<string?> Ca = new("--ca")
    {
        Description = "The deployment CA certificate (PEM) the node's certificate must chain to (default: $FEDERATION_CA)",
        Recursive = true,
    };

    /// <summary>Opens a channel to the node named by <paramref name="node"/>.</summary>
    public static GrpcChannel Open(ParseResult parse, Option<string> node)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var address = parse.GetValue(node)!;
        var token = parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("FEDERATION_TOKEN");
        var ca = parse.GetValue(Ca) ?? Environment.GetEnvironmentVariable("FEDERATION_CA");
        return Open(address, token, ca);
    }

    public static GrpcChannel Open(string address, string? token, string? caPath)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            var socketPath = address["unix:".Length..];
            if (!File.Exists(socketPath))
            {
                throw new FormatException($"no admin socket at '{socketPath}': is the node running with that data folder?");
            }

            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        }

        if (!Configuration.Keys.IsHttpAddress(address))
        {
            throw new FormatException($"--node '{address}' must be an https:// address or unix:PATH (the node's admin socket).");
        }

        if (!string.IsNullOrWhiteSpace(caPath))
        {
            if (!File.Exists(caPath))
            {
                throw new FormatException($"--ca '{caPath}' does not exist.");
            }

            var authority = Pki.LoadCertificate(caPath);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // The node's certificate names its node id; host names are not what identifies it.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && Pki.ChainsTo(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), authority, DateTimeOffset.UtcNow),
            };
        }

        var options = new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true };
        if (!string.IsNullOrWhiteSpace(token))
        {
            var bearer = token.Trim();
            var credentials = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + bearer);
                return Task.CompletedTask;
            });
            options.Credentials = address.StartsWith("https:", StringComparison.OrdinalIgnoreCase)
                ? ChannelCredentials.Create(ChannelCredentials.SecureSsl, credentials)
                : ChannelCredentials.Create(ChannelCredentials.Insecure, credentials);
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }

        return GrpcChannel.ForAddress(address, options);
    }
}
