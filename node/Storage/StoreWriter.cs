using System.Threading.Channels;

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
/// is durable. The periods a commit marked dirty are then published to <see cref="PeriodChanges"/>;
/// rebuilding them is not the writer's business.
/// </summary>
internal sealed class StoreWriter(NodeStore store, PeriodChanges changes, TimeProvider time, ILogger<StoreWriter> logger) : BackgroundService
{
    private const int MaxBatchSize = 512;
    private readonly Channel<IWriteOperation> _queue = Channel.CreateUnbounded<IWriteOperation>();

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
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
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

        changes.Publish(context.DirtyPeriods);
        foreach (var write in batch)
        {
            write.Complete();
        }
    }

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
}
