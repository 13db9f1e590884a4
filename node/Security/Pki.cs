using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Federation.Node.Security;

/// <summary>
/// A deployment's private certificate authority and the node certificates it issues. A node
/// certificate names its node in a URI subject alternative name (<c>urn:federation:node:ID</c>); that
/// name, not the host name, is what peers check, so a node keeps its identity behind any address.
/// </summary>
public static class Pki
{
    /// <summary>The URI prefix of the subject alternative name that carries a node id.</summary>
    public const string NodeUriPrefix = "urn:federation:node:";

    public const string CaCertificateFileName = "ca.crt";
    public const string CaKeyFileName = "ca.key";

    /// <summary>Creates a CA (ECDSA P-256) valid for <paramref name="validity"/>.</summary>
    public static X509Certificate2 CreateAuthority(string name, DateTimeOffset now, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now + validity);
    }

    /// <summary>
    /// Issues a node certificate, usable both to serve (TLS server) and to call (TLS client), naming the
    /// node id and the host names and addresses it answers on.
    /// </summary>
    public static X509Certificate2 IssueNode(
        X509Certificate2 authority, string nodeId, IEnumerable<string> hosts, DateTimeOffset now, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(nodeId)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri(NodeUriPrefix + nodeId));
        foreach (var host in hosts.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(host, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var notAfter = now + validity < authority.NotAfter ? now + validity : new DateTimeOffset(authority.NotAfter.ToUniversalTime());
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(authority, now.AddMinutes(-5), notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The node id a certificate names, or null when it names none.</summary>
    public static string? NodeIdOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension names)
            {
                foreach (var uri in EnumerateUris(names))
                {
                    if (uri.StartsWith(NodeUriPrefix, StringComparison.Ordinal) && uri.Length > NodeUriPrefix.Length)
                    {
                        return uri[NodeUriPrefix.Length..];
                    }
                }
            }
        }

        return null;
    }

    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="authority"/> and is valid at <paramref name="now"/>.</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 authority, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(certificate);
    }

    /// <summary>Writes a certificate and, when it has one, its private key as PEM; the key file is owner-only.</summary>
    public static void Write(X509Certificate2 certificate, string certificatePath, string? keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        if (keyPath is null)
        {
            return;
        }

        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("The certificate has no ECDSA private key.");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(keyPath, options);
        using var writer = new StreamWriter(stream);
        writer.Write(key.ExportPkcs8PrivateKeyPem() + "\n");
    }

    /// <summary>Loads a certificate and its private key from PEM files, in a form SslStream can use on every platform.</summary>
    public static X509Certificate2 LoadWithKey(string certificatePath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Loads a certificate without a key (the CA as trusted by nodes and clients).</summary>
    public static X509Certificate2 LoadCertificate(string certificatePath) =>
        X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));

    private static IEnumerable<string> EnumerateUris(X509SubjectAlternativeNameExtension names)
    {
        // .NET exposes DNS names and IP addresses directly; URIs are read from the ASN.1.
        var reader = new System.Formats.Asn1.AsnReader(names.RawData, System.Formats.Asn1.AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        var uriTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6);
        while (sequence.HasData)
        {
            var tag = sequence.PeekTag();
            if (tag == uriTag)
            {
                yield return sequence.ReadCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uriTag);
            }
            else
            {
                sequence.ReadEncodedValue();
            }
        }
    }

    private static string Escape(string name) => name.Replace(",", "\\,", StringComparison.Ordinal).Replace("=", "\\=", StringComparison.Ordinal);
}
