using NSec.Cryptography;

namespace Federation.Aggregator.Signing;

/// <summary>
/// A node's Ed25519 signing key (RFC 8032). The caller supplies the 32-byte seed, so the core never
/// touches a random source; the node draws the seed once and keeps it in its data folder.
/// </summary>
public sealed class NodeSigningKey : IDisposable
{
    private static readonly SignatureAlgorithm s_algorithm = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private NodeSigningKey(Key key)
    {
        _key = key;
        PublicKeyBytes = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        KeyId = KeyIds.FromPublicKey(PublicKeyBytes);
    }

    /// <summary>Length of the raw private key (the RFC 8032 seed).</summary>
    public const int PrivateKeyByteCount = 32;

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKeyBytes { get; }

    public string KeyId { get; }

    /// <summary>Imports a key from its raw 32-byte RFC 8032 private key (seed).</summary>
    public static NodeSigningKey FromPrivateKeyBytes(ReadOnlySpan<byte> privateKeyBytes)
    {
        if (privateKeyBytes.Length != PrivateKeyByteCount)
        {
            throw ThrowHelper.Argument(nameof(privateKeyBytes), $"An Ed25519 private key is {PrivateKeyByteCount} bytes.");
        }

        var parameters = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        return new NodeSigningKey(Key.Import(s_algorithm, privateKeyBytes, KeyBlobFormat.RawPrivateKey, parameters));
    }

    /// <summary>The raw 32-byte private key, for the node to persist in a file only its owner can read.</summary>
    public byte[] ExportPrivateKeyBytes() => _key.Export(KeyBlobFormat.RawPrivateKey);

    /// <summary>Bytes of an Ed25519 signature.</summary>
    public const int SignatureByteCount = 64;

    /// <summary>Signs <paramref name="payload"/> prefixed by <paramref name="domain"/>.</summary>
    public byte[] Sign(SignatureDomain domain, ReadOnlySpan<byte> payload)
    {
        var signature = new byte[SignatureByteCount];
        Sign(domain, payload, signature);
        return signature;
    }

    /// <summary>Signs <paramref name="payload"/> prefixed by <paramref name="domain"/> into <paramref name="signature"/> (64 bytes).</summary>
    public void Sign(SignatureDomain domain, ReadOnlySpan<byte> payload, Span<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(domain);
        using var message = domain.Prefixed(payload);
        s_algorithm.Sign(_key, message.Span, signature);
    }

    /// <summary>Plain RFC 8032 signing of a message, without a domain prefix (used by the conformance tests).</summary>
    public byte[] SignRaw(ReadOnlySpan<byte> message) => s_algorithm.Sign(_key, message);

    /// <summary>Checks an Ed25519 signature over <paramref name="domain"/>'s prefix and the payload.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKeyBytes, SignatureDomain domain, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(domain);
        using var message = domain.Prefixed(payload);
        return VerifyRaw(publicKeyBytes, message.Span, signature);
    }

    /// <summary>Plain RFC 8032 verification; false for a malformed key or signature.</summary>
    public static bool VerifyRaw(ReadOnlySpan<byte> publicKeyBytes, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (!PublicKey.TryImport(s_algorithm, publicKeyBytes, KeyBlobFormat.RawPublicKey, out var publicKey) || publicKey is null)
        {
            return false;
        }

        return signature.Length == s_algorithm.SignatureSize && s_algorithm.Verify(publicKey, message, signature);
    }

    /// <summary>True when the bytes are a well-formed raw Ed25519 public key.</summary>
    public static bool IsValidPublicKey(ReadOnlySpan<byte> publicKeyBytes) =>
        PublicKey.TryImport(s_algorithm, publicKeyBytes, KeyBlobFormat.RawPublicKey, out _);

    public void Dispose() => _key.Dispose();
}
