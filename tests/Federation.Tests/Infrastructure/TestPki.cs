using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Federation.Node.Cli;
using Federation.Node.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Tests.Infrastructure;

/// <summary>
/// One private CA for the test run, and node certificates issued by it on demand, as a deployment's
/// `federation ca init` and `federation cert issue` would make them. Deleted when the test process exits.
/// </summary>
public static class TestPki
{
    private static readonly Lazy<(X509Certificate2 Authority, string Folder)> s_authority = new(Create);
    private static readonly ConcurrentDictionary<string, (string Certificate, string Key)> s_nodes = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, X509Certificate2> s_loaded = new(StringComparer.Ordinal);

    public static X509Certificate2 Authority => s_authority.Value.Authority;

    public static string CaPath => Path.Combine(s_authority.Value.Folder, Pki.CaCertificateFileName);

    /// <summary>The certificate and key files of a node id.</summary>
    public static (string Certificate, string Key) NodeFiles(string nodeId) => s_nodes.GetOrAdd(nodeId, static id =>
    {
        var folder = Path.Combine(s_authority.Value.Folder, Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        using var certificate = Pki.IssueNode(Authority, id, ["localhost", "127.0.0.1"], DateTimeOffset.UtcNow, TimeSpan.FromDays(30));
        var files = (Path.Combine(folder, "node.crt"), Path.Combine(folder, "node.key"));
        Pki.Write(certificate, files.Item1, files.Item2);
        return files;
    });

    /// <summary>The "Tls" configuration section of a node process, with its certificate from the test CA.</summary>
    public static object TlsSection(string nodeId) =>
        new { CertificatePath = NodeFiles(nodeId).Certificate, KeyPath = NodeFiles(nodeId).Key, CaPath = CaPath };

    /// <summary>A node's certificate with its key, to call as that node; shared by every test, never dispose it.</summary>
    public static X509Certificate2 NodeCertificate(string nodeId) => s_loaded.GetOrAdd(nodeId, static id =>
    {
        var (certificate, key) = NodeFiles(id);
        return Pki.LoadWithKey(certificate, key);
    });

    /// <summary>A channel to a node: over https it trusts the test CA; it calls with a token, as a node, or with nothing.</summary>
    public static GrpcChannel Channel(string address, string? token = null, string? asNode = null, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler();
        var own = clientCertificate ?? (asNode is null ? null : NodeCertificate(asNode));
        handler.SslOptions = new System.Net.Security.SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = static (_, certificate, _, errors) =>
                certificate is not null && (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && Pki.ChainsTo(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), Authority, DateTimeOffset.UtcNow),
        };
        if (own is not null)
        {
            handler.SslOptions.ClientCertificates = [own];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => own;
        }

        var options = new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true };
        if (token is not null)
        {
            var credentials = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            });
            options.Credentials = ChannelCredentials.Create(
                address.StartsWith("https:", StringComparison.Ordinal) ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, credentials);
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }

        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>The admin socket of a node's data folder, as `federation token issue --node unix:…` uses it.</summary>
    public static GrpcChannel AdminSocket(string dataPath) => CliConnection.Open("unix:" + Path.Combine(dataPath, Federation.Node.Security.AdminSocket.FileName), null, null);

    private static (X509Certificate2, string) Create()
    {
        var folder = Path.Combine(Path.GetTempPath(), "federation-tests", "pki-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var authority = Pki.CreateAuthority("Federation test CA", DateTimeOffset.UtcNow, TimeSpan.FromDays(60));
        Pki.Write(authority, Path.Combine(folder, Pki.CaCertificateFileName), null);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // The OS temp cleaner takes it.
            }
        };
        return (authority, folder);
    }
}
