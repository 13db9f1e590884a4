using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Federation.Node.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Benchmarks;

/// <summary>
/// A private CA for the run and node certificates from it, written as `federation ca init` and
/// `federation cert issue` write them, so that nodes listen with TLS as deployed.
/// </summary>
internal sealed class BenchPki : IDisposable
{
    private readonly X509Certificate2 _authority;

    public BenchPki(string folder)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        _authority = Pki.CreateAuthority("Federation benchmark CA", DateTimeOffset.UtcNow, TimeSpan.FromDays(2));
        Pki.Write(_authority, CaPath, null);
    }

    public string Folder { get; }

    public string CaPath => Path.Combine(Folder, Pki.CaCertificateFileName);

    /// <summary>Issues a certificate naming <paramref name="nodeId"/> (and localhost, 127.0.0.1) into <paramref name="folder"/>.</summary>
    public (string CertificatePath, string KeyPath) IssueNode(string nodeId, string folder)
    {
        Directory.CreateDirectory(folder);
        var files = (Path.Combine(folder, "node.crt"), Path.Combine(folder, "node.key.pem"));
        using var certificate = Pki.IssueNode(_authority, nodeId, ["localhost", "127.0.0.1"], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        Pki.Write(certificate, files.Item1, files.Item2);
        File.Copy(CaPath, Path.Combine(folder, Pki.CaCertificateFileName), overwrite: true);
        return files;
    }

    /// <summary>The "Tls" settings of a node whose certificate files are in <paramref name="folder"/>.</summary>
    public Dictionary<string, string?> TlsSettings(string nodeId, string folder)
    {
        var (certificate, key) = IssueNode(nodeId, folder);
        return new Dictionary<string, string?>
        {
            ["Tls:CertificatePath"] = certificate,
            ["Tls:KeyPath"] = key,
            ["Tls:CaPath"] = CaPath,
        };
    }

    /// <summary>A channel a person uses: TLS checked against the run's CA, a bearer token when given.</summary>
    public GrpcChannel Channel(string address, string? token) => Federation.Node.Cli.CliConnection.Open(address, token, CaPath);

    /// <summary>A TLS channel with no token (the echo baseline), trusting the run's CA.</summary>
    public GrpcChannel PlainChannel(string address) =>
        GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = Handler(), DisposeHttpClient = true, Credentials = ChannelCredentials.SecureSsl });

    /// <summary>A channel calling as node <paramref name="nodeId"/>: mutual TLS with a certificate naming it.</summary>
    public GrpcChannel NodeChannel(string address, string nodeId, string folder)
    {
        var (certificatePath, keyPath) = IssueNode(nodeId, folder);
        var own = Pki.LoadWithKey(certificatePath, keyPath);
        var handler = Handler();
        handler.SslOptions.ClientCertificates = [own];
        handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => own;
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, Credentials = ChannelCredentials.SecureSsl });
    }

    public void Dispose() => _authority.Dispose();

    private SocketsHttpHandler Handler()
    {
        var authority = _authority;
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate is not null && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0 &&
                    Pki.ChainsTo(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), authority, DateTimeOffset.UtcNow),
            },
        };
    }
}
