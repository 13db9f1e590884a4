using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

/// <summary>
/// The contributions rule (every kind given; nothing cited twice as the same kind, a unit's report and its
/// ledger being two citations) against a plain set of keys, for random lists: sorted as the builder writes
/// them, shuffled, with repeats, missing kinds and ids that look like ledger keys.
/// </summary>
public sealed class SummaryContributionChecksTests
{
    private const int Rounds = 2000;
    private static readonly DateTimeOffset s_receiveTime = new(2026, 4, 20, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] s_ids = ["370113001001", "370113001002", "370113001003", "ledger|370113001001", "a"];

    [Fact]
    public void Check_RandomContributions_RefusesExactlyWhatASetOfKeysRefuses()
    {
        var baseSeed = Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 1949;
        var template = SummaryChecksTests.ValidSummary();
        for (var round = 0; round < Rounds; round++)
        {
            var seed = baseSeed + round;
            var rng = new Random(seed);
            var summary = template.Clone();
            summary.Contributions.Clear();
            var contributions = Enumerable.Range(0, rng.Next(0, 7)).Select(_ => new Contribution
            {
                SourceId = s_ids[rng.Next(rng.Next(2) == 0 ? 3 : s_ids.Length)],
                Kind = (ContributionKind)rng.Next(rng.Next(8) == 0 ? 0 : 1, 4),
            }).ToList();
            if (rng.Next(2) == 0)
            {
                contributions.Sort(static (a, b) => string.CompareOrdinal(a.SourceId, b.SourceId) is var bySource and not 0 ? bySource : a.Kind.CompareTo(b.Kind));
            }

            summary.Contributions.AddRange(contributions);

            var violation = SummaryChecks.Check(summary, CatalogueIndex.Default, s_receiveTime);

            var expected = FirstRepeat(contributions) is { } repeat ? $"summary.contributions lists '{repeat.SourceId}' twice or without a kind." : null;
            Assert.True(expected == violation?.Description,
                $"seed {seed} (replay with FEDERATION_PROPERTY_SEED={seed}): expected {expected ?? "no refusal"}, got {violation?.Description ?? "none"}");
        }
    }

    /// <summary>The rule as first written: the first contribution without a kind or whose key is already in the set.</summary>
    private static Contribution? FirstRepeat(List<Contribution> contributions)
    {
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var contribution in contributions)
        {
            var key = contribution.Kind == ContributionKind.Ledger ? "ledger|" + contribution.SourceId : contribution.SourceId;
            if (contribution.Kind == ContributionKind.Unspecified || !sources.Add(key))
            {
                return contribution;
            }
        }

        return null;
    }
}
