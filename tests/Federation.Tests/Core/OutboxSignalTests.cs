using Federation.Node.Rollup;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Tests.Core;

/// <summary>The outbox worker's wait runs on the injected clock: a signal or the timeout on that clock ends it.</summary>
public sealed class OutboxSignalTests
{
    [Fact]
    public async Task WaitAsync_TimeoutOnTheFakeClock_EndsOnlyWhenThatClockPassesIt()
    {
        var time = new FakeTimeProvider();
        using var signal = new OutboxSignal();

        var wait = signal.WaitAsync(TimeSpan.FromSeconds(30), time, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(29));
        var earlyDone = wait.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(earlyDone);
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitAsync_Notified_EndsWithoutTheClockMoving()
    {
        var time = new FakeTimeProvider();
        using var signal = new OutboxSignal();

        var wait = signal.WaitAsync(TimeSpan.FromMinutes(5), time, CancellationToken.None);
        signal.Notify();
        await wait.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitAsync_NotifiedTwiceBeforeWaiting_WakesOnceThenWaitsAgain()
    {
        var time = new FakeTimeProvider();
        using var signal = new OutboxSignal();
        signal.Notify();
        signal.Notify();

        await signal.WaitAsync(TimeSpan.FromMinutes(5), time, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var second = signal.WaitAsync(TimeSpan.FromMinutes(5), time, CancellationToken.None);

        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromMinutes(5));
        await second.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
