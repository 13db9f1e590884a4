using System.Threading.Channels;
using Federation.Node.Configuration;
using Federation.Node.Rollup;
using Microsoft.Extensions.Options;

namespace Federation.Node.Storage;

/// <summary>What a write operation sees: the store inside the open transaction, and the clock.</summary>
internal sealed class WriteContext(NodeStore store, TimeProvider time)
{
    public NodeStore Store { get; } = store;

    public HashSet<string> DirtyPeriods { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset UtcNow() => time.GetUtcNow();

    /// <summary>Records, in the same transaction as the change, that the period's summary must be rebuilt.</summary>
    public void MarkDirty(string period)
    {
        Store.Dirty.Upsert(new DirtyDocument { Id = period, MarkedTicks = UtcNow().UtcTicks });
        DirtyPeriods.Add(period);
    }
}

/// <summary>Raised to callers whose write arrives after the node began to stop.</summary>
internal sealed class StoreClosedException() : Exception("The node is stopping and accepts no more writes.");

/// <summary>
/// The single writer. Concurrent writes are grouped into one LiteDB transaction (group commit): each
/// commit writes and fsyncs the log on this thread, so a caller's task completes only once its change
/// is durable. After a quiet moment it rebuilds, signs and enqueues the summaries of changed periods;
/// the dirty marks are persisted with the changes, so a restart resumes any rebuild a crash cut short.
/// </summary>
internal sealed class StoreWriter(
    NodeStore store, SummaryRebuilder rebuilder, OutboxSignal outboxSignal, IOptions<SummaryOptions> options, TimeProvider time, ILogger<StoreWriter> logger)
    : BackgroundService
{
    private const int MaxBatchSize = 512;
    private readonly Channel<IWriteOperation> _queue = Channel.CreateUnbounded<IWriteOperation>();
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly SummaryOptions _options = options.Value;
    private DateTimeOffset _firstDirtyTime;

    /// <summary>Periods waiting for a rebuild (read by the status endpoint; approximate).</summary>
    public int PendingRebuildCount => Volatile.Read(ref _pendingRebuildCount);

    private int _pendingRebuildCount;

    /// <summary>Runs <paramref name="operation"/> in the next group commit; completes once it is durable.</summary>
    /// <remarks>The operation must be synchronous and may run twice if another operation in its batch fails.</remarks>
    public Task<T> ExecuteAsync<T>(Func<WriteContext, T> operation, CancellationToken cancellationToken)
    {
        var write = new WriteOperation<T>(operation);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new StoreClosedException();
        }

        // Cancelling stops the wait, not the write: once queued it commits or fails on its own.
        return write.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Rebuilds the period's summary now if anything changed since the last one, and returns the
    /// current summary (null when the node has none for the period). Used by pulls, which must answer
    /// with what was just applied rather than wait for the coalescing delay.
    /// </summary>
    public Task<SummaryDocument?> RebuildIfDirtyAsync(string period, CancellationToken cancellationToken) =>
        ExecuteAsync<SummaryDocument?>(context =>
        {
            // Runs on the writer loop, so the in-memory dirty set may be touched here.
            if (context.DirtyPeriods.Remove(period) | _dirty.Remove(period) | context.Store.Dirty.FindById(period) is not null)
            {
                var rebuilt = rebuilder.Rebuild(context.Store, period);
                outboxSignal.Notify();
                return rebuilt;
            }

            return context.Store.Summaries.FindById(period);
        }, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        foreach (var dirty in store.Read(static s => s.Dirty.FindAll().ToList()))
        {
            MarkDirty(dirty.Id);
        }

        RebuildDirty();
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                if (_dirty.Count > 0)
                {
                    var wait = Min(_options.CoalesceDelay, _firstDirtyTime + _options.MaxCoalesceDelay - time.GetUtcNow());
                    if (wait <= TimeSpan.Zero || !await WaitForWorkAsync(reader, wait, stoppingToken))
                    {
                        RebuildDirty();
                        continue;
                    }
                }
                else if (!await reader.WaitToReadAsync(stoppingToken))
                {
                    break;
                }

                CommitBatch(Drain(reader));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: finish what was queued below.
        }

        _queue.Writer.TryComplete();
        for (var batch = Drain(reader); batch.Count > 0; batch = Drain(reader))
        {
            CommitBatch(batch);
        }

        RebuildDirty();
    }

