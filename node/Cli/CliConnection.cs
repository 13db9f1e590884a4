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
    /// <summary>
    /// Largest answer read, as the web page reads: a signed rating statement, or a summary of a node hosting tens
    /// of thousands of units, passes gRPC's default of 4 MiB.
    /// </summary>
    internal const int MaxReceiveBytes = 64 * 1024 * 1024;

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
            return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, MaxReceiveMessageSize = MaxReceiveBytes });
        }

        if (!Configuration.Keys.IsHttpAddress(address))
        {
            throw new FormatException($"--node '{address}' must be an https:// address or unix:PATH (the node's admin socket).");
        }

        var uri = new Uri(address);
        if (!string.IsNullOrWhiteSpace(token) && uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            // The token is a bearer secret: it never travels in the clear, as the node never listens in the clear off loopback.
            throw new FormatException($"--node '{address}' is plaintext: a token is sent only over https://, or http:// to this machine.");
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
                // The deployment CA instead of the machine's roots, and the host name still checked: a token
                // goes only to a server whose certificate names the host asked for, not to any node of the deployment.
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate is not null && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0 &&
                    Pki.ChainsTo(System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), authority, DateTimeOffset.UtcNow),
            };
        }

        var options = new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, MaxReceiveMessageSize = MaxReceiveBytes };
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
