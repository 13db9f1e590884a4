using Federation.Aggregator.Reports;

namespace Federation.Tests.Core;

/// <summary>The modified z-score (Iglewicz–Hoaglin) on known samples, and on generated ones where the test knows the outliers.</summary>
public sealed class OutliersTests
{
    private const int Rounds = 300;
    private static readonly int s_baseSeed = Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : 1949;

    [Fact]
    public void Score_KnownSample_IsTheModifiedZScore()
    {
        // Median 3; absolute deviations 2, 1, 0, 1, 97: MAD 1; M = 0.6745 × 97.
        var score = Outliers.Score([1, 2, 3, 4, 100], 100);

        Assert.NotNull(score);
        Assert.Equal(3, score.Value.Median);
        Assert.Equal(0.6745 * 97, score.Value.Score, 9);
        Assert.True(Outliers.IsOutlier(score.Value, 0));
        Assert.False(Outliers.IsOutlier(Outliers.Score([1, 2, 3, 4, 100], 4)!.Value, 0));
    }

    [Fact]
    public void Score_FewerThanFiveValues_JudgesNothing() => Assert.Null(Outliers.Score([1, 2, 3, 1000], 1000));

    [Fact]
    public void Score_MadZero_FallsBackToTheMeanAbsoluteDeviation()
    {
        // More than half the sample is 5: MAD is 0. Mean absolute deviation 45/6 = 7.5; M = 45 / (1.253314 × 7.5).
        var score = Outliers.Score([5, 5, 5, 5, 5, 50], 50);

        Assert.NotNull(score);
        Assert.Equal(45 / (1.253314 * 7.5), score.Value.Score, 9);
        Assert.True(Outliers.IsOutlier(score.Value, 3.5));
    }

    [Fact]
    public void Score_AllValuesEqual_JudgesNothing() => Assert.Null(Outliers.Score([7, 7, 7, 7, 7, 7], 7));

    [Fact]
    public void IsOutlier_GeneratedSamples_FlagsExactlyThePlantedOutliers()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var seed = s_baseSeed + round;
            var rng = new Random(seed);
            // Inliers uniform in [low, low + spread]; at most a tenth of the sample planted 20 spreads away,
            // above or below: the median and MAD barely move, inliers stay near |M| ≤ 2, planted ones far above 3.5.
            var spread = rng.Next(20, 200);
            var low = 25L * spread;
            var inliers = Enumerable.Range(0, rng.Next(20, 61)).Select(_ => low + rng.NextInt64(spread + 1)).ToList();
            var planted = Enumerable.Range(0, rng.Next(0, (inliers.Count / 10) + 1))
                .Select(_ => rng.Next(2) == 0 ? low + (21L * spread) + rng.Next(spread) : rng.NextInt64(low - (20L * spread)))
                .ToList();
            List<long> sample = [.. inliers, .. planted];

            var flagged = sample.Where(v => Outliers.IsOutlier(Outliers.Score(sample, v)!.Value, Outliers.DefaultThreshold)).Order().ToList();

            Assert.True(planted.Order().SequenceEqual(flagged),
                $"seed {seed} (replay with FEDERATION_PROPERTY_SEED={seed}): planted {string.Join(",", planted)}, flagged {string.Join(",", flagged)}");
        }
    }
}
