using System.Globalization;
using Federation.Protos.V1;

namespace Federation.Aggregator.Aggregation;

/// <summary>An exact fraction with a positive denominator. Comparisons cross-multiply in 128 bits, so they never round.</summary>
public readonly record struct Rational : IComparable<Rational>
{
    public Rational(long numerator, long denominator)
    {
        if (denominator <= 0)
        {
            throw ThrowHelper.Argument(nameof(denominator), "The denominator must be positive.");
        }

        Numerator = numerator;
        Denominator = denominator;
    }

    public long Numerator { get; }

    public long Denominator { get; }

    public double ToDouble() => (double)Numerator / Denominator;

    public int CompareTo(Rational other) =>
        ((Int128)Numerator * other.Denominator).CompareTo((Int128)other.Numerator * Denominator);

    /// <summary>True when this value satisfies <paramref name="comparison"/> against <paramref name="threshold"/>.</summary>
    public bool Satisfies(Comparison comparison, Rational threshold) => comparison switch
    {
        Comparison.AtLeast => CompareTo(threshold) >= 0,
        Comparison.AtMost => CompareTo(threshold) <= 0,
        _ => throw ThrowHelper.Argument(nameof(comparison), "No comparison given."),
    };

    public static Rational ThresholdOf(Target target) => new(target.ThresholdNumerator, target.ThresholdDenominator);

    public override string ToString() => Denominator == 1
        ? Numerator.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Numerator}/{Denominator}");

    public static bool operator <(Rational left, Rational right) => left.CompareTo(right) < 0;

    public static bool operator >(Rational left, Rational right) => left.CompareTo(right) > 0;

    public static bool operator <=(Rational left, Rational right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Rational left, Rational right) => left.CompareTo(right) >= 0;
}
