using System.Globalization;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;

namespace Federation.Aggregator.Ratings;

/// <summary>
/// Star histograms by tier. <see cref="Merge"/> adds unit counts per (tier, stars) and rating-node counts per
/// tier: associative and commutative, the empty list its identity, and its result sorted and free of zero
/// counts, so that any tree shape gives the same bytes at the top.
/// </summary>
public static class StarHistograms
{
    /// <summary>Most tier labels in one summary's histograms.</summary>
    public const int MaxTierCount = 32;

    /// <summary>Longest tier label, in characters.</summary>
    public const int MaxTierLength = 64;

    /// <summary>The histograms of one statement's published stars: one entry per tier, rating_node_count 1.</summary>
    public static IReadOnlyList<StarHistogram> Of(IEnumerable<UnitRating> units)
    {
        ArgumentNullException.ThrowIfNull(units);
        return [.. units.GroupBy(static u => u.Tier, StringComparer.Ordinal)
            .OrderBy(static g => g.Key, StringComparer.Ordinal)
            .Select(static g =>
            {
                var histogram = new StarHistogram { Tier = g.Key, RatingNodeCount = 1 };
                histogram.Counts.AddRange(g.GroupBy(static u => u.Stars).OrderBy(static s => s.Key)
                    .Select(static s => new StarCount { Stars = s.Key, UnitCount = (uint)s.Count() }));
                return histogram;
            })];
    }

    /// <summary>Merges histogram lists (identity: none, or empty ones); inputs are not changed.</summary>
    public static IReadOnlyList<StarHistogram> Merge(IEnumerable<IReadOnlyList<StarHistogram>> lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var tiers = new SortedDictionary<string, (uint Nodes, SortedDictionary<uint, uint> Counts)>(StringComparer.Ordinal);
        foreach (var histogram in lists.SelectMany(static l => l))
        {
            var entry = tiers.TryGetValue(histogram.Tier, out var found) ? found : (Nodes: 0u, Counts: new SortedDictionary<uint, uint>());
            foreach (var count in histogram.Counts)
            {
                entry.Counts[count.Stars] = checked(entry.Counts.GetValueOrDefault(count.Stars) + count.UnitCount);
            }

            tiers[histogram.Tier] = (checked(entry.Nodes + histogram.RatingNodeCount), entry.Counts);
        }

        return [.. tiers.Select(static t =>
        {
            var histogram = new StarHistogram { Tier = t.Key, RatingNodeCount = t.Value.Nodes };
            histogram.Counts.AddRange(t.Value.Counts.Where(static c => c.Value > 0).Select(static c => new StarCount { Stars = c.Key, UnitCount = c.Value }));
            return histogram;
        })];
    }

    /// <summary>Units counted in the histograms, all tiers together.</summary>
    public static ulong UnitCount(IEnumerable<StarHistogram> histograms) =>
        histograms.Aggregate(0ul, static (sum, h) => sum + h.Counts.Aggregate(0ul, static (s, c) => s + c.UnitCount));

    /// <summary>
    /// Why a child's histograms cannot be the merge of statements, with the field at fault; null when they can:
    /// labels of 1 to 64 characters without control characters, sorted by tier without repeats, at most 32; star
    /// counts sorted by stars (0 to 5) without repeats or zeros; each tier's rating nodes at least one and at most
    /// its units; all units together at most <see cref="SummaryChecks.MaxLeafCount"/>, so that merges stay in range.
    /// </summary>
    public static FieldViolation? Check(IReadOnlyList<StarHistogram> histograms, string field)
    {
        ArgumentNullException.ThrowIfNull(histograms);
        if (histograms.Count > MaxTierCount)
        {
            return new(field, RejectionReason.ValueTooLarge, string.Create(CultureInfo.InvariantCulture, $"{field} has {histograms.Count} tiers; at most {MaxTierCount}."));
        }

        string? previousTier = null;
        foreach (var histogram in histograms)
        {
            var at = $"{field}[{Echo.Of(histogram.Tier)}]";
            if (histogram.Tier.Length is 0 or > MaxTierLength || histogram.Tier.Any(char.IsControl) ||
                (previousTier is not null && string.CompareOrdinal(previousTier, histogram.Tier) >= 0))
            {
                return new(at, RejectionReason.MalformedSummary, $"{field} needs tier labels of 1 to {MaxTierLength} printable characters, sorted without repeats.");
            }

            previousTier = histogram.Tier;
            long? previousStars = null;
            ulong units = 0;
            foreach (var count in histogram.Counts)
            {
                if (count.Stars > 5 || count.UnitCount == 0 || (previousStars is { } p && p >= count.Stars))
                {
                    return new($"{at}.counts", RejectionReason.MalformedSummary, $"{at}.counts must be sorted by stars (0 to 5), each once, with at least one unit.");
                }

                previousStars = count.Stars;
                units += count.UnitCount;
            }

            if (histogram.RatingNodeCount == 0 || histogram.RatingNodeCount > units)
            {
                return new($"{at}.rating_node_count", RejectionReason.InconsistentCounts,
                    string.Create(CultureInfo.InvariantCulture, $"{at}.rating_node_count is {histogram.RatingNodeCount}; it must be 1 to its {units} units."));
            }
        }

        var total = UnitCount(histograms);
        return total > SummaryChecks.MaxLeafCount
            ? new(field, RejectionReason.ValueTooLarge, string.Create(CultureInfo.InvariantCulture, $"{field} counts {total} rated units; at most {SummaryChecks.MaxLeafCount}."))
            : null;
    }
}