    private async Task<bool> WaitForWorkAsync(ChannelReader<IWriteOperation> reader, TimeSpan wait, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var work = reader.WaitToReadAsync(cts.Token).AsTask();
        var timer = Task.Delay(wait, time, cts.Token);
        var first = await Task.WhenAny(work, timer);
        await cts.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
        return first == work && work.IsCompletedSuccessfully && await work;
    }

    private static List<IWriteOperation> Drain(ChannelReader<IWriteOperation> reader)
    {
        var batch = new List<IWriteOperation>();
        while (batch.Count < MaxBatchSize && reader.TryRead(out var item))
        {
            batch.Add(item);
        }

        return batch;
    }

    private void CommitBatch(List<IWriteOperation> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var database = store.Database;
        var context = new WriteContext(store, time);
        lock (store.Gate)
        {
            database.BeginTrans();
            try
            {
                foreach (var write in batch)
                {
                    write.Run(context);
                }

                database.Commit();
            }
            catch (Exception ex)
            {
                database.Rollback();
                if (batch.Count == 1)
                {
                    StoreLog.WriteFailed(logger, ex);
                    batch[0].Fail(ex);
                    return;
                }

                // Isolate the faulty operation so the others still commit.
                foreach (var write in batch)
                {
                    CommitBatch([write]);
                }

                return;
            }
        }

        foreach (var period in context.DirtyPeriods)
        {
            MarkDirty(period);
        }

        foreach (var write in batch)
        {
            write.Complete();
        }
    }

    private void MarkDirty(string period)
    {
        if (_dirty.Count == 0)
        {
            _firstDirtyTime = time.GetUtcNow();
        }

        _dirty.Add(period);
        Volatile.Write(ref _pendingRebuildCount, _dirty.Count);
    }

    private void RebuildDirty()
    {
        if (_dirty.Count == 0)
        {
            return;
        }

        var database = store.Database;
        foreach (var period in _dirty.Order(StringComparer.Ordinal).ToList())
        {
            lock (store.Gate)
            {
                database.BeginTrans();
                try
                {
                    rebuilder.Rebuild(store, period);
                    database.Commit();
                }
                catch (Exception ex)
                {
                    // The persisted dirty mark stays, so the rebuild is tried again at the next start.
                    database.Rollback();
                    StoreLog.RebuildFailed(logger, period, ex);
                }
            }
        }

        _dirty.Clear();
        Volatile.Write(ref _pendingRebuildCount, 0);
        outboxSignal.Notify();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private interface IWriteOperation
    {
        void Run(WriteContext context);

        void Complete();

        void Fail(Exception exception);
    }

    private sealed class WriteOperation<T>(Func<WriteContext, T> operation) : IWriteOperation
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;

        public void Run(WriteContext context) => _result = operation(context);

        public void Complete() => _completion.TrySetResult(_result!);

        public void Fail(Exception exception) => _completion.TrySetException(exception);
    }
}

/// <summary>Source-generated log messages of the storage layer.</summary>
internal static partial class StoreLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "A write failed and was rolled back")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Rebuilding the summary of period {Period} failed; it will be retried at the next start")]
    public static partial void RebuildFailed(ILogger logger, string period, Exception exception);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Rebuilt summary of period {Period} as version {Version}: {ReportedLeafCount}/{ExpectedLeafCount} leaves")]
    public static partial void Rebuilt(ILogger logger, string period, long version, uint reportedLeafCount, uint expectedLeafCount);
}
