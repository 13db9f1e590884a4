namespace Federation.Aggregator.Reports;

/// <summary>
/// Outliers by the modified z-score (Iglewicz and Hoaglin, 1993): M = 0.6745·(x − median)/MAD, where MAD
/// is the median absolute deviation from the median of the sample. Robust: a few wild values in the
/// sample move neither the median nor the MAD much, unlike a mean and standard deviation. Pure.
/// <list type="bullet">
/// <item>The sample is the compared values with the value itself; fewer than <see cref="MinSampleCount"/>
/// values judge nothing (no score).</item>
/// <item>When MAD is 0 (more than half the sample is one value), the mean absolute deviation from the
/// median stands in: M = (x − median)/(1.253314·MeanAD), 1.253314 ≈ √(π/2) making it agree with MAD
/// on normal data. When that is 0 too, every value equals the median and nothing is an outlier.</item>
/// </list>
/// </summary>
public static class Outliers
{
    /// <summary>The threshold Iglewicz and Hoaglin recommend, used when the catalogue sets none.</summary>
    public const double DefaultThreshold = 3.5;

    /// <summary>Smallest sample (the value included) that is judged.</summary>
    public const int MinSampleCount = 5;

    private const double MadScale = 0.6745;
    private const double MeanAbsoluteDeviationScale = 1.253314;

    /// <summary>The median and modified z-score of <paramref name="value"/> within <paramref name="sample"/> (which includes it); null when the sample is too small or has no spread.</summary>
    public static OutlierScore? Score(IReadOnlyList<long> sample, long value)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Count < MinSampleCount)
        {
            return null;
        }

        var sorted = sample.Select(static v => (double)v).Order().ToArray();
        var median = Median(sorted);
        var deviations = sorted.Select(v => Math.Abs(v - median)).Order().ToArray();
        var mad = Median(deviations);
        if (mad > 0)
        {
            return new OutlierScore(median, MadScale * (value - median) / mad);
        }

        var meanDeviation = deviations.Average();
        return meanDeviation > 0 ? new OutlierScore(median, (value - median) / (MeanAbsoluteDeviationScale * meanDeviation)) : null;
    }

    /// <summary>Whether a score is beyond the threshold (0 or less means <see cref="DefaultThreshold"/>).</summary>
    public static bool IsOutlier(OutlierScore score, double threshold) =>
        Math.Abs(score.Score) > (threshold > 0 ? threshold : DefaultThreshold);

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>A value's place in its sample: the sample's median and the value's modified z-score.</summary>
public readonly record struct OutlierScore(double Median, double Score);
