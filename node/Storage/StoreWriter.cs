using System.Threading.Channels;

namespace Federation.Node.Storage;

/// <summary>What a write operation sees: the store inside the open transaction, and the clock.</summary>
internal sealed class WriteContext(NodeStore store, TimeProvider time)
{
    public NodeStore Store { get; } = store;

    public HashSet<string> DirtyPeriods { get; } = new(StringComparer.Ordinal);

    // The operation running in this batch, counted from 0, and what the operation before it kept for its successor.
    private int _sequence = -1;
    private object? _kept;
    private int _keptAt = -1;

    public DateTimeOffset UtcNow() => time.GetUtcNow();

    /// <summary>Records, in the same transaction as the change, that the period's summary must be rebuilt.</summary>
    public void MarkDirty(string period)
    {
        // Once per period and batch: the mark is one document, and the batch commits or fails whole.
        if (DirtyPeriods.Add(period))
        {
            var sequence = (Store.Dirty.ById(period)?.Sequence ?? 0) + 1;
            Store.Dirty.Upsert(new DirtyDocument { Id = period, MarkedTicks = UtcNow().UtcTicks, Sequence = sequence });
        }
    }

    /// <summary>
    /// Marks every period a summary may cover dirty, for a change that touches them all (a unit hosted or retired, a
    /// stand-in leaf count): those with a summary, and those marked already. A period marked but not yet summarised
    /// may have its first summary being built from inputs read before this change; marking it again keeps its mark
    /// past that rebuild, so another follows.
    /// </summary>
    public void MarkEveryPeriodDirty()
    {
        var periods = Store.Summaries.Query().Select(static s => s.Id).ToList()
            .Concat(Store.Dirty.Query().Select(static d => d.Id).ToList())
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var period in periods)
        {
            MarkDirty(period);
        }
    }

    /// <summary>
    /// What the operation just before this one in the batch kept with <see cref="Keep"/>, or null. Only the
    /// directly preceding operation counts: any other write in between may have changed what it read, so a
    /// run of operations of one kind can share their reads while everything else starts afresh.
    /// </summary>
    public T? Kept<T>() where T : class => _keptAt == _sequence - 1 ? _kept as T : null;

    /// <summary>Hands <paramref name="state"/>, kept true to the open transaction, to the next operation of the batch.</summary>
    public void Keep(object state)
    {
        _kept = state;
        _keptAt = _sequence;
    }

    /// <summary>Called by the writer before each operation of the batch.</summary>
    internal void BeginOperation() => _sequence++;
}

/// <summary>Raised to callers whose write arrives after the node began to stop.</summary>
internal sealed class StoreClosedException() : Exception("The node is stopping and accepts no more writes.");

