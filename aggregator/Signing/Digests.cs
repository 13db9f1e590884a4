using System.Security.Cryptography;

namespace Federation.Aggregator.Signing;

/// <summary>SHA-256 digests of the exact bytes that travel.</summary>
public static class Digests
{
    public static byte[] Sha256(ReadOnlySpan<byte> bytes) => SHA256.HashData(bytes);

    public static string ToHex(ReadOnlySpan<byte> digest) => Convert.ToHexStringLower(digest);
}

/// <summary>Key ids: lower-case hex of the first 16 bytes of SHA-256 of the raw 32-byte public key.</summary>
public static class KeyIds
{
    public const int ByteCount = 16;

    public static string FromPublicKey(ReadOnlySpan<byte> publicKeyBytes)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(publicKeyBytes, hash);
        return Convert.ToHexStringLower(hash[..ByteCount]);
    }

    /// <summary>True when <paramref name="keyId"/> is the key id of <paramref name="publicKeyBytes"/> (ordinal), allocating nothing.</summary>
    public static bool Matches(string? keyId, ReadOnlySpan<byte> publicKeyBytes)
    {
        if (keyId is null || keyId.Length != ByteCount * 2)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(publicKeyBytes, hash);
        Span<char> hex = stackalloc char[ByteCount * 2];
        return Convert.TryToHexStringLower(hash[..ByteCount], hex, out _) && keyId.AsSpan().SequenceEqual(hex);
    }
}
