using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
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
    NodeIdentity identity, CatalogueIndex catalogue, IOptions<NodeOptions> options, TimeProvider time, ILogger<SummaryRebuilder> logger)
{
    private readonly bool _hasParent = options.Value.Parent.IsConfigured;

    public SummaryDocument Rebuild(NodeStore store, string period)
    {
        var now = time.GetUtcNow();
        var reports = store.Reports.Find(r => r.Period == period).ToDictionary(static r => r.UnitId, StringComparer.Ordinal);
        var held = store.ChildSummaries.Find(s => s.Period == period).ToDictionary(static s => s.ChildId, StringComparer.Ordinal);
        var hosted = store.Units.FindAll()
            .Select(unit => reports.TryGetValue(unit.Id, out var r)
                ? new HostedUnitInput(unit.Id, UnitReport.Parser.ParseFrom(r.Bytes), r.Digest)
                : new HostedUnitInput(unit.Id, null, []))
            .ToList();
        var children = store.Children.FindAll()
            .Select(child => held.TryGetValue(child.Id, out var s)
                ? new ChildInput(child.Id, Summary.Parser.ParseFrom(s.SummaryBytes), s.Digest, new DateTimeOffset(s.ReceiveTicks, TimeSpan.Zero), (uint)child.ExpectedLeafCount)
                : new ChildInput(child.Id, null, [], default, (uint)child.ExpectedLeafCount))
            .ToList();

        var stale = store.Stale.Find(s => s.Period == period).Select(static s => s.ChildId).ToHashSet(StringComparer.Ordinal);
        var replaced = store.Summaries.FindById(period);
        var version = Math.Max(replaced?.Version ?? 0, store.VersionFloor(period)) + 1;
        var summary = SummaryBuilder.Build(new SummaryInputs(
            identity.NodeId, identity.Tier, Period.Parse(period), (ulong)version, now, catalogue, hosted,
            [.. children.Select(c => stale.Contains(c.ChildId) ? c with { Stale = true } : c)]));
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
            store.Outbox.Upsert(new OutboxDocument { Id = period, Version = version, NextAttemptTicks = now.UtcTicks });
        }

        store.Dirty.Delete(period);
        StoreLog.Rebuilt(logger, period, version, summary.Coverage.ReportedLeafCount, summary.Coverage.ExpectedLeafCount);
        return document;
    }

    /// <summary>The instant a stored tick count stands for.</summary>
    public static Timestamp ToTimestamp(long utcTicks) => Timestamp.FromDateTimeOffset(new DateTimeOffset(utcTicks, TimeSpan.Zero));
}
