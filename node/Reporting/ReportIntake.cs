using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Reports;
using Federation.Aggregator.Review;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Reporting;

/// <summary>A stored report's acknowledgement: what it changed against the previous version, and the warnings stored with it.</summary>
internal sealed record ReportReceipt(
    ulong Version, byte[] Digest, DateTimeOffset ReceiveTime, IReadOnlyList<FieldChange> Changes, IReadOnlyList<ReportWarning> Warnings);

/// <summary>Validates a hosted unit's figures and stores them durably before acknowledging.</summary>
internal sealed class ReportIntake(CatalogueIndex catalogue, StoreWriter writer, NodeStore store, NodeIdentity identity, TimeProvider time)
{
    public async Task<Outcome<ReportReceipt>> SubmitAsync(
        string unitId, string period, IReadOnlyList<IndicatorValue> values, SubmitMode mode, CancellationToken cancellationToken)
    {
        var validation = ReportValidator.Validate(catalogue, unitId, period, values, time.GetUtcNow());
        if (!validation.IsValid)
        {
            return Rejection.Of(validation.Violations, validation.OmittedViolationCount);
        }

        var canonicalPeriod = validation.Period.ToString();
        return await writer.ExecuteAsync<Outcome<ReportReceipt>>(context =>
        {
            if (context.Store.Units.FindById(unitId) is not { } unit)
            {
                return Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id");
            }

            if (!UnitRules.IsExpected(unit.RetiredFromPeriod, validation.Period))
            {
                // A retired unit reports nothing more: its figures would count in totals that no longer expect it.
                return Rejection.Of(RejectionReason.UnknownUnit,
                    $"unit '{unitId}' was retired from {unit.RetiredFromPeriod} and reports no more for {canonicalPeriod}.", "unit_id");
            }

            var key = ReportDocument.KeyOf(unitId, canonicalPeriod);
            var replaced = context.Store.Reports.FindById(key);
            var review = ReviewRules.Submit(
                ReviewRules.Current(context.Store.RecordOf(unitId, canonicalPeriod), replaced?.Digest), context.Store.LockedAbove(canonicalPeriod));
            if (!review.IsAllowed)
            {
                return Rejection.Of(review.Reason, $"unit '{unitId}' for {canonicalPeriod}: {review.Message}", "unit_id");
            }

            var version = (replaced?.Version ?? 0) + 1;

            // The whole-report rules need the previous version, so they run inside the write, on what would be stored.
            IReadOnlyList<IndicatorValue> previous = replaced is null ? [] : UnitReport.Parser.ParseFrom(replaced.Bytes).Values;
            var merged = ReportMerge.Apply(mode, previous, validation.Values);
            if (merged.DroppedIndicatorIds.Count > 0)
            {
                return Rejection.Of(ReportMerge.DroppedViolation(merged.DroppedIndicatorIds));
            }

            var rules = ReportRules.Check(catalogue, validation.Period, merged.Values);
            if (!rules.IsValid)
            {
                return Rejection.Of(rules.Violations, rules.OmittedViolationCount);
            }

            var receiveTime = context.UtcNow();
            var report = new UnitReport
            {
                UnitId = unitId,
                Period = canonicalPeriod,
                Version = (ulong)version,
                ReceiveTime = Timestamp.FromDateTimeOffset(receiveTime),
            };
            report.Values.AddRange(merged.Values);
            var bytes = report.ToByteArray();
            var digest = Digests.Sha256(bytes);
            var document = new ReportDocument
            {
                Id = key,
                UnitId = unitId,
                Period = canonicalPeriod,
                Version = version,
                Bytes = bytes,
                Digest = digest,
                ReceiveTicks = receiveTime.UtcTicks,
                Warnings = [.. rules.Warnings.Select(ReportWarningDocument.From)],
            };
            if (replaced is not null)
            {
                context.Store.ReportHistory.Upsert(replaced.ToHistory());
            }

            context.Store.Reports.Upsert(document);
            context.MarkDirty(canonicalPeriod);
            return new ReportReceipt((ulong)version, digest, receiveTime, ReportMerge.Diff(previous, merged.Values), rules.Warnings);
        }, cancellationToken);
    }

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

        var (hosted, document) = store.Read(s => (s.Units.FindById(unitId) is not null, s.Reports.FindById(ReportDocument.KeyOf(unitId, parsed.ToString()))));
        return (hosted, document) switch
        {
            (_, { } stored) => stored,
            (true, null) => Rejection.Of(RejectionReason.NoFigures, $"unit '{unitId}' has not reported for {parsed}.", "period"),
            _ => Rejection.Of(RejectionReason.UnknownUnit, $"unit_id '{unitId}' is not hosted by node {identity.NodeId}.", "unit_id"),
        };
    }
}
