using Federation.Tests.Infrastructure;
using System.Globalization;
using Federation.Aggregator.Retention;

namespace Federation.Tests.Core;

/// <summary>
/// Property tests of the history's retention rule over random periods: sources replaced at random times, own
/// summaries citing what was current when each was built, a parent that may or may not hold an older version.
/// Each round draws from its own seed; a failure names the seed (replay with FEDERATION_PROPERTY_SEED).
/// </summary>
public sealed class HistoryRetentionTests
{
    private const int Rounds = 400;
    private static readonly int s_baseSeed = PropertySeeds.First(2207);
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Decide_AnyPeriod_NeverLetsGoCurrentPinnedOrRecentVersions()
    {
        ForEachSeed(rng =>
        {
            var inputs = RandomPeriod(rng);

            var decision = HistoryRetention.Decide(inputs);

            var pruned = Pruned(decision);
            Assert.DoesNotContain(pruned, d => inputs.Pinned.Contains(d));
            Assert.DoesNotContain(inputs.OwnSummaries, o => o.IsCurrent && pruned.Contains(o.Digest));
            Assert.DoesNotContain(inputs.Reports.Concat(inputs.ChildSummaries), v => v.IsCurrent && pruned.Contains(v.Digest));
            foreach (var digest in pruned)
            {
                // Replaced by a version stored at least KeepReplacedFor before now.
                var replacedAt = ReplacedAt(inputs, digest);
                Assert.True(replacedAt is { } at && inputs.Now - at >= inputs.KeepReplacedFor, $"{digest} went while recent (replaced {replacedAt:O}, now {inputs.Now:O})");
            }
        });
    }

    [Fact]
    public void Decide_AnyPeriod_KeepsEveryVersionAKeptSummaryCites()
    {
        ForEachSeed(rng =>
        {
            var inputs = RandomPeriod(rng);

            var decision = HistoryRetention.Decide(inputs);

            // So that the proof of every kept summary still resolves to the bytes it cites.
            var keptOwn = inputs.OwnSummaries.Where(o => !decision.OwnSummaryDigests.Contains(o.Digest)).ToList();
            Assert.Contains(keptOwn, static o => o.IsCurrent);
            var prunedInputs = decision.ReportDigests.Concat(decision.ChildSummaryDigests).ToHashSet();
            foreach (var own in keptOwn)
            {
                Assert.DoesNotContain(own.CitedDigests, prunedInputs.Contains);
            }
        });
    }

    [Fact]
    public void Decide_ParentMayHoldAnyVersion_LetsGoNoOwnSummary()
    {
        ForEachSeed(rng =>
        {
            var inputs = RandomPeriod(rng) with { ParentMayHoldAnyVersion = true };

            Assert.Empty(HistoryRetention.Decide(inputs).OwnSummaryDigests);
        });
    }

    [Fact]
    public void Decide_AgainOnWhatIsLeft_LetsGoNothingMore()
    {
        ForEachSeed(rng =>
        {
            var inputs = RandomPeriod(rng);
            var pruned = Pruned(HistoryRetention.Decide(inputs));
            var left = inputs with
            {
                OwnSummaries = [.. inputs.OwnSummaries.Where(o => !pruned.Contains(o.Digest))],
                Reports = [.. inputs.Reports.Where(v => !pruned.Contains(v.Digest))],
                ChildSummaries = [.. inputs.ChildSummaries.Where(v => !pruned.Contains(v.Digest))],
            };

            Assert.Equal(0, HistoryRetention.Decide(left).Count);
        });
    }

    [Fact]
    public void Decide_LaterOrWithShorterKeep_LetsGoASuperset()
    {
        ForEachSeed(rng =>
        {
            var inputs = RandomPeriod(rng);
            var pruned = Pruned(HistoryRetention.Decide(inputs));

            var later = Pruned(HistoryRetention.Decide(inputs with { Now = inputs.Now + TimeSpan.FromHours(rng.Next(0, 500)) }));
            var shorter = Pruned(HistoryRetention.Decide(inputs with { KeepReplacedFor = inputs.KeepReplacedFor / (rng.Next(1, 5)) }));

            Assert.Subset(later, pruned);
            Assert.Subset(shorter, pruned);
        });
    }

    [Fact]
    public void Decide_EverythingOldAndTheParentHoldingTheCurrentVersion_KeepsTheCurrentChainAndNothingElseKnownReplaced()
    {
        ForEachSeed(rng =>
        {
            var inputs = RandomPeriod(rng) with { ParentMayHoldAnyVersion = false, Pinned = new HashSet<string>() };
            inputs = inputs with { Now = inputs.Now + TimeSpan.FromDays(3650), KeepReplacedFor = TimeSpan.FromDays(1) };

            var pruned = Pruned(HistoryRetention.Decide(inputs));

            // Written apart from the rule: the bound a node's history converges to.
            var current = inputs.OwnSummaries.Single(static o => o.IsCurrent);
            var expectedKept = new HashSet<string>(current.CitedDigests) { current.Digest };
            foreach (var group in inputs.OwnSummaries.Select(static o => new StoredVersion("own", o.Digest, o.BuiltAt, o.IsCurrent))
                .Concat(inputs.Reports).Concat(inputs.ChildSummaries).GroupBy(static v => v.SourceId))
            {
                expectedKept.UnionWith(group.Where(static v => v.IsCurrent).Select(static v => v.Digest));
                var newestReplaced = group.Where(static v => !v.IsCurrent).OrderBy(static v => v.StoredAt).ThenBy(static v => v.Digest, StringComparer.Ordinal).LastOrDefault();
                var currentOfGroup = group.FirstOrDefault(static v => v.IsCurrent);
                if (newestReplaced is not null && (currentOfGroup is null || currentOfGroup.StoredAt < newestReplaced.StoredAt))
                {
                    // A version nothing later was stored after (a withdrawal) has no known replacement time.
                    expectedKept.Add(newestReplaced.Digest);
                }
            }

            var all = inputs.OwnSummaries.Select(static o => o.Digest).Concat(inputs.Reports.Concat(inputs.ChildSummaries).Select(static v => v.Digest)).ToHashSet();
            Assert.Equal(all.Except(expectedKept).Order(StringComparer.Ordinal), pruned.Order(StringComparer.Ordinal));
        });
    }

