using Federation.Aggregator.Retention;
using Federation.Node.Configuration;
using Federation.Node.Storage;
using Federation.Protos.V1;
using LiteDB;
using Microsoft.Extensions.Options;

namespace Federation.Node.Retention;

/// <summary>What one pass let go, by kind.</summary>
internal readonly record struct PruneCounts(long Reports, long ChildSummaries, long Summaries)
{
    public long Total => Reports + ChildSummaries + Summaries;

    public static PruneCounts operator +(PruneCounts a, PruneCounts b) => new(a.Reports + b.Reports, a.ChildSummaries + b.ChildSummaries, a.Summaries + b.Summaries);
}

/// <summary>
/// Keeps the history of replaced versions on a bound. Every <see cref="HistoryOptions.PruneInterval"/> it weighs each
/// period with <see cref="HistoryRetention"/> (what a proof can still ask for stays; the rest goes once replaced for
/// <see cref="HistoryOptions.KeepReplacedFor"/>) and removes what the rule lets go in writes of at most
/// <see cref="HistoryOptions.PruneBatchSize"/> documents through the single writer, so submissions queued meanwhile
/// wait for one small write at most. A period's versions are read in one short read, and the rule runs outside it.
/// </summary>
/// <remarks>
/// A decision made on a read stays safe until its writes: new summaries cite only current versions, a version
/// that becomes replaced meanwhile was current when read (kept), and an outbox row appearing later waits on a
/// newer version than any let go.
/// </remarks>
internal sealed class HistoryPruner(NodeStore store, StoreWriter writer, IOptions<HistoryOptions> options, TimeProvider time, ILogger<HistoryPruner> logger)
    : BackgroundService
{
    private readonly HistoryOptions _options = options.Value;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Prune)
        {
            return;
        }

        while (true)
        {
            try
            {
                await Task.Delay(_options.PruneInterval, time, stoppingToken);
                await PruneAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (StoreClosedException)
            {
                return;
            }
            catch (Exception ex) when (ex is LiteException or IOException)
            {
                // A write that failed was rolled back and logged by the writer; the next pass tries again.
                HistoryLog.PassFailed(logger, ex.Message);
            }
        }
    }

    public override void Dispose()
    {
        _oneAtATime.Dispose();
        base.Dispose();
    }

    /// <summary>One pass over every period: removes what the rule lets go now; returns the counts.</summary>
    public Task<PruneCounts> PruneAsync(CancellationToken cancellationToken) => PruneAsync(time.GetUtcNow(), cancellationToken);

    /// <summary>One pass over every period, weighing versions' ages at <paramref name="now"/>; returns the counts.</summary>
    public async Task<PruneCounts> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var total = new PruneCounts();
            foreach (var period in store.Read(static s => s.SummarisedPeriods()))
            {
                total += await PrunePeriodAsync(period, now, cancellationToken);
            }

            if (total.Total > 0)
            {
                HistoryLog.Pruned(logger, total.Reports, total.ChildSummaries, total.Summaries);
            }

            return total;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private async Task<PruneCounts> PrunePeriodAsync(string period, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var versions = store.Read(s => s.VersionsOf(period));
        if (versions.CurrentSummary is null)
        {
            // Nothing signed yet: no proof to weigh against, so nothing goes.
            return default;
        }

        var decision = HistoryRetention.Decide(Inputs(versions, now, _options.KeepReplacedFor));
        var removals = decision.ReportDigests.Select(static d => (Kind: HistoryKind.Report, Id: d))
            .Concat(decision.ChildSummaryDigests.Select(static d => (Kind: HistoryKind.ChildSummary, Id: d)))
            .Concat(decision.OwnSummaryDigests.Select(static d => (Kind: HistoryKind.Summary, Id: d)));
        var removed = new PruneCounts();
        foreach (var batch in removals.Chunk(_options.PruneBatchSize))
        {
            removed += await writer.ExecuteAsync(context => Remove(context, period, batch), cancellationToken);
        }

        return removed;
    }

    /// <summary>One write: removes a batch of replaced versions of a period and counts them in its record.</summary>
    private static PruneCounts Remove(WriteContext context, string period, (HistoryKind Kind, string Id)[] batch)
    {
        var store = context.Store;
        long reports = 0, children = 0, summaries = 0;
        foreach (var (kind, id) in batch)
        {
            switch (kind)
            {
                case HistoryKind.Report:
                    reports += store.ReportHistory.Delete(id) ? 1 : 0;
                    break;
                case HistoryKind.ChildSummary:
                    children += store.ChildSummaryHistory.Delete(id) ? 1 : 0;
                    break;
                default:
                    summaries += store.SummaryHistory.Delete(id) ? 1 : 0;
                    break;
            }
        }

        var record = store.PrunedHistory().ById(period) ?? new PrunedHistoryDocument { Id = period };
        record.ReportCount += reports;
        record.ChildSummaryCount += children;
        record.SummaryCount += summaries;
        record.LastPrunedTicks = context.UtcNow().UtcTicks;
        store.PrunedHistory().Upsert(record);
        return new PruneCounts(reports, children, summaries);
    }

    /// <summary>The rule's view of a period: digests in lower-case hex, as history documents are keyed.</summary>
    private static RetentionInputs Inputs(PeriodVersions versions, DateTimeOffset now, TimeSpan keepReplacedFor)
    {
        var own = versions.OwnSummaries.Select(static s => Own(s, isCurrent: false)).Append(Own(versions.CurrentSummary!, isCurrent: true)).ToList();
        return new RetentionInputs(
            now,
            keepReplacedFor,
            versions.OutboxWaits,
            own,
            [.. versions.Reports.Select(static r => Stored(r, isCurrent: true)).Concat(versions.ReplacedReports.Select(static r => Stored(r, isCurrent: false)))],
            [.. versions.ChildSummaries.Select(static s => Stored(s, isCurrent: true)).Concat(versions.ReplacedChildSummaries.Select(static s => Stored(s, isCurrent: false)))],
            versions.EquivocationDigests.Select(Convert.ToHexStringLower).ToHashSet(StringComparer.Ordinal));
    }

    private static OwnSummaryVersion Own(SummaryDocument summary, bool isCurrent) => new(
        Convert.ToHexStringLower(summary.Digest),
        Instant(summary.BuildTicks),
        isCurrent,
        [.. Summary.Parser.ParseFrom(summary.SummaryBytes).Contributions
            .Where(static c => c.Kind is ContributionKind.UnitReport or ContributionKind.ChildSummary)
            .Select(static c => Convert.ToHexStringLower(c.Digest.Span))]);

    private static StoredVersion Stored(ReportDocument report, bool isCurrent) =>
        new(report.UnitId, Convert.ToHexStringLower(report.Digest), Instant(report.ReceiveTicks), isCurrent);

    private static StoredVersion Stored(ChildSummaryDocument summary, bool isCurrent) =>
        new(summary.ChildId, Convert.ToHexStringLower(summary.Digest), Instant(summary.ReceiveTicks), isCurrent);

    private static DateTimeOffset Instant(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    private enum HistoryKind
    {
        Report,
        ChildSummary,
        Summary,
    }
}

/// <summary>Source-generated log messages of the history's retention.</summary>
internal static partial class HistoryLog
{
    [LoggerMessage(EventId = 170, Level = LogLevel.Information,
        Message = "History: let go {ReportCount} replaced reports, {ChildSummaryCount} child summaries and {SummaryCount} own summaries that no proof can still ask for")]
    public static partial void Pruned(ILogger logger, long reportCount, long childSummaryCount, long summaryCount);

    [LoggerMessage(EventId = 171, Level = LogLevel.Warning, Message = "History: a pass failed ({Error}); the next one tries again")]
    public static partial void PassFailed(ILogger logger, string error);
}
