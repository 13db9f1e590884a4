using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Reports;
using Federation.Aggregator.Review;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Operations;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Reporting;

/// <summary>A stored report's acknowledgement: what it changed against the previous version, and the warnings stored with it.</summary>
internal sealed record ReportReceipt(
    ulong Version, byte[] Digest, DateTimeOffset ReceiveTime, IReadOnlyList<FieldChange> Changes, IReadOnlyList<ReportWarning> Warnings);

/// <summary>One unit of a batch: its values, already validated one by one and sorted by indicator id.</summary>
internal sealed record BatchUnit(string UnitId, IReadOnlyList<IndicatorValue> Values);

/// <summary>What a batch stores, or would store, for one unit; refused when <see cref="Violations"/> is not empty.</summary>
internal sealed record BatchUnitOutcome(
    string UnitId, ulong Version, bool IsNew, IReadOnlyList<FieldChange> Changes, IReadOnlyList<FieldViolation> Violations, IReadOnlyList<ReportWarning> Warnings)
{
    /// <summary>The values as they would be stored (the mode applied); empty when the unit is not hosted.</summary>
    public IReadOnlyList<IndicatorValue> Values { get; init; } = [];
}

/// <summary>Validates a hosted unit's figures and stores them durably before acknowledging.</summary>
internal sealed class ReportIntake(
    CatalogueIndex catalogue, StoreWriter writer, NodeStore store, NodeIdentity identity, TimeProvider time, NodeMetrics metrics)
{
    // The version last stored for each unit and period, as a hint for drafting (the writer checks it). Written only
    // by the writer; a batch rolled back may leave a hint to a version never committed, which the check turns down.
    private readonly LastStored _lastStored = new();

    public async Task<Outcome<ReportReceipt>> SubmitAsync(
        string unitId, string period, IReadOnlyList<IndicatorValue> values, SubmitMode mode, CancellationToken cancellationToken)
    {
        var outcome = await StoreAsync(unitId, period, values, mode, cancellationToken);
        if (outcome.Rejection is { } rejection)
        {
            metrics.ReportRefused("submit", rejection.Reason);
        }
        else
        {
            metrics.ReportsReceived("submit");
        }

        return outcome;
    }

    private async Task<Outcome<ReportReceipt>> StoreAsync(
        string unitId, string period, IReadOnlyList<IndicatorValue> values, SubmitMode mode, CancellationToken cancellationToken)
    {
        var validation = ReportValidator.Validate(catalogue, unitId, period, values, time.GetUtcNow());
        if (!validation.IsValid)
        {
            return Rejection.Of(validation.Violations, validation.OmittedViolationCount);
        }

        var canonicalPeriod = validation.Period.ToString();
        var key = ReportDocument.KeyOf(unitId, canonicalPeriod);

        // The report is merged, checked, serialized and hashed here, against the version this node last stored
        // for the unit as far as it remembers, so that the writer only has to confirm that version is still the
        // current one (if not, it drafts again). Nothing is read from the store for it: readers would queue
        // for the store's gate with the writer.
        var seen = _lastStored.TryGetValue(key, out var remembered) ? remembered : null;
        var draft = Draft(unitId, validation.Period, validation.Values, mode, seen, time.GetUtcNow());
        return await writer.ExecuteAsync<Outcome<ReportReceipt>>(context =>
        {
            if (context.Store.HostedUnit(unitId) is not { } unit)
            {
                return Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id");
            }

            if (!UnitRules.IsExpected(unit.RetiredFromPeriod, validation.Period))
            {
                // A retired unit reports nothing more: its figures would count in totals that no longer expect it.
                return Rejection.Of(RejectionReason.UnknownUnit,
                    $"unit '{unitId}' was retired from {unit.RetiredFromPeriod} and reports no more for {canonicalPeriod}.", "unit_id");
            }

            var replaced = context.Store.Reports.ById(key);
            var record = context.Store.RecordOf(unitId, canonicalPeriod);
            var review = ReviewRules.Submit(ReviewRules.Current(record, replaced?.Digest), context.Store.UnitLockedAbove(canonicalPeriod, record));
            if (!review.IsAllowed)
            {
                return Rejection.Of(review.Reason, $"unit '{unitId}' for {canonicalPeriod}: {review.Message}", "unit_id");
            }

            var current = SameVersion(seen, replaced) ? draft : Draft(unitId, validation.Period, validation.Values, mode, replaced, context.UtcNow());
            if (current.Rejection is { } refused)
            {
                return refused;
            }

            var (document, receipt) = current.Value!;
            if (replaced is not null)
            {
                context.Store.ReportHistory.Upsert(replaced.ToHistory());
            }

            // Known absent or present in this transaction: an upsert would look the key up once more.
            if (replaced is null)
            {
                context.Store.Reports.Insert(document);
            }
            else
            {
                context.Store.Reports.Update(document);
            }

            context.MarkDirty(canonicalPeriod);
            _lastStored[key] = document;
            return receipt;
        }, cancellationToken);
    }

    /// <summary>A report ready to store, and the receipt its clerk gets.</summary>
    private sealed record ReportDraft(ReportDocument Document, ReportReceipt Receipt);

    /// <summary>A unit's report as stored: its exact bytes, their digest, and the warnings stored with it.</summary>
    private static ReportDocument Stored(
        string unitId, string canonicalPeriod, long version, IEnumerable<IndicatorValue> values, DateTimeOffset receiveTime, IEnumerable<ReportWarning> warnings)
    {
        var report = new UnitReport
        {
            UnitId = unitId,
            Period = canonicalPeriod,
            Version = (ulong)version,
            ReceiveTime = Timestamp.FromDateTimeOffset(receiveTime),
        };
        report.Values.AddRange(values);
        var bytes = report.ToByteArray();
        return new ReportDocument
        {
            Id = ReportDocument.KeyOf(unitId, canonicalPeriod),
            UnitId = unitId,
            Period = canonicalPeriod,
            Version = version,
            Bytes = bytes,
            Digest = Digests.Sha256(bytes),
            ReceiveTicks = receiveTime.UtcTicks,
            Warnings = [.. warnings.Select(ReportWarningDocument.From)],
        };
    }

    private static bool SameVersion(ReportDocument? seen, ReportDocument? current) =>
        seen is null ? current is null : current is not null && seen.Digest.AsSpan().SequenceEqual(current.Digest);

    /// <summary>
    /// The report that <paramref name="values"/> make of <paramref name="replaced"/> (null for a first report) under
    /// <paramref name="mode"/>, received at <paramref name="receiveTime"/>, with its receipt; or why it is refused.
    /// </summary>
    private Outcome<ReportDraft> Draft(
        string unitId, Aggregator.Periods.Period period, IReadOnlyList<IndicatorValue> values, SubmitMode mode, ReportDocument? replaced, DateTimeOffset receiveTime)
    {
        var canonicalPeriod = period.ToString();
        var version = (replaced?.Version ?? 0) + 1;

        // The whole-report rules need the previous version, so they run on what would be stored.
        IReadOnlyList<IndicatorValue> previous = replaced is null ? [] : UnitReport.Parser.ParseFrom(replaced.Bytes).Values;
        var merged = ReportMerge.Apply(mode, previous, values);
        if (merged.DroppedIndicatorIds.Count > 0)
        {
            return Rejection.Of(ReportMerge.DroppedViolation(merged.DroppedIndicatorIds));
        }

        var rules = ReportRules.Check(catalogue, period, merged.Values);
        if (!rules.IsValid)
        {
            return Rejection.Of(rules.Violations, rules.OmittedViolationCount);
        }

        var document = Stored(unitId, canonicalPeriod, version, merged.Values, receiveTime, rules.Warnings);
        return new ReportDraft(document, new ReportReceipt((ulong)version, document.Digest, receiveTime, ReportMerge.Diff(previous, merged.Values), rules.Warnings));
    }

    /// <summary>
    /// Checks many units' validated values for one period against their previous versions (mode, required
    /// indicators, rules) and, unless <paramref name="dryRun"/> or any unit is refused, stores them all in
    /// one write: one group commit, one transaction, so a crash stores all of them or none.
    /// </summary>
    public async Task<IReadOnlyList<BatchUnitOutcome>> SubmitBatchAsync(
        Aggregator.Periods.Period period, IReadOnlyList<BatchUnit> units, SubmitMode mode, bool dryRun, CancellationToken cancellationToken)
    {
        var canonicalPeriod = period.ToString();
        if (dryRun)
        {
            return store.Read(s => PlanBatch(s, period, units, mode).Select(static p => p.Outcome).ToList());
        }

        return await writer.ExecuteAsync<IReadOnlyList<BatchUnitOutcome>>(context =>
        {
            var plans = PlanBatch(context.Store, period, units, mode);
            if (plans.Any(static p => p.Outcome.Violations.Count > 0))
            {
                return [.. plans.Select(static p => p.Outcome)];
            }

            var receiveTime = context.UtcNow();
            foreach (var plan in plans)
            {
                if (plan.Replaced is not null)
                {
                    context.Store.ReportHistory.Upsert(plan.Replaced.ToHistory());
                }

                context.Store.Reports.Upsert(Stored(plan.Outcome.UnitId, canonicalPeriod, (long)plan.Outcome.Version, plan.Values, receiveTime, plan.Outcome.Warnings));
            }

            context.MarkDirty(canonicalPeriod);
            return [.. plans.Select(static p => p.Outcome)];
        }, cancellationToken);
    }

    private List<BatchPlan> PlanBatch(NodeStore s, Aggregator.Periods.Period period, IReadOnlyList<BatchUnit> units, SubmitMode mode)
    {
        var plans = new List<BatchPlan>(units.Count);
        foreach (var unit in units)
        {
            var canonicalPeriod = period.ToString();
            FieldViolation? refusal = null;
            var replaced = s.Reports.ById(ReportDocument.KeyOf(unit.UnitId, canonicalPeriod));
            if (s.HostedUnit(unit.UnitId) is not { } hosted)
            {
                refusal = new("unit_id", RejectionReason.UnknownUnit, $"unit_id '{unit.UnitId}' is not hosted by node {identity.NodeId}.");
            }
            else if (!UnitRules.IsExpected(hosted.RetiredFromPeriod, period))
            {
                refusal = new("unit_id", RejectionReason.UnknownUnit,
                    $"unit '{unit.UnitId}' was retired from {hosted.RetiredFromPeriod} and reports no more for {canonicalPeriod}.");
            }
            else if (s.RecordOf(unit.UnitId, canonicalPeriod) is var record &&
                     ReviewRules.Submit(ReviewRules.Current(record, replaced?.Digest), s.UnitLockedAbove(canonicalPeriod, record)) is { IsAllowed: false } review)
            {
                refusal = new("unit_id", review.Reason, $"unit '{unit.UnitId}' for {canonicalPeriod}: {review.Message}");
            }

            if (refusal is { } refused)
            {
                plans.Add(new(new(unit.UnitId, 0, false, [], [refused], []), [], null));
                continue;
            }

            IReadOnlyList<IndicatorValue> previous = replaced is null ? [] : UnitReport.Parser.ParseFrom(replaced.Bytes).Values;
            var merged = ReportMerge.Apply(mode, previous, unit.Values);
            var version = (ulong)((replaced?.Version ?? 0) + 1);
            if (merged.DroppedIndicatorIds.Count > 0)
            {
                plans.Add(new(new(unit.UnitId, version, replaced is null, [], [ReportMerge.DroppedViolation(merged.DroppedIndicatorIds)], []) { Values = previous }, [], replaced));
                continue;
            }

            var rules = ReportRules.Check(catalogue, period, merged.Values);
            plans.Add(new(
                new(unit.UnitId, version, replaced is null, ReportMerge.Diff(previous, merged.Values), rules.Violations, rules.Warnings) { Values = merged.Values },
                merged.Values,
                replaced));
        }

        return plans;
    }

    private sealed record BatchPlan(BatchUnitOutcome Outcome, IReadOnlyList<IndicatorValue> Values, ReportDocument? Replaced);

    /// <summary>The stored report of a unit for a period, as its exact bytes.</summary>
    public Outcome<ReportDocument> Get(string unitId, string period)
    {
        if (Aggregator.Identifiers.NodeIds.Check(unitId, "unit_id") is { } badUnit)
        {
            return Rejection.Of(badUnit);
        }

        if (Aggregator.Identifiers.NodeIds.CheckPeriod(period, "period", out var parsed) is { } badPeriod)
        {
            return Rejection.Of(badPeriod);
        }

        var (hosted, document) = store.Read(s => (s.Units.ById(unitId) is not null, s.Reports.ById(ReportDocument.KeyOf(unitId, parsed.ToString()))));
        return (hosted, document) switch
        {
            (_, { } stored) => stored,
            (true, null) => Rejection.Of(RejectionReason.NoFigures, $"unit '{unitId}' has not reported for {parsed}.", "period"),
            _ => Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id"),
        };
    }
}

/// <summary>The report last stored for each unit and period key, bounded: past its capacity it starts afresh.</summary>
internal sealed class LastStored
{
    // A township's 245 villages for five years of months, with room.
    private const int Capacity = 32_768;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ReportDocument> _documents = new(StringComparer.Ordinal);

    // Counted here: the dictionary's own Count takes every one of its locks, contending with the readers.
    private int _count;

    public bool TryGetValue(string key, out ReportDocument? document) => _documents.TryGetValue(key, out document);

    public ReportDocument this[string key]
    {
        set
        {
            // Written by the writer alone, so the count cannot race another writer.
            if (_count >= Capacity)
            {
                _documents.Clear();
                _count = 0;
            }

            if (_documents.TryAdd(key, value))
            {
                _count++;
            }
            else
            {
                _documents[key] = value;
            }
        }
    }
}
