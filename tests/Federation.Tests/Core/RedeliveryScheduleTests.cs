using Federation.Node.Configuration;
using Federation.Node.Rollup;

namespace Federation.Tests.Core;

/// <summary>The outbox's redelivery delay with its randomness injected.</summary>
public sealed class RedeliveryScheduleTests
{
    private static readonly OutboxOptions s_options = new() { RedeliveryBaseDelay = TimeSpan.FromSeconds(1), RedeliveryMaxDelay = TimeSpan.FromSeconds(60) };

    [Theory]
    [InlineData(0.0, 1, 800)]
    [InlineData(0.5, 1, 1000)]
    [InlineData(0.5, 3, 4000)]
    [InlineData(0.5, 40, 60_000)]
    [InlineData(0.999, 40, 71_976)]
    public void DelayAfter_FixedJitter_IsTheDoublingDelaySpreadByTheJitter(double unit, int attempts, int expectedMilliseconds)
    {
        var schedule = new RedeliverySchedule(s_options, new FixedJitter(unit));

        Assert.Equal(expectedMilliseconds, schedule.DelayAfter(attempts).TotalMilliseconds, 0.001);
    }

    [Fact]
    public void DelayAfter_DrawsFromTheInjectedSourceOncePerDelay()
    {
        var jitter = new FixedJitter(0.25);
        var schedule = new RedeliverySchedule(s_options, jitter);

        schedule.DelayAfter(1);
        schedule.DelayAfter(2);

        Assert.Equal(2, jitter.DrawCount);
    }

    private sealed class FixedJitter(double unit) : IJitterSource
    {
        public int DrawCount { get; private set; }

        public double NextUnit()
        {
            DrawCount++;
            return unit;
        }
    }
}
