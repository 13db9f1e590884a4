using System.Security.Cryptography;
using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Security;

/// <summary>
/// Web passwords of accounts: set by an admin, checked when a person logs in to the page. Only a salted
/// PBKDF2-SHA256 hash is kept; a password is never logged, stored or returned.
/// </summary>
internal sealed class PasswordOperations(NodeStore store, StoreWriter writer, AccessOperations access)
{
    public const int MinLength = 10;
    public const int MaxLength = 128;

    /// <summary>Sets an account's password, creating the account when it is new; refuses a weak one or another role or scope.</summary>
    public async Task<Outcome<PasswordSet>> SetAsync(string account, Role role, string scope, string password, string setBy, CancellationToken cancellationToken)
    {
        if (access.ValidateAccount(account, role, scope) is { } rejection)
        {
            return rejection;
        }

        if (password.Length is < MinLength or > MaxLength || string.Equals(password, account, StringComparison.OrdinalIgnoreCase))
        {
            // Never echo the password, not even its first characters.
            return Rejection.Of(RejectionReason.WeakPassword,
                $"password must be {MinLength} to {MaxLength} characters and not the account's name.", "password");
        }

        // The slow hash runs before the single writer, so that it never holds up other writes.
        var (salt, hash, iterations) = PasswordHashing.Hash(password);
        return await writer.ExecuteAsync<Outcome<PasswordSet>>(context =>
        {
            var accounts = context.Store.Database.GetCollection<AccountDocument>(AccessCollections.Accounts);
            var now = context.UtcNow().UtcTicks;
            if (accounts.ById(account) is { } existing)
            {
                if (existing.Role != role || existing.Scope != scope)
                {
                    return Rejection.Of(RejectionReason.IdInUse,
                        $"account '{account}' exists as {existing.Role} of {existing.Scope}; set its password with that role and scope, or choose another name.", "account");
                }
            }
            else
            {
                accounts.Insert(new AccountDocument { Id = account, Role = role, Scope = scope, CreatedTicks = now });
            }

            context.Store.Database.GetCollection<PasswordDocument>(AccessCollections.Passwords).Upsert(new PasswordDocument
            {
                Id = account,
                Salt = salt,
                Hash = hash,
                Iterations = iterations,
                SetTicks = now,
                SetBy = setBy,
            });
            return new PasswordSet(account, role, scope, now);
        }, cancellationToken);
    }

    /// <summary>
    /// The account when <paramref name="password"/> is its password; null otherwise. The same slow hash is
    /// computed whether or not the account exists, so the answer's timing does not tell which.
    /// </summary>
    public AccountDocument? Verify(string account, string password)
    {
        if (account.Length is 0 or > 64 || password.Length is 0 or > MaxLength)
        {
            return null;
        }

        var (found, stored) = store.Read(s => (
            s.Database.GetCollection<AccountDocument>(AccessCollections.Accounts).ById(account),
            s.Database.GetCollection<PasswordDocument>(AccessCollections.Passwords).ById(account)));
        if (found is null || stored is null)
        {
            PasswordHashing.Waste(password);
            return null;
        }

        return PasswordHashing.Verify(password, stored.Salt, stored.Hash, stored.Iterations) ? found : null;
    }
}

/// <summary>A password just set: whose, and when (UTC ticks).</summary>
internal sealed record PasswordSet(string Account, Role Role, string Scope, long SetTicks);

/// <summary>
/// PBKDF2 with HMAC-SHA256 (RFC 8018), 600,000 iterations as OWASP's password storage guidance gives for
/// it, a 16-byte random salt per password and a 32-byte hash compared in constant time.
/// </summary>
internal static class PasswordHashing
{
    public const int Iterations = 600_000;
    private const int SaltByteCount = 16;
    private const int HashByteCount = 32;

    /// <summary>More than any hash this node writes: a damaged record must not make one login cost minutes.</summary>
    private const int MaxIterations = 10_000_000;

    private static readonly byte[] s_wasteSalt = RandomNumberGenerator.GetBytes(SaltByteCount);

    public static (byte[] Salt, byte[] Hash, int Iterations) Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltByteCount);
        return (salt, Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, HashByteCount), Iterations);
    }

    public static bool Verify(string password, byte[] salt, byte[] expected, int iterations)
    {
        if (iterations is <= 0 or > MaxIterations || expected.Length != HashByteCount || salt.Length == 0)
        {
            Waste(password);
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, HashByteCount);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>The work of one check, for an account that has no password.</summary>
    public static void Waste(string password) =>
        _ = Rfc2898DeriveBytes.Pbkdf2(password, s_wasteSalt, Iterations, HashAlgorithmName.SHA256, HashByteCount);
}
