using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that real nodes can run on: it moves forward with real time, so that their timers,
/// outbox, coalescing delays and call deadlines behave, and a test jumps it ahead to cross a deadline without waiting
/// for it. It never goes back and never runs behind the real clock (nodes derive gRPC deadlines from it).
/// </summary>
public sealed class TickingClock : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    /// <param name="start">The instant the clock starts at; not before now.</param>
    public TickingClock(DateTimeOffset start)
    {
        if (start < DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(start), "a node's clock must not run behind the real one: its call deadlines would be past.");
        }

        Time = new FakeTimeProvider(start);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>The clock to give the nodes.</summary>
    public FakeTimeProvider Time { get; }

    /// <summary>Moves the clock ahead at once; timers due meanwhile fire.</summary>
    public void Jump(TimeSpan by) => Time.Advance(by);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        _stop.Dispose();
    }

    private async Task PumpAsync()
    {
        var last = Stopwatch.GetTimestamp();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var now = Stopwatch.GetTimestamp();
            Time.Advance(Stopwatch.GetElapsedTime(last, now));
            last = now;
        }
    }
}
