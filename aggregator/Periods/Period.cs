using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Federation.Protos.V1;

namespace Federation.Aggregator.Periods;

/// <summary>
/// A calendar reporting period: a month ("2026-03"), quarter ("2026-Q1"), half-year ("2026-H1")
/// or year ("2026"). <see cref="ToString"/> gives the one canonical text that <see cref="Parse"/> accepts.
/// </summary>
public readonly record struct Period : IComparable<Period>
{
    private Period(int year, PeriodType type, int index)
    {
        Year = year;
        Type = type;
        Index = index;
    }

    public int Year { get; }

    public PeriodType Type { get; }

    /// <summary>1-based month, quarter or half; 1 for a year.</summary>
    public int Index { get; }

    /// <summary>The first day of the period.</summary>
    public DateOnly StartDate => new(Year, FirstMonth, 1);

    /// <summary>The first day after the period.</summary>
    public DateOnly EndDateExclusive => StartDate.AddMonths(MonthCount);

    /// <summary>The instant the period starts, midnight UTC+8 (China Standard Time), as the documents count days.</summary>
    public DateTimeOffset StartInstant => new(StartDate.ToDateTime(TimeOnly.MinValue), s_chinaOffset);

    /// <summary>The instant the period ends (exclusive), midnight UTC+8.</summary>
    public DateTimeOffset EndInstant => new(EndDateExclusive.ToDateTime(TimeOnly.MinValue), s_chinaOffset);

    private static readonly TimeSpan s_chinaOffset = TimeSpan.FromHours(8);

    /// <summary>The last year accepted: one below DateOnly's limit, so that a period's end and successor exist.</summary>
    private const int MaxYear = 9998;

    private int MonthCount => Type switch
    {
        PeriodType.Month => 1,
        PeriodType.Quarter => 3,
        PeriodType.Half => 6,
        _ => 12,
    };

    private int FirstMonth => ((Index - 1) * MonthCount) + 1;

    public static Period Month(int year, int month) => Create(year, PeriodType.Month, month, 12);

    public static Period Quarter(int year, int quarter) => Create(year, PeriodType.Quarter, quarter, 4);

    public static Period Half(int year, int half) => Create(year, PeriodType.Half, half, 2);

    public static Period OfYear(int year) => Create(year, PeriodType.Year, 1, 1);

    /// <summary>The period of the same type that follows this one.</summary>
    public Period Next() => Index < PeriodsPerYear ? new Period(Year, Type, Index + 1) : new Period(Year + 1, Type, 1);

    /// <summary>The period of the same type before this one; throws for the first period of year 1.</summary>
    public Period Previous() => Index > 1 ? new Period(Year, Type, Index - 1)
        : Year > 1 ? new Period(Year - 1, Type, PeriodsPerYear) : throw ThrowHelper.InvalidOperation("No period precedes year 1.");

    private int PeriodsPerYear => 12 / MonthCount;

    public static Period Parse(string text) =>
        TryParse(text, out var period) ? period : throw ThrowHelper.Argument(nameof(text), $"'{text}' is not a period; expected 2026, 2026-H1, 2026-Q1 or 2026-03.");

    public static bool TryParse([NotNullWhen(true)] string? text, out Period period)
    {
        period = default;
        if (text is null || text.Length < 4 || !TryYear(text.AsSpan(0, 4), out var year))
        {
            return false;
        }

        if (text.Length == 4)
        {
            period = new Period(year, PeriodType.Year, 1);
            return true;
        }

        if (text.Length != 7 || text[4] != '-')
        {
            return false;
        }

        var rest = text.AsSpan(5);
        var (type, max) = rest[0] switch
        {
            'Q' => (PeriodType.Quarter, 4),
            'H' => (PeriodType.Half, 2),
            _ => (PeriodType.Month, 12),
        };
        var digits = type == PeriodType.Month ? rest : rest[1..];

        if ((type == PeriodType.Month && digits.Length != 2) || (type != PeriodType.Month && digits.Length != 1))
        {
            return false;
        }

        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index < 1 || index > max)
        {
            return false;
        }

        period = new Period(year, type, index);
        return true;
    }

    public override string ToString() => Type switch
    {
        PeriodType.Year => Year.ToString("D4", CultureInfo.InvariantCulture),
        PeriodType.Half => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-H{Index}"),
        PeriodType.Quarter => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-Q{Index}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Index:D2}"),
    };

    /// <summary>True when <paramref name="text"/> is exactly <see cref="ToString"/>'s text, compared without writing a string.</summary>
    internal bool IsCanonicalText(string? text)
    {
        Span<char> buffer = stackalloc char[16];
        var invariant = CultureInfo.InvariantCulture;
        var written = 0;
        var formatted = Type switch
        {
            PeriodType.Year => Year.TryFormat(buffer, out written, "D4", invariant),
            PeriodType.Half => buffer.TryWrite(invariant, $"{Year:D4}-H{Index}", out written),
            PeriodType.Quarter => buffer.TryWrite(invariant, $"{Year:D4}-Q{Index}", out written),
            _ => buffer.TryWrite(invariant, $"{Year:D4}-{Index:D2}", out written),
        };
        return formatted && text is not null && text.AsSpan().SequenceEqual(buffer[..written]);
    }

    /// <summary>Orders by start, then shorter periods first.</summary>
    public int CompareTo(Period other)
    {
        var byStart = StartDate.CompareTo(other.StartDate);
        return byStart != 0 ? byStart : MonthCount.CompareTo(other.MonthCount);
    }

    public static bool operator <(Period left, Period right) => left.CompareTo(right) < 0;

    public static bool operator >(Period left, Period right) => left.CompareTo(right) > 0;

    public static bool operator <=(Period left, Period right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Period left, Period right) => left.CompareTo(right) >= 0;

    private static bool TryYear(ReadOnlySpan<char> digits, out int year) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out year) && year >= 1949 && year <= MaxYear;

    private static Period Create(int year, PeriodType type, int index, int max)
    {
        if (year < 1949 || year > MaxYear || index < 1 || index > max)
        {
            throw ThrowHelper.Argument(nameof(index), $"No {type} {index} in year {year}.");
        }

        return new Period(year, type, index);
    }
}
