using Federation.Node.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Web;

/// <summary>
/// Counts failed logins per account and per address in a sliding window; past the limit, further attempts
/// are refused without checking the password (so guessing costs the node no hashing either) until the
/// oldest failure leaves the window. Kept in memory: a restart forgets, which only ever helps a person.
/// </summary>
internal sealed class LoginThrottle(IOptions<WebOptions> options, TimeProvider time)
{
    /// <summary>Keys remembered at most, so a flood of names cannot grow memory without bound.</summary>
    private const int MaxKeys = 10_000;

    private readonly Dictionary<string, Queue<DateTimeOffset>> _failures = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>
    /// How long until a login for <paramref name="account"/> from <paramref name="address"/> may be tried; zero
    /// when now. A token login names no account (null): only its address counts, so that nobody can lock
    /// every token login out by sending bad tokens.
    /// </summary>
    public TimeSpan RetryAfter(string? account, string address)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var wait = account is null ? TimeSpan.Zero : Wait(AccountKey(account), options.Value.LoginFailuresPerAccount, now);
            var byAddress = Wait(AddressKey(address), options.Value.LoginFailuresPerAddress, now);
            return wait > byAddress ? wait : byAddress;
        }
    }

    public void Failed(string? account, string address)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (_failures.Count >= MaxKeys)
            {
                Prune(now);
            }

            foreach (var key in account is null ? [AddressKey(address)] : new[] { AccountKey(account), AddressKey(address) })
            {
                if (!_failures.TryGetValue(key, out var queue))
                {
                    _failures[key] = queue = new Queue<DateTimeOffset>();
                }

                queue.Enqueue(now);
            }
        }
    }

    /// <summary>A success forgets the account's failures (not the address's: one good account must not unlock guessing others).</summary>
    public void Succeeded(string? account)
    {
        if (account is null)
        {
            return;
        }

        lock (_lock)
        {
            _failures.Remove(AccountKey(account));
        }
    }

    private TimeSpan Wait(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var queue))
        {
            return TimeSpan.Zero;
        }

        var window = options.Value.LoginFailureWindow;
        while (queue.Count > 0 && queue.Peek() + window <= now)
        {
            queue.Dequeue();
        }

        if (queue.Count == 0)
        {
            _failures.Remove(key);
            return TimeSpan.Zero;
        }

        return queue.Count < limit ? TimeSpan.Zero : queue.ElementAt(queue.Count - limit) + window - now;
    }

    private void Prune(DateTimeOffset now)
    {
        var window = options.Value.LoginFailureWindow;
        foreach (var key in _failures.Where(f => f.Value.Count == 0 || f.Value.Last() + window <= now).Select(static f => f.Key).ToList())
        {
            _failures.Remove(key);
        }

        if (_failures.Count >= MaxKeys)
        {
            // Still full of fresh failures: forget the oldest half rather than grow.
            foreach (var key in _failures.OrderBy(static f => f.Value.Last()).Take(MaxKeys / 2).Select(static f => f.Key).ToList())
            {
                _failures.Remove(key);
            }
        }
    }

    private static string AccountKey(string account) => "account:" + account.ToLowerInvariant();

    private static string AddressKey(string address) => "address:" + address;
}
