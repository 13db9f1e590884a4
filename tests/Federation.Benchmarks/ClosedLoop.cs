using System.Diagnostics;

namespace Federation.Benchmarks;

/// <summary>
/// A closed-loop load: each client sends its next request when the previous one is answered, for a fixed
/// time. Requests are numbered from one shared sequence, so a later load can carry on where a warm-up stopped.
/// </summary>
internal sealed class ClosedLoop(int clientCount)
{
    private long _next = -1;

    /// <summary>The number the next request will get.</summary>
    public long NextNumber => Volatile.Read(ref _next) + 1;

    /// <summary>Runs <paramref name="call"/>(client, request number) from every client; completed calls per second.</summary>
    public async Task<double> CallsPerSecondAsync(TimeSpan duration, Func<int, long, Task> call)
    {
        long completed = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clientCount).Select(client => Task.Run(async () =>
        {
            while (watch.Elapsed < duration)
            {
                await call(client, Interlocked.Increment(ref _next));
                Interlocked.Increment(ref completed);
            }
        })));
        return completed / watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Runs the load in one-second slices until the JIT compiled fewer than <paramref name="settledMethods"/> methods in
    /// one (tiered compilation has settled: a node that has run a while), for at least <paramref name="minimum"/> and
    /// at most <paramref name="maximum"/>; returns how long it ran.
    /// </summary>
    public async Task<TimeSpan> WarmAsync(Func<int, long, Task> call, TimeSpan minimum, TimeSpan maximum, int settledMethods = 10)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await CallsPerSecondAsync(TimeSpan.FromSeconds(1), call);
            var settled = System.Runtime.JitInfo.GetCompiledMethodCount() - compiled < settledMethods;
            if ((settled && watch.Elapsed >= minimum) || watch.Elapsed >= maximum)
            {
                return watch.Elapsed;
            }
        }
    }

    /// <summary>Sends requests until the sequence reaches <paramref name="count"/>, every client busy.</summary>
    public Task RunUntilAsync(long count, Func<int, long, Task> call) =>
        Task.WhenAll(Enumerable.Range(0, clientCount).Select(client => Task.Run(async () =>
        {
            for (var n = Interlocked.Increment(ref _next); n < count; n = Interlocked.Increment(ref _next))
            {
                await call(client, n);
            }

            Interlocked.Decrement(ref _next);
        })));
}
