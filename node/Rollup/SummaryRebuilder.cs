using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Review;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Aggregator.Units;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Operations;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>
/// Rebuilds this node's summary for a period from what it stores, signs it, keeps it and puts it in
/// the outbox. Runs on the writer, inside its transaction, so it sees one consistent state.
/// </summary>
internal sealed class SummaryRebuilder(
    NodeIdentity identity, CatalogueIndex catalogue, IOptions<NodeOptions> options, TimeProvider time, ILogger<SummaryRebuilder> logger,
    NodeMetrics? metrics = null)
{
    private readonly bool _hasParent = options.Value.Parent.IsConfigured;

    /// <summary>
    /// Rebuilds the period's summary and returns the current one. A new version is signed and queued only
    /// when an input changed: a rebuild whose contributions, coverage (stale and silent sets included),
    /// aggregates and catalogue equal the current summary's keeps it. A period with no report, no child
    /// summary and no ledger item gets no summary at all (null), so a pull or a stale mark on an empty period
    /// writes nothing. Ledger items are tallied at the build time, so an item past its deadline counts as overdue.
    /// </summary>
    public SummaryDocument? Rebuild(NodeStore store, string period)
    {
        var start = metrics?.Start() ?? 0;
        var now = time.GetUtcNow();
        var reports = store.Reports.Find(r => r.Period == period).ToDictionary(static r => r.UnitId, StringComparer.Ordinal);
        var held = store.ChildSummaries.Find(s => s.Period == period).ToDictionary(static s => s.ChildId, StringComparer.Ordinal);
        var replaced = store.Summaries.FindById(period);
        var rating = OwnRatingOf(store, period);
        store.Dirty.Delete(period);

        // The ledger is tallied at the build time: an item past its deadline counts as overdue from then on.
        var ledgers = store.TallyLedgers(period, now);
        var withItems = ledgers.Select(static l => l.Tally.UnitId).ToHashSet(StringComparer.Ordinal);
        if (reports.Count == 0 && held.Count == 0 && ledgers.Count == 0 && replaced is null && rating is null)
        {
            // Nothing below has figures for the period: coverage alone is not worth a signed summary. Once a
            // summary was signed, though, it is rebuilt even empty, so that a withdrawal reaches the parent.
            RebuildLog.NothingToSummarise(logger, period);
            metrics?.Rebuilt(start, "empty");
            return replaced;
        }

        var parsedPeriod = Period.Parse(period);
        var hosted = store.Units.FindAll()
            .Where(unit => reports.ContainsKey(unit.Id) || withItems.Contains(unit.Id) || UnitRules.IsExpected(unit.RetiredFromPeriod, parsedPeriod))
            .Select(unit => reports.TryGetValue(unit.Id, out var r)
                ? HostedInput(store, unit.Id, period, r)
                : new HostedUnitInput(unit.Id, null, []))
            .ToList();
        var children = store.Children.FindAll()
            .Select(child => held.TryGetValue(child.Id, out var s)
                ? new ChildInput(child.Id, Summary.Parser.ParseFrom(s.SummaryBytes), s.Digest, new DateTimeOffset(s.ReceiveTicks, TimeSpan.Zero), (uint)child.ExpectedLeafCount)
                : new ChildInput(child.Id, null, [], default, (uint)child.ExpectedLeafCount))
            .ToList();

        var stale = store.Stale.Find(s => s.Period == period).Select(static s => s.ChildId).ToHashSet(StringComparer.Ordinal);
        // Monotonic and boundable by the parent's clock: max(previous + 1, build time in Unix ms), and above
        // any version the parent says it holds (a folder restored from backup must not reuse one).
        var floor = store.VersionFloor(period);
        var version = (long)VersionRules.NextVersion((ulong)Math.Max(replaced?.Version ?? 0, floor), now);
        var summary = SummaryBuilder.Build(new SummaryInputs(
            identity.NodeId, identity.Tier, Period.Parse(period), (ulong)version, now, catalogue, hosted,
            [.. children.Select(c => stale.Contains(c.ChildId) ? c with { Stale = true } : c)])
        {
            Rating = rating,
            Ledgers = [.. ledgers.Select(static l => new LedgerInput(l.Tally, l.Digest))],
        });
        if (replaced is not null && replaced.Version > floor && SameContent(summary, Summary.Parser.ParseFrom(replaced.SummaryBytes)))
        {
            RebuildLog.Unchanged(logger, period, replaced.Version);
            metrics?.Rebuilt(start, "unchanged");
            return replaced;
        }

        // Every tally the new summary cites is kept by its digest, so that an audit can be given the exact bytes.
        foreach (var ledger in ledgers.Where(l => summary.Contributions.Any(c => c.Kind == ContributionKind.Ledger && c.Digest.Span.SequenceEqual(l.Digest))))
        {
            store.KeepTally(ledger);
        }

        var signed = SignedMessages.SignSummary(summary, identity.Key);
        var document = new SummaryDocument
        {
            Id = period,
            Period = period,
            Version = version,
            SummaryBytes = signed.SummaryBytes.ToByteArray(),
            Signature = signed.Signature.ToByteArray(),
            KeyId = signed.KeyId,
            Digest = Digests.Sha256(signed.SummaryBytes.Span),
            BuildTicks = now.UtcTicks,
        };
        if (replaced is not null)
        {
            store.SummaryHistory.Upsert(replaced.ToHistory());
        }

        store.Summaries.Upsert(document);
        if (_hasParent)
        {
            var queued = store.Outbox.FindById(period) is { QueuedTicks: > 0 } waiting ? waiting.QueuedTicks : now.UtcTicks;
            store.Outbox.Upsert(new OutboxDocument { Id = period, Version = version, NextAttemptTicks = now.UtcTicks, QueuedTicks = queued });
        }

        RebuildLog.Rebuilt(logger, period, version, summary.Coverage.ReportedLeafCount, summary.Coverage.ExpectedLeafCount);
        metrics?.Rebuilt(start, "signed");
        return document;
    }

    /// <summary>
    /// For a year: this node's current rating statement, cited by version and digest with its star histograms;
    /// null for other periods, or when the statement rates nobody.
    /// </summary>
    private static OwnRating? OwnRatingOf(NodeStore store, string period)
    {
        if (!Period.TryParse(period, out var parsed) || parsed.Type != PeriodType.Year || store.CurrentStatement(period) is not { } current)
        {
            return null;
        }

        var statement = RatingStatement.Parser.ParseFrom(current.StatementBytes);
        return statement.Units.Count == 0 ? null : new OwnRating(
            new RatingCitation { Version = (ulong)current.Version, Digest = Google.Protobuf.ByteString.CopyFrom(current.Digest), RatedUnitCount = (uint)statement.Units.Count },
            statement.Histograms);
    }

    /// <summary>A hosted unit's current report with where it stands in review.</summary>
    private static HostedUnitInput HostedInput(NodeStore store, string unitId, string period, ReportDocument report)
    {
        var record = store.RecordOf(unitId, period);
        var parsed = UnitReport.Parser.ParseFrom(report.Bytes);
        return new HostedUnitInput(unitId, parsed, report.Digest,
            Approved: ReviewRules.Current(record, report.Digest) == ReviewState.Approved,
            CorrectedAfterApproval: ReviewRules.CorrectedAfterApproval(record, parsed.Version));
    }

    /// <summary>True when two summaries differ at most in version and build time: the same inputs, the same figures.</summary>
    private static bool SameContent(Summary rebuilt, Summary current)
    {
        var comparable = rebuilt.Clone();
        comparable.Version = current.Version;
        comparable.BuildTime = current.BuildTime;
        return comparable.Equals(current);
    }

    /// <summary>The instant a stored tick count stands for.</summary>
    public static Timestamp ToTimestamp(long utcTicks) => Timestamp.FromDateTimeOffset(new DateTimeOffset(utcTicks, TimeSpan.Zero));
}

/// <summary>Source-generated log messages of rebuilds that write nothing.</summary>
internal static partial class RebuildLog
{
    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Summary of period {Period} unchanged at version {Version}; no new version")]
    public static partial void Unchanged(ILogger logger, string period, long version);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "Nothing below has figures for period {Period}; no summary")]
    public static partial void NothingToSummarise(ILogger logger, string period);
}
