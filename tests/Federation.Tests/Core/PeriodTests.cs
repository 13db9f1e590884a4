using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

public sealed class PeriodTests
{
    [Theory]
    [InlineData("2026", PeriodType.Year, 1)]
    [InlineData("2026-H2", PeriodType.Half, 2)]
    [InlineData("2026-Q3", PeriodType.Quarter, 3)]
    [InlineData("2026-03", PeriodType.Month, 3)]
    [InlineData("2026-12", PeriodType.Month, 12)]
    public void Parse_CanonicalText_RoundTrips(string text, PeriodType type, int index)
    {
        var period = Period.Parse(text);

        Assert.Equal(type, period.Type);
        Assert.Equal(index, period.Index);
        Assert.Equal(text, period.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("26")]
    [InlineData("2026-Q5")]
    [InlineData("2026-Q0")]
    [InlineData("2026-H3")]
    [InlineData("2026-13")]
    [InlineData("2026-3")]
    [InlineData("2026/03")]
    [InlineData("2026-q1")]
    [InlineData("1900-Q1")]
    [InlineData("Q1-2026")]
    [InlineData("9999-12")]
    public void TryParse_Malformed_ReturnsFalse(string text) => Assert.False(Period.TryParse(text, out _));

    [Fact]
    public void Bounds_Quarter_StartAndEndAtMidnightChinaTime()
    {
        var q1 = Period.Parse("2026-Q1");

        Assert.Equal(new DateOnly(2026, 1, 1), q1.StartDate);
        Assert.Equal(new DateOnly(2026, 4, 1), q1.EndDateExclusive);
        Assert.Equal(new DateTimeOffset(2025, 12, 31, 16, 0, 0, TimeSpan.Zero), q1.StartInstant.ToUniversalTime());
    }

    [Theory]
    [InlineData("2026-12", "2027-01")]
    [InlineData("2026-Q4", "2027-Q1")]
    [InlineData("2026-H1", "2026-H2")]
    [InlineData("9998", "9999")]
    public void Next_IsTheFollowingPeriodOfTheSameType(string period, string next) =>
        Assert.Equal(next, Period.Parse(period).Next().ToString());

    [Fact]
    public void CompareTo_OrdersByStartThenShorterFirst()
    {
        var sorted = new[] { "2026", "2026-02", "2026-Q1", "2026-01", "2025-H2" }.Select(Period.Parse).Order().Select(static p => p.ToString());

        Assert.Equal(["2025-H2", "2026-01", "2026-Q1", "2026", "2026-02"], sorted);
    }
}
