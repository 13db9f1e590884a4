using Federation.Tests.Infrastructure;
using System.Globalization;
using Federation.Aggregator.Summaries;

namespace Federation.Tests.Core;

/// <summary>
/// Property tests of the version rules and of clock-derived versions. Each round draws from its own seed;
/// a failure names the seed (replay with FEDERATION_PROPERTY_SEED).
/// </summary>
public sealed class VersionRulesTests
{
    private const int Rounds = 500;
    private static readonly int s_baseSeed = PropertySeeds.First(1921);
    private static readonly DateTimeOffset s_now = new(2026, 4, 20, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Decide_AnyHeldAndOffered_FollowsTheRuleTable()
    {
        ForEachSeed(rng =>
        {
            var held = rng.Next(3) == 0 ? (ulong?)null : (ulong)rng.Next(1, 6);
            var offered = (ulong)rng.Next(1, 6);
            var heldDigest = Digest(rng.Next(2));
            var offeredDigest = Digest(rng.Next(2));

            var verdict = VersionRules.Decide(held, heldDigest, offered, offeredDigest);

            var expected = held is null || offered > held ? VersionVerdict.Replace
                : offered < held ? VersionVerdict.Stale
                : heldDigest.SequenceEqual(offeredDigest) ? VersionVerdict.AlreadyHeld
                : VersionVerdict.Equivocation;
            Assert.Equal(expected, verdict);
        });
    }

    [Fact]
    public void Decide_OffersInAnyOrder_HoldTheNewestAndCountItOnce()
    {
        ForEachSeed(rng =>
        {
            // Distinct versions, each with its own digest, delivered shuffled and some twice.
            var versions = Enumerable.Range(1, rng.Next(1, 12)).Select(static v => (ulong)v).ToList();
            var offers = versions.Concat(versions.Where(_ => rng.Next(3) == 0)).OrderBy(_ => rng.Next()).ToList();
            ulong? held = null;
            var replacements = 0;
            foreach (var offer in offers)
            {
                var verdict = VersionRules.Decide(held, Digest((int)(held ?? 0)), offer, Digest((int)offer));
                Assert.NotEqual(VersionVerdict.Equivocation, verdict);
                if (verdict == VersionVerdict.Replace)
                {
                    Assert.True(held is null || offer > held);
                    held = offer;
                    replacements++;
                }
            }

            Assert.Equal(versions.Max(), held);
            Assert.True(replacements <= versions.Count);
            Assert.Equal(VersionVerdict.AlreadyHeld, VersionRules.Decide(held, Digest((int)held!.Value), held.Value, Digest((int)held.Value)));
        });
    }

    [Fact]
    public void NextVersion_BuildsAtNonDecreasingTimes_AreIncreasingAndNeverBeyondTheReceiversClock()
    {
        ForEachSeed(rng =>
        {
            var time = s_now.AddDays(-rng.Next(0, 1000));
            ulong version = (ulong)rng.Next(0, 4);
            for (var i = 0; i < rng.Next(1, 300); i++)
            {
                // Bursts of rebuilds within one millisecond as well as long gaps.
                time = time.AddMilliseconds(rng.Next(4) == 0 ? rng.Next(0, 100_000) : 0);
                var next = VersionRules.NextVersion(version, time);

                Assert.True(next > version);
                Assert.True(next <= VersionRules.LatestAcceptableVersion(time), $"version {next} at {time:O} is beyond the receiver's clock");
                version = next;
            }
        });
    }

    [Fact]
    public void NextVersion_AfterARestartThatLostTheVersion_StillExceedsEveryEarlierOne()
    {
        var before = VersionRules.NextVersion(0, s_now);
        var restarted = VersionRules.NextVersion(0, s_now.AddSeconds(1));

        Assert.True(restarted > before);
    }

    [Fact]
    public void LatestAcceptableVersion_KeepsSmallVersionsAndRefusesTheFarFuture()
    {
        Assert.True(VersionRules.LatestAcceptableVersion(s_now) >= 3);
        Assert.True(VersionRules.LatestAcceptableVersion(s_now) < long.MaxValue);
        Assert.True(VersionRules.IsBeyondClock(new DateTimeOffset(9998, 1, 1, 0, 0, 0, TimeSpan.Zero), s_now));
        Assert.False(VersionRules.IsBeyondClock(s_now + VersionRules.AllowedClockSkew, s_now));
    }

    private static byte[] Digest(int seed) => [(byte)seed, (byte)(seed >> 8), 7];

    private static void ForEachSeed(Action<Random> property) => PropertySeeds.ForEach(s_baseSeed, Rounds, property);
}