    [Fact]
    public void Decide_NegativeKeep_IsMisuse()
    {
        var inputs = RandomPeriod(new Random(s_baseSeed)) with { KeepReplacedFor = TimeSpan.FromTicks(-1) };

        Assert.Throws<ArgumentException>(() => HistoryRetention.Decide(inputs));
    }

    /// <summary>
    /// A period as a node lives it: units and children send versions at random times (some withdrawn: no current),
    /// the node rebuilds at random times, each summary citing what was current then.
    /// </summary>
    private static RetentionInputs RandomPeriod(Random rng)
    {
        var time = s_start;
        var reports = new List<StoredVersion>();
        var children = new List<StoredVersion>();
        var own = new List<OwnSummaryVersion>();
        var current = new Dictionary<(bool Report, string Source), StoredVersion>();
        var digest = 0;
        var steps = rng.Next(2, 40);
        for (var step = 0; step < steps; step++)
        {
            time += TimeSpan.FromMinutes(rng.Next(0, 3) == 0 ? 0 : rng.Next(1, 3000));
            switch (rng.Next(5))
            {
                case 0 or 1 or 2:
                    var isReport = rng.Next(3) > 0;
                    var source = (isReport ? "unit-" : "child-") + rng.Next(1, 5).ToString(CultureInfo.InvariantCulture);
                    var version = new StoredVersion(source, $"d{digest++:D4}", time, true);
                    if (current.TryGetValue((isReport, source), out var replaced))
                    {
                        Replace(isReport ? reports : children, replaced);
                    }

                    (isReport ? reports : children).Add(version);
                    current[(isReport, source)] = version;
                    break;
                case 3 when current.Count > 0 && rng.Next(4) == 0:
                    // A withdrawal: the current version moves to the history with nothing after it.
                    var (key, withdrawn) = current.ElementAt(rng.Next(current.Count));
                    Replace(key.Report ? reports : children, withdrawn);
                    current.Remove(key);
                    break;
                default:
                    if (own.Count > 0)
                    {
                        own[^1] = own[^1] with { IsCurrent = false };
                    }

                    own.Add(new OwnSummaryVersion($"s{digest++:D4}", time, true, [.. current.Values.Select(static v => v.Digest)]));
                    break;
            }
        }

        if (own.Count == 0 || rng.Next(4) > 0)
        {
            // The period's summary after its last change; now and then that rebuild is still to come, and the
            // current summary cites versions replaced since.
            if (own.Count > 0)
            {
                own[^1] = own[^1] with { IsCurrent = false };
            }

            time += TimeSpan.FromMinutes(rng.Next(1, 100));
            own.Add(new OwnSummaryVersion($"s{digest++:D4}", time, true, [.. current.Values.Select(static v => v.Digest)]));
        }

        var everything = reports.Concat(children).Select(static v => v.Digest).Concat(own.Select(static o => o.Digest)).ToList();
        var pinned = everything.Where(_ => rng.Next(12) == 0).ToHashSet(StringComparer.Ordinal);
        return new RetentionInputs(
            time + TimeSpan.FromMinutes(rng.Next(0, 20_000)),
            TimeSpan.FromMinutes(rng.Next(0, 10_000)),
            rng.Next(4) == 0,
            Shuffle(rng, own),
            Shuffle(rng, reports),
            Shuffle(rng, children),
            pinned);
    }

    private static void Replace(List<StoredVersion> versions, StoredVersion replaced)
    {
        versions.Remove(replaced);
        versions.Add(replaced with { IsCurrent = false });
    }

    private static List<T> Shuffle<T>(Random rng, List<T> items) => [.. items.OrderBy(_ => rng.Next())];

    private static HashSet<string> Pruned(RetentionDecision decision) =>
        [.. decision.OwnSummaryDigests, .. decision.ReportDigests, .. decision.ChildSummaryDigests];

    /// <summary>When the version after <paramref name="digest"/> of the same source was stored, worked out plainly.</summary>
    private static DateTimeOffset? ReplacedAt(RetentionInputs inputs, string digest)
    {
        var all = inputs.OwnSummaries.Select(static o => new StoredVersion("own", o.Digest, o.BuiltAt, o.IsCurrent))
            .Concat(inputs.Reports.Select(static v => v with { SourceId = "r:" + v.SourceId }))
            .Concat(inputs.ChildSummaries.Select(static v => v with { SourceId = "c:" + v.SourceId }))
            .ToList();
        var version = all.Single(v => v.Digest == digest);
        var later = all.Where(v => v.SourceId == version.SourceId && v.Digest != digest && v.StoredAt >= version.StoredAt).ToList();
        return later.Count == 0 ? null : later.Min(static v => v.StoredAt);
    }

    private static void ForEachSeed(Action<Random> property) => PropertySeeds.ForEach(s_baseSeed, Rounds, property);
}
