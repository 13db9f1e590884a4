using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Federation.Node.Configuration;

namespace Federation.Node.Security;

/// <summary>The node's TLS certificate and the deployment CA it trusts, loaded once at start.</summary>
internal sealed class NodeCertificates : IDisposable
{
    public NodeCertificates(TlsOptions tls, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(tls);
        Time = time;
        if (tls.IsConfigured)
        {
            Certificate = Pki.LoadWithKey(tls.CertificatePath, tls.KeyPath);
            Authority = Pki.LoadCertificate(tls.CaPath);
        }
    }

    private TimeProvider Time { get; }

    /// <summary>The node's own certificate with its key; null when the node runs without TLS.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The deployment CA; null when the node runs without TLS.</summary>
    public X509Certificate2? Authority { get; }

    /// <summary>
    /// Client-side TLS options for calling another node: present this node's certificate, and accept the
    /// server only when its certificate chains to the deployment CA and (when known) names the expected node.
    /// Host names are not checked: the node id in the certificate is the identity.
    /// </summary>
    public SslClientAuthenticationOptions ClientOptions(string? expectedNodeId)
    {
        var options = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) => IsPeer(certificate, expectedNodeId),
        };
        if (Certificate is { } own)
        {
            options.ClientCertificates = [own];
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => own;
        }

        return options;
    }

    /// <summary>True when a peer's certificate chains to the deployment CA and names <paramref name="expectedNodeId"/> (if given).</summary>
    public bool IsPeer(X509Certificate? certificate, string? expectedNodeId)
    {
        if (Authority is null || certificate is null)
        {
            return false;
        }

        if (certificate is X509Certificate2 full)
        {
            return Accepts(full, expectedNodeId);
        }

        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return Accepts(loaded, expectedNodeId);
    }

    private bool Accepts(X509Certificate2 certificate, string? expectedNodeId) =>
        Pki.ChainsTo(certificate, Authority!, Time.GetUtcNow()) && (expectedNodeId is null || Pki.NodeIdOf(certificate) == expectedNodeId);

    public void Dispose()
    {
        Certificate?.Dispose();
        Authority?.Dispose();
    }
}
