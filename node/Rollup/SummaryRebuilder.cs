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
/// Rebuilds this node's summary for a period from what it stores, signs it, keeps it and puts it in the
/// outbox. Reading happens under the store's gate, so the summary is of one consistent state; building and
/// signing touch no store; keeping it is a write.
/// </summary>
internal sealed class SummaryRebuilder(
    NodeIdentity identity, CatalogueIndex catalogue, IOptions<NodeOptions> options, TimeProvider time, ILogger<SummaryRebuilder> logger,
    NodeMetrics? metrics = null, ParsedSummaryCache? parsed = null)
{
    // Child summaries as parsed at receipt, found by digest; a rebuild parses only what it misses.
    private readonly ParsedSummaryCache _parsed = parsed ?? new ParsedSummaryCache();

    private readonly bool _hasParent = options.Value.Parent.IsConfigured;

    /// <summary>
    /// Rebuilds the period's summary in the open transaction and returns the current one (see <see cref="Build"/>).
    /// The offline rebuild and the writer's fallback use it; a running node reads, builds and stores in three
    /// steps (see <see cref="RebuildScheduler"/>), so that commits do not wait while a summary is built and signed.
    /// </summary>
    public SummaryDocument? Rebuild(NodeStore store, string period)
    {
        ArgumentNullException.ThrowIfNull(store);
        var inputs = Read(store, period);
        store.Dirty.Delete(period);
        return Store(store, Build(inputs));
    }

    /// <summary>Everything the period's summary is built from, as stored now; to be called under the store's gate.</summary>
    public RebuildInputs Read(NodeStore store, string period)
    {
        ArgumentNullException.ThrowIfNull(store);
        var now = time.GetUtcNow();
        var reports = store.Reports.Find(r => r.Period == period).ToDictionary(static r => r.UnitId, StringComparer.Ordinal);
        var ledgers = store.TallyLedgers(period, now);
        var withItems = ledgers.Select(static l => l.Tally.UnitId).ToHashSet(StringComparer.Ordinal);
        var parsedPeriod = Period.Parse(period);
        var hosted = store.Units.FindAll()
            .Where(unit => reports.ContainsKey(unit.Id) || withItems.Contains(unit.Id) || UnitRules.IsExpected(unit.RetiredFromPeriod, parsedPeriod))
            .Select(unit => new HostedRead(unit.Id, reports.GetValueOrDefault(unit.Id), reports.ContainsKey(unit.Id) ? store.RecordOf(unit.Id, period) : null))
            .ToList();
        return new RebuildInputs(
            period, now, hosted,
            store.ChildSummaries.Find(s => s.Period == period).ToDictionary(static s => s.ChildId, StringComparer.Ordinal),
            store.Children.FindAll().ToList(),
            store.Stale.Find(s => s.Period == period).Select(static s => s.ChildId).ToHashSet(StringComparer.Ordinal),
            store.Summaries.ById(period),
            store.VersionFloor(period),
            OwnRatingOf(store, period),
            ledgers,
            store.Dirty.ById(period)?.Sequence);
    }

    /// <summary>
    /// Builds and signs the summary the inputs call for, touching no store. A new version is signed only when an
    /// input changed: a rebuild whose contributions, coverage (stale and silent sets included), aggregates and
    /// catalogue equal the current summary's keeps it. A period with no report, no child summary and no ledger
    /// item gets no summary at all, so a pull or a stale mark on an empty period writes nothing. Ledger items
    /// are tallied at the read, so an item past its deadline counts as overdue.
    /// </summary>
    public RebuildPlan Build(RebuildInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var start = metrics?.Start() ?? 0;
        var (period, now, replaced) = (inputs.Period, inputs.ReadTime, inputs.Replaced);
        if (inputs.Hosted.All(static h => h.Report is null) && inputs.Held.Count == 0 && inputs.Ledgers.Count == 0 && replaced is null && inputs.Rating is null)
        {
            // Nothing below has figures for the period: coverage alone is not worth a signed summary. Once a
            // summary was signed, though, it is rebuilt even empty, so that a withdrawal reaches the parent.
            RebuildLog.NothingToSummarise(logger, period);
            metrics?.Rebuilt(start, "empty");
            return new RebuildPlan(inputs, null, []);
        }

        // Reports go to the builder as stored, which reads their values straight from the bytes.
        var silent = inputs.Hosted.Where(static h => h.Report is null).Select(static h => new HostedUnitInput(h.UnitId, null, [])).ToList();
        var reported = inputs.Hosted.Where(static h => h.Report is not null).Select(static h => StoredInput(h.UnitId, h.Report!, h.Record)).ToList();
        var children = inputs.Children
            .Select(child => inputs.Held.TryGetValue(child.Id, out var s)
                ? new ChildInput(child.Id, _parsed.GetOrParse(s.Digest, s.SummaryBytes), s.Digest, new DateTimeOffset(s.ReceiveTicks, TimeSpan.Zero), (uint)child.ExpectedLeafCount)
                : new ChildInput(child.Id, null, [], default, (uint)child.ExpectedLeafCount))
            .Select(c => inputs.Stale.Contains(c.ChildId) ? c with { Stale = true } : c)
            .ToList();

        // Monotonic and boundable by the parent's clock: max(previous + 1, build time in Unix ms), and above
        // any version the parent says it holds (a folder restored from backup must not reuse one).
        var version = (long)VersionRules.NextVersion((ulong)Math.Max(replaced?.Version ?? 0, inputs.Floor), now);
        var summary = SummaryBuilder.Build(new SummaryInputs(
            identity.NodeId, identity.Tier, Period.Parse(period), (ulong)version, now, catalogue, silent, children)
        {
            StoredReports = reported,
            Rating = inputs.Rating,
            Ledgers = [.. inputs.Ledgers.Select(static l => new LedgerInput(l.Tally, l.Digest))],
        });
        if (replaced is not null && replaced.Version > inputs.Floor && SameContent(summary, Summary.Parser.ParseFrom(replaced.SummaryBytes)))
        {
            RebuildLog.Unchanged(logger, period, replaced.Version);
            metrics?.Rebuilt(start, "unchanged");
            return new RebuildPlan(inputs, null, []);
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

        // Every tally the new summary cites is kept by its digest, so that an audit can be given the exact bytes.
        var cited = inputs.Ledgers.Where(l => summary.Contributions.Any(c => c.Kind == ContributionKind.Ledger && c.Digest.Span.SequenceEqual(l.Digest))).ToList();
        RebuildLog.Rebuilt(logger, period, version, summary.Coverage.ReportedLeafCount, summary.Coverage.ExpectedLeafCount);
        metrics?.Rebuilt(start, "signed");
        return new RebuildPlan(inputs, document, cited);
    }

    /// <summary>
    /// Keeps what <see cref="Build"/> signed, in the open transaction, and returns the current summary. The caller
    /// checks first that the plan still numbers right (<see cref="RebuildInputs.StillNumbers"/>).
    /// </summary>
    public SummaryDocument? Store(NodeStore store, RebuildPlan plan)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Signed is not { } document)
        {
            return plan.Inputs.Replaced;
        }

        foreach (var tally in plan.CitedTallies)
        {
            store.KeepTally(tally);
        }

        if (plan.Inputs.Replaced is { } replaced)
        {
            store.SummaryHistory.Upsert(replaced.ToHistory());
        }

        store.Summaries.Upsert(document);
        if (_hasParent)
        {
            var now = document.BuildTicks;
            var queued = store.Outbox.ById(document.Id) is { QueuedTicks: > 0 } waiting ? waiting.QueuedTicks : now;
            store.Outbox.Upsert(new OutboxDocument { Id = document.Id, Version = document.Version, NextAttemptTicks = now, QueuedTicks = queued });
        }

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

    /// <summary>A hosted unit's current report, as stored, with where it stands in review.</summary>
    private static StoredReportInput StoredInput(string unitId, ReportDocument report, ReviewRecord? record) =>
        new(unitId, report.Bytes, report.Digest,
            Approved: ReviewRules.Current(record, report.Digest) == ReviewState.Approved,
            CorrectedAfterApproval: ReviewRules.CorrectedAfterApproval(record, (ulong)report.Version));

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

/// <summary>A hosted unit as read for a rebuild: its current report (null when none) and where that stands in review.</summary>
internal sealed record HostedRead(string UnitId, ReportDocument? Report, ReviewRecord? Record);

/// <summary>What a rebuild read, in one consistent state of the store.</summary>
internal sealed record RebuildInputs(
    string Period,
    DateTimeOffset ReadTime,
    IReadOnlyList<HostedRead> Hosted,
    IReadOnlyDictionary<string, ChildSummaryDocument> Held,
    IReadOnlyList<ChildDocument> Children,
    IReadOnlySet<string> Stale,
    SummaryDocument? Replaced,
    long Floor,
    OwnRating? Rating,
    IReadOnlyList<StoredTally> Ledgers,
    long? DirtySequence)
{
    /// <summary>
    /// True when the summary built from these inputs still gets the right version: no other summary of the
    /// period was kept and the parent's floor did not move since the read. Later changes to the inputs do not
    /// matter here: each marked the period dirty again, so a next rebuild follows.
    /// </summary>
    public bool StillNumbers(NodeStore store) =>
        store.Summaries.ById(Period)?.Digest is var digest &&
        (digest is null ? Replaced is null : Replaced is not null && digest.AsSpan().SequenceEqual(Replaced.Digest)) &&
        store.VersionFloor(Period) == Floor;

    /// <summary>Clears the period's persisted dirty mark unless a write marked it again after the read.</summary>
    public void ClearMarkIfUnchanged(NodeStore store)
    {
        if (store.Dirty.ById(Period)?.Sequence == DirtySequence)
        {
            store.Dirty.Delete(Period);
        }
    }
}

/// <summary>What a rebuild signed (null when the current summary stands, or there is nothing to summarise) and the tallies it cites.</summary>
internal sealed record RebuildPlan(RebuildInputs Inputs, SummaryDocument? Signed, IReadOnlyList<StoredTally> CitedTallies);