/// <summary>
/// The single writer. Concurrent writes are grouped into one LiteDB transaction (group commit), committed
/// into the log under the store's gate. A second loop, the flusher, fsyncs the log outside the gate while
/// the next group runs, and completes a caller's task only once its change is durable: one fsync covers
/// every group committed before it (the log is written in order), and neither the next group nor reads wait
/// for the disk. The periods a group marked dirty are then published to <see cref="PeriodChanges"/>;
/// rebuilding them is not the writer's business.
/// </summary>
internal sealed class StoreWriter(
    NodeStore store, PeriodChanges changes, TimeProvider time, ILogger<StoreWriter> logger, IHostApplicationLifetime lifetime) : BackgroundService
{
    private const int MaxBatchSize = 512;
    private readonly Channel<IWriteOperation> _queue = Channel.CreateUnbounded<IWriteOperation>();

    // Set by the flusher once an fsync failed; read by it alone.
    private bool _flushFailed;

    // Groups committed into the log, in commit order, waiting to be made durable and acknowledged.
    private readonly Channel<CommittedGroup> _committed = Channel.CreateUnbounded<CommittedGroup>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>The process exit code the writer asks for: non-zero once it stopped the node on a storage failure.</summary>
    public int ExitCode => Volatile.Read(ref _exitCode);

    private int _exitCode;

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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var flusher = Task.Run(FlushCommittedAsync, CancellationToken.None);
        var reader = _queue.Reader;
        try
        {
            while (ExitCode == 0 && await reader.WaitToReadAsync(stoppingToken))
            {
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

        // Everything committed is made durable and acknowledged before the store may close.
        _committed.Writer.TryComplete();
        await flusher;
    }

    /// <summary>
    /// Fsyncs the log for every group committed so far, records it in the manifest, then acknowledges those groups.
    /// A failed fsync leaves nothing known durable: the node stops, as on a full disk.
    /// </summary>
    private async Task FlushCommittedAsync()
    {
        var reader = _committed.Reader;
        var groups = new List<CommittedGroup>();
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            groups.Clear();
            while (reader.TryRead(out var group))
            {
                groups.Add(group);
            }

            // After a failed fsync a later one may report success for pages the kernel has dropped (Linux marks them
            // clean): nothing more is acknowledged. Otherwise, even once the node is stopping on a failure (a full disk
            // at commit), what an fsync covers is durable and acknowledged.
            if (_flushFailed)
            {
                groups.ForEach(static g => FailAll(g.Writes));
                continue;
            }

            LogMark durable;
            try
            {
                durable = store.FlushLog(groups[^1].Mark);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                _flushFailed = true;
                StopOnFailedFlush(ex, groups);
                continue;
            }

            Exception? recordFailure = null;
            try
            {
                lock (store.Gate)
                {
                    store.RecordDurable(durable);
                }
            }
            catch (Exception ex) when (ex is IOException or LiteDB.LiteException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The log is durable; the manifest may stay older than it, which a start accepts. A checkpoint that
                // cannot write is a disk in trouble all the same.
                recordFailure = ex;
            }

            foreach (var group in groups)
            {
                changes.Publish(group.DirtyPeriods);
                foreach (var write in group.Writes)
                {
                    write.Complete();
                }
            }

            if (recordFailure is not null)
            {
                StopOnFailedFlush(recordFailure, []);
            }
        }
    }

    private void StopOnFailedFlush(Exception exception, List<CommittedGroup> groups)
    {
        Volatile.Write(ref _exitCode, 1);
        _queue.Writer.TryComplete();
        if (StoreFaults.IsDiskFull(exception))
        {
            var freeBytes = StoreFaults.FreeBytes(store.DataPath);
            StoreLog.DiskFull(logger, store.DataPath, freeBytes, exception.Message);
        }
        else
        {
            StoreLog.FlushFailed(logger, store.DataPath, exception.Message);
        }

        groups.ForEach(static g => FailAll(g.Writes));
        lifetime.StopApplication();
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

        if (ExitCode != 0)
        {
            FailAll(batch);
            return;
        }

        var database = store.Database;
        var context = new WriteContext(store, time);
        LogMark mark;
        lock (store.Gate)
        {
            database.BeginTrans();
            try
            {
                foreach (var write in batch)
                {
                    context.BeginOperation();
                    write.Run(context);
                }

                mark = store.CommitToLog();
            }
            catch (Exception ex) when (StoreFaults.IsDiskFull(ex))
            {
                StoreFaults.TryRollback(store);
                Halt(ex, batch);
                return;
            }
            catch (Exception ex)
            {
                store.Rollback();
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

        _committed.Writer.TryWrite(new CommittedGroup(batch, context.DirtyPeriods, mark));
    }

    /// <summary>
    /// The disk is full: nothing more can be made durable, so nothing more is acknowledged. Every pending
    /// write fails (callers see Unavailable), and the node stops with a non-zero exit code so that a
    /// restart-on-failure supervisor notices, instead of serving reads while refusing every write.
    /// </summary>
    private void Halt(Exception exception, List<IWriteOperation> batch)
    {
        Volatile.Write(ref _exitCode, 1);
        _queue.Writer.TryComplete();
        var freeBytes = StoreFaults.FreeBytes(store.DataPath);
        StoreLog.DiskFull(logger, store.DataPath, freeBytes, exception.Message);
        FailAll(batch);
        for (var pending = Drain(_queue.Reader); pending.Count > 0; pending = Drain(_queue.Reader))
        {
            FailAll(pending);
        }

        lifetime.StopApplication();
    }

    private static void FailAll(List<IWriteOperation> batch)
    {
        foreach (var write in batch)
        {
            write.Fail(new StoreClosedException());
        }
    }

    /// <summary>A group committed into the log: its writes, the periods it marked dirty, and where the log then stood.</summary>
    private sealed record CommittedGroup(List<IWriteOperation> Writes, HashSet<string> DirtyPeriods, LogMark Mark);

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

    [LoggerMessage(EventId = 110, Level = LogLevel.Critical,
        Message = "The disk holding {DataPath} is full ({FreeBytes} bytes free): {Error}. Nothing more was acknowledged; the node stops. Free space, then start it again")]
    public static partial void DiskFull(ILogger logger, string dataPath, long freeBytes, string error);

    [LoggerMessage(EventId = 111, Level = LogLevel.Critical,
        Message = "Making the log in {DataPath} durable failed: {Error}. Nothing more was acknowledged; the node stops. Check the disk, then start it again")]
    public static partial void FlushFailed(ILogger logger, string dataPath, string error);
}
