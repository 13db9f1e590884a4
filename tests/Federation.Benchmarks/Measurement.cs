using System.Globalization;

namespace Federation.Benchmarks;

/// <summary>A goal on a measurement's ratio to its baseline: at least or at most a threshold.</summary>
/// <param name="AtLeast">True when the ratio must reach the threshold; false when it must stay at or below it.</param>
/// <param name="Threshold">The ratio the goal names.</param>
internal readonly record struct Goal(bool AtLeast, double Threshold)
{
    public static Goal Minimum(double threshold) => new(true, threshold);

    public static Goal Maximum(double threshold) => new(false, threshold);

    public bool IsMetBy(double ratio) => !double.IsNaN(ratio) && (AtLeast ? ratio >= Threshold : ratio <= Threshold);

    public override string ToString() => (AtLeast ? ">= " : "<= ") + Threshold.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>
/// One figure beside the baseline it is judged against, both taken in the same run. The ratio is always
/// value ÷ baseline; the goal, when there is one, says which side of a threshold that ratio must fall.
/// </summary>
internal sealed record Measurement(string Name, string Unit, double Value, string BaselineName, double Baseline, Goal? Goal)
{
    public double Ratio => Baseline == 0 || double.IsNaN(Value) || double.IsNaN(Baseline) ? double.NaN : Value / Baseline;

    /// <summary>Null when the measurement has no goal (it is reported for reading, not judged).</summary>
    public bool? Met => Goal?.IsMetBy(Ratio);
}
