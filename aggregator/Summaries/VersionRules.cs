namespace Federation.Aggregator.Summaries;

/// <summary>What a receiver does with a summary offered for a (child, period) it may already hold one for.</summary>
public enum VersionVerdict
{
    /// <summary>Nothing held, or the offer is newer: it replaces the held one (corrections never double-count).</summary>
    Replace,

    /// <summary>The same version with the same digest: an idempotent success, nothing changes.</summary>
    AlreadyHeld,

    /// <summary>The same version with another digest: refused, and the conflict is evidence.</summary>
    Equivocation,

    /// <summary>An older version: refused as stale.</summary>
    Stale,
}

/// <summary>
/// The version rules every receiver applies to a child's summaries, and the clock bound on versions.
/// Pure: the caller passes what it holds, what it was offered and its own clock reading.
/// </summary>
/// <remarks>
/// A node numbers its summaries of a period with <see cref="NextVersion"/>: the previous version plus one,
/// or its build time in Unix milliseconds when that is larger. Versions are then monotonic even across a
/// restart that lost the previous number, and a receiver can bound them by its own clock: a version above
/// the receiver's Unix milliseconds plus <see cref="AllowedClockSkew"/> is refused, so a child can never
/// pin a period with a version from the far future (2^63-1). Small versions (1, 2, 3) stay acceptable.
/// </remarks>
public static class VersionRules
{
    /// <summary>How far ahead of the receiver's clock a version (in Unix ms) or an announcement time may be.</summary>
    public static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(10);

    /// <summary>Applies the rules. Total: every combination has exactly one verdict.</summary>
    /// <param name="heldVersion">The version held for the child and period, or null when none is held.</param>
    /// <param name="heldDigest">SHA-256 of the held summary bytes (ignored when nothing is held).</param>
    /// <param name="offeredVersion">The version offered.</param>
    /// <param name="offeredDigest">SHA-256 of the offered summary bytes.</param>
    public static VersionVerdict Decide(ulong? heldVersion, ReadOnlySpan<byte> heldDigest, ulong offeredVersion, ReadOnlySpan<byte> offeredDigest)
    {
        if (heldVersion is not { } held || offeredVersion > held)
        {
            return VersionVerdict.Replace;
        }

        if (offeredVersion < held)
        {
            return VersionVerdict.Stale;
        }

        return heldDigest.SequenceEqual(offeredDigest) ? VersionVerdict.AlreadyHeld : VersionVerdict.Equivocation;
    }

    /// <summary>The version of a node's next summary of a period: max(previous + 1, build time in Unix ms).</summary>
    public static ulong NextVersion(ulong previousVersion, DateTimeOffset buildTime)
    {
        var clock = UnixMilliseconds(buildTime);
        return previousVersion >= clock ? checked(previousVersion + 1) : clock;
    }

    /// <summary>The largest version a receiver accepts at <paramref name="receiveTime"/>.</summary>
    public static ulong LatestAcceptableVersion(DateTimeOffset receiveTime) => UnixMilliseconds(receiveTime + AllowedClockSkew);

    /// <summary>True when <paramref name="instant"/> (an announcement time) lies beyond the receiver's clock plus the skew.</summary>
    public static bool IsBeyondClock(DateTimeOffset instant, DateTimeOffset receiveTime) => instant > receiveTime + AllowedClockSkew;

    private static ulong UnixMilliseconds(DateTimeOffset instant) => (ulong)Math.Max(0, instant.ToUnixTimeMilliseconds());
}
