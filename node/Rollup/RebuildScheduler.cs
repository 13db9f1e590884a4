using Federation.Node.Configuration;
using Federation.Node.Storage;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>
/// Decides when summaries are rebuilt. It follows the periods committed writes marked dirty; after a
/// quiet moment (bursts coalesce, but never longer than the maximum delay) it rebuilds, signs and
/// enqueues each through the writer, then wakes the outbox worker. The dirty marks are persisted with
/// the changes, so a restart resumes any rebuild a crash cut short. Time alone changes a summary too: when a
/// rectification ledger item not cleared reaches its deadline, its period is marked dirty at that instant, so the
/// overdue count moves without anyone writing.
/// </summary>
internal sealed class RebuildScheduler(
    NodeStore store, StoreWriter writer, PeriodChanges changes, SummaryRebuilder rebuilder, OutboxSignal outboxSignal,
    IOptions<SummaryOptions> options, TimeProvider time, ILogger<RebuildScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan s_longestWait = TimeSpan.FromHours(1);

    // Off-writer rebuilds of one period that lose to another before one is built inside the writer.
    private const int OffWriterAttempts = 3;
    private readonly SummaryOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private DateTimeOffset _firstDirtyTime;

    // Ledger deadlines crossed up to this instant have marked their periods dirty (UTC ticks).
    private long _deadlinesSeenTicks;

    /// <summary>
    /// A test seam between an off-writer build and keeping it: awaited with the period, keyed by data folder so that
    /// nodes in one test process do not see each other's. Lets a test commit a change while a rebuild is in flight.
    /// </summary>
    internal static System.Collections.Concurrent.ConcurrentDictionary<string, Func<string, Task>> BeforeKeep { get; } = new(StringComparer.Ordinal);

    /// <summary>Periods waiting for a rebuild (read by the status endpoint; approximate).</summary>
    public int PendingRebuildCount
    {
        get
        {
            lock (_gate)
            {
                return _dirty.Count;
            }
        }
    }

    /// <summary>
    /// Rebuilds the period's summary now if anything changed since the last one, and returns the
    /// current summary (null when the node has none for the period). Used by pulls, which must answer
    /// with what was just applied rather than wait for the coalescing delay.
    /// </summary>
    public async Task<SummaryDocument?> RebuildIfDirtyAsync(string period, CancellationToken cancellationToken)
    {
        bool dirty;
        lock (_gate)
        {
            dirty = _dirty.Remove(period);
        }

        // A committed write marks its periods in the same transaction, so the persisted mark is there even
        // before the scheduler has heard of the change.
        if (!dirty && store.Read(s => s.Dirty.ById(period)) is null)
        {
            return store.Read(s => s.Summaries.ById(period));
        }

        var summary = await RebuildAsync(period, cancellationToken);
        outboxSignal.Notify();
        return summary;
    }

    /// <summary>
    /// Reads the period's inputs under the store's gate, builds and signs its summary off the writer, then keeps
    /// it through the writer if it still numbers right; writes committed meanwhile marked the period again, so
    /// their rebuild follows. If other rebuilds of the period keep getting there first, the last try builds
    /// inside the writer, where nothing can come between.
    /// </summary>
    private async Task<SummaryDocument?> RebuildAsync(string period, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < OffWriterAttempts; attempt++)
        {
            var plan = rebuilder.Build(store.Read(s => rebuilder.Read(s, period)));
            if (BeforeKeep.TryGetValue(store.DataPath, out var pause))
            {
                await pause(period);
            }

            var (kept, current) = await writer.ExecuteAsync(context =>
            {
                if (!plan.Inputs.StillNumbers(context.Store))
                {
                    return (false, null);
                }

                plan.Inputs.ClearMarkIfUnchanged(context.Store);
                return (true, rebuilder.Store(context.Store, plan));
            }, cancellationToken);
            if (kept)
            {
                return current;
            }
        }

        return await writer.ExecuteAsync(context =>
        {
            // The rebuild sees every change made before it in this batch.
            context.DirtyPeriods.Remove(period);
            return rebuilder.Rebuild(context.Store, period);
        }, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var reader = changes.Reader;
        try
        {
            // Marks persisted before a stop or crash; anything committed since arrives through the reader too.
            foreach (var dirty in store.Read(static s => s.Dirty.FindAll().Select(static d => d.Id).ToList()))
            {
                MarkDirty(dirty);
            }

            // Deadlines crossed while the node was stopped: those periods are rebuilt once (a summary already right is kept).
            _deadlinesSeenTicks = time.GetUtcNow().UtcTicks;
            foreach (var period in store.Read(s => s.PeriodsTurningOverdue(long.MinValue, _deadlinesSeenTicks)))
            {
                MarkDirty(period);
            }

            while (!stoppingToken.IsCancellationRequested)
            {
                DateTimeOffset? due = null;
                lock (_gate)
                {
                    if (_dirty.Count > 0)
                    {
                        var quiet = time.GetUtcNow() + _options.CoalesceDelay;
                        var latest = _firstDirtyTime + _options.MaxCoalesceDelay;
                        due = quiet < latest ? quiet : latest;
                    }
                }

                var deadline = store.Read(s => s.NextOverdueFrom(_deadlinesSeenTicks));
                if (deadline is { } crossing && crossing <= time.GetUtcNow())
                {
                    MarkDeadlinesCrossed();
                    continue;
                }

                var wakeAt = due is { } d && (deadline is not { } c || d <= c) ? due : deadline;
                if (wakeAt is { } at)
                {
                    // A deadline may be months away; a timer cannot wait that long, so the loop looks again every hour.
                    var wait = at - time.GetUtcNow();
                    wait = wait < s_longestWait ? wait : s_longestWait;
                    if (wait <= TimeSpan.Zero || !await WaitForChangeAsync(reader, wait, stoppingToken))
                    {
                        if (due is { } rebuildAt && rebuildAt <= time.GetUtcNow())
                        {
                            await RebuildDirtyAsync(stoppingToken);
                        }

                        // Otherwise a deadline is reached (or the timer woke early): the next turn sees which.
                        continue;
                    }
                }
                else if (!await reader.WaitToReadAsync(stoppingToken))
                {
                    break;
                }

                while (reader.TryRead(out var period))
                {
                    MarkDirty(period);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the persisted marks bring the remaining rebuilds back at the next start.
        }
    }

    private async Task<bool> WaitForChangeAsync(System.Threading.Channels.ChannelReader<string> reader, TimeSpan wait, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var change = reader.WaitToReadAsync(cts.Token).AsTask();
        var timer = Task.Delay(wait, time, cts.Token);
        var first = await Task.WhenAny(change, timer);
        await cts.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
        return first == change && change.IsCompletedSuccessfully && await change;
    }

    /// <summary>Marks the periods of items whose deadline passed since the last look, up to now.</summary>
    private void MarkDeadlinesCrossed()
    {
        var now = time.GetUtcNow().UtcTicks;
        foreach (var period in store.Read(s => s.PeriodsTurningOverdue(_deadlinesSeenTicks, now)))
        {
            RebuildLog.DeadlineCrossed(logger, period);
            MarkDirty(period);
        }

        _deadlinesSeenTicks = now;
    }

    private void MarkDirty(string period)
    {
        lock (_gate)
        {
            if (_dirty.Count == 0)
            {
                _firstDirtyTime = time.GetUtcNow();
            }

            _dirty.Add(period);
        }
    }

    /// <summary>Rebuilds every dirty period, each as its own write so that one failure does not hold back the others.</summary>
    private async Task RebuildDirtyAsync(CancellationToken stoppingToken)
    {
        List<string> periods;
        lock (_gate)
        {
            periods = [.. _dirty.Order(StringComparer.Ordinal)];
            _dirty.Clear();
        }

        var rebuilds = periods.Select(period => (Period: period, Task: RebuildAsync(period, stoppingToken))).ToList();
        foreach (var (period, task) in rebuilds)
        {
            try
            {
                await task;
            }
            catch (StoreClosedException)
            {
                // The node is stopping (or halted on a full disk, which the writer logged); the dirty mark stays.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The persisted dirty mark stays, so the rebuild is tried again at the next start.
                RebuildLog.RebuildFailed(logger, period, ex);
            }
        }

        outboxSignal.Notify();
    }
}

/// <summary>Source-generated log messages of summary rebuilds.</summary>
internal static partial class RebuildLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Rebuilding the summary of period {Period} failed; it will be retried at the next start")]
    public static partial void RebuildFailed(ILogger logger, string period, Exception exception);

    // Debug: a rebuild follows every burst of writes; federation.rebuild.duration counts them.
    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Rebuilt summary of period {Period} as version {Version}: {ReportedLeafCount}/{ExpectedLeafCount} leaves")]
    public static partial void Rebuilt(ILogger logger, string period, long version, uint reportedLeafCount, uint expectedLeafCount);

    [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "A rectification ledger item of period {Period} reached its deadline; the summary is rebuilt")]
    public static partial void DeadlineCrossed(ILogger logger, string period);
}
