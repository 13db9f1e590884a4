using System.Globalization;
using Federation.Aggregator.Aggregation;
using Federation.Protos.V1;

namespace Federation.Aggregator.Ratings;

/// <summary>Exact scores on the wire: a reduced fraction of points, and a two-decimal text for people.</summary>
public static class ExactScores
{
    /// <summary>The wire form of <paramref name="value"/> (in points), reduced to lowest terms.</summary>
    public static ExactScore ToProto(Rational value)
    {
        var gcd = (long)Int128.Abs(Gcd(value.Numerator, value.Denominator));
        var numerator = value.Numerator / gcd;
        var denominator = value.Denominator / gcd;
        return new ExactScore { Numerator = numerator, Denominator = denominator, Display = Display(numerator, denominator) };
    }

    /// <summary>The value of a wire score; the denominator must be positive.</summary>
    public static Rational FromProto(ExactScore score)
    {
        ArgumentNullException.ThrowIfNull(score);
        return new Rational(score.Numerator, score.Denominator);
    }

    /// <summary>Two decimals, rounded half away from zero: the one rounding a reader sees, never used to decide.</summary>
    public static string Display(long numerator, long denominator)
    {
        var scaled = (Int128)numerator * 100;
        var quotient = scaled / denominator;
        var remainder = Int128.Abs(scaled % denominator);
        if (remainder * 2 >= denominator)
        {
            quotient += scaled < 0 ? -1 : 1;
        }

        var sign = quotient < 0 ? "-" : string.Empty;
        var magnitude = Int128.Abs(quotient);
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{magnitude / 100}.{(int)(magnitude % 100):D2}");
    }

    private static Int128 Gcd(Int128 a, Int128 b)
    {
        a = Int128.Abs(a);
        b = Int128.Abs(b);
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a == 0 ? 1 : a;
    }
}
