using System.Security.Cryptography;
using System.Text;
using Federation.Protos.V1;

namespace Federation.Node.Security;

// LiteDB documents of people's access. Instants are UTC ticks.

/// <summary>A person's account: a name, one role and one scope. Id = the name.</summary>
internal sealed class AccountDocument
{
    public string Id { get; set; } = string.Empty;

    public Role Role { get; set; }

    public string Scope { get; set; } = string.Empty;

    public long CreatedTicks { get; set; }
}

/// <summary>A bearer token of an account, stored only as the SHA-256 of its secret. Id = the token id.</summary>
internal sealed class TokenDocument
{
    public string Id { get; set; } = string.Empty;

    public string Account { get; set; } = string.Empty;

    public Role Role { get; set; }

    public string Scope { get; set; } = string.Empty;

    public byte[] SecretHash { get; set; } = [];

    public long IssuedTicks { get; set; }

    public long ExpiresTicks { get; set; }

    /// <summary>0 while the token is not revoked.</summary>
    public long RevokedTicks { get; set; }

    public string Note { get; set; } = string.Empty;

    public string IssuedBy { get; set; } = string.Empty;
}

/// <summary>
/// An account's web password, stored only as a salted PBKDF2-SHA256 hash with the iteration count it
/// was made with (so the count can grow without invalidating older hashes). Id = the account name.
/// </summary>
internal sealed class PasswordDocument
{
    public string Id { get; set; } = string.Empty;

    public byte[] Salt { get; set; } = [];

    public byte[] Hash { get; set; } = [];

    public int Iterations { get; set; }

    public long SetTicks { get; set; }

    public string SetBy { get; set; } = string.Empty;
}

/// <summary>Collection names of the access part of the store, fixed: renaming one is a migration.</summary>
internal static class AccessCollections
{
    public const string Accounts = "accounts";
    public const string Tokens = "tokens";
    public const string Passwords = "passwords";
}

/// <summary>
/// The token format: <c>fed1.&lt;token id&gt;.&lt;secret&gt;</c>. The id (16 hex characters) finds the stored
/// record; the secret (32 random bytes, base64url) is checked against its SHA-256. A secret of 256 random
/// bits needs no slow hash: there is nothing to guess from the hash.
/// </summary>
internal static class TokenFormat
{
    public const string Prefix = "fed1";
    private const int IdByteCount = 8;
    private const int SecretByteCount = 32;

    /// <summary>A new token: its id, the whole bearer string, and the hash to store.</summary>
    public static (string TokenId, string Bearer, byte[] SecretHash) Create()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdByteCount));
        var secret = Base64UrlEncode(RandomNumberGenerator.GetBytes(SecretByteCount));
        return (id, $"{Prefix}.{id}.{secret}", Hash(secret));
    }

    /// <summary>Splits a bearer string; false when it is not one of ours.</summary>
    public static bool TryParse(string bearer, out string tokenId, out string secret)
    {
        tokenId = secret = string.Empty;
        if (bearer.Length is < 20 or > 200)
        {
            return false;
        }

        var parts = bearer.Split('.');
        if (parts.Length != 3 || parts[0] != Prefix || parts[1].Length != IdByteCount * 2 || parts[2].Length == 0)
        {
            return false;
        }

        tokenId = parts[1];
        secret = parts[2];
        return true;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.ASCII.GetBytes(secret));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
