using System.Diagnostics.Metrics;
using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Operations;

/// <summary>
/// The node's own instruments, on the meter <see cref="MeterName"/> (README, Operations, lists them with
/// their Prometheus names). Tags take values from closed lists only (sources, outcomes, the UPPER_SNAKE
/// reasons of the error contract), never a node, unit or period id: the series stay few, and a scrape
/// reveals counts, not who reported what.
/// </summary>
internal sealed class NodeMetrics
{
    public const string MeterName = "Federation.Node";

    /// <summary>Durations from a millisecond to a minute: a rebuild takes milliseconds, a pull up to its deadline.</summary>
    private static readonly double[] s_secondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly NodeStore _store;
    private readonly TimeProvider _time;
    private readonly Counter<long> _reportsReceived;
    private readonly Counter<long> _reportsRefused;
    private readonly Counter<long> _summariesReceived;
    private readonly Counter<long> _summariesRefused;
    private readonly Counter<long> _summariesPushed;
    private readonly Counter<long> _pushesRefused;
    private readonly Histogram<double> _pullDuration;
    private readonly Histogram<double> _rebuildDuration;

    public NodeMetrics(IMeterFactory meterFactory, NodeStore store, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _store = store;
        _time = time;
        Meter = meterFactory.Create(MeterName);
        _reportsReceived = Meter.CreateCounter<long>("federation.reports.received", "{report}",
            "Unit reports stored (first versions and corrections), by source: submit or import.");
        _reportsRefused = Meter.CreateCounter<long>("federation.reports.refused", "{report}",
            "Unit reports refused with nothing stored, by source and reason.");
        _summariesReceived = Meter.CreateCounter<long>("federation.summaries.received", "{summary}",
            "Child summaries accepted, by how they came (push or pull) and outcome (stored or already_held).");
        _summariesRefused = Meter.CreateCounter<long>("federation.summaries.refused", "{summary}",
            "Child summaries this node refused, by how they came and reason.");
        _summariesPushed = Meter.CreateCounter<long>("federation.summaries.pushed", "{summary}",
            "This node's summaries the parent acknowledged, by outcome.");
        _pushesRefused = Meter.CreateCounter<long>("federation.summaries.push_refused", "{summary}",
            "This node's summaries the parent refused, by the reason it gave (or BAD_RECEIPT).");
        _pullDuration = Meter.CreateHistogram("federation.pull.duration", "s",
            "Time to answer a pull, with the fan-out to the children when refreshing.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        _rebuildDuration = Meter.CreateHistogram("federation.rebuild.duration", "s",
            "Time to rebuild (and sign, when it changed) one period's summary, by outcome: signed, unchanged or empty.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets });
        Meter.CreateObservableGauge("federation.outbox.depth", ObserveDepth, "{summary}",
            "Summaries in the outbox, by state: pending (to be delivered) or refused (waiting for a newer version).");
        Meter.CreateObservableGauge("federation.outbox.oldest_age", ObserveOldestAge, "s",
            "How long the oldest pending summary has waited for the parent's acknowledgement; 0 when none waits.");
    }

    /// <summary>The meter, created through the host's factory so that each node in a process has its own.</summary>
    public Meter Meter { get; }

    public void ReportsReceived(string source, int count = 1) =>
        _reportsReceived.Add(count, new KeyValuePair<string, object?>("source", source));

    public void ReportRefused(string source, RejectionReason reason) => ReportRefused(source, RpcErrors.ReasonText(reason));

    /// <summary>A refusal; <paramref name="reason"/> is an UPPER_SNAKE reason (of the contract, or of an import problem).</summary>
    public void ReportRefused(string source, string reason) =>
        _reportsRefused.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("reason", reason));

    public void SummaryReceived(bool pulled, PushOutcome outcome) => _summariesReceived.Add(1, Via(pulled), Outcome(outcome));

    public void SummaryRefused(bool pulled, RejectionReason reason) => _summariesRefused.Add(1, Via(pulled), Reason(reason));

    public void SummaryPushed(PushOutcome outcome) => _summariesPushed.Add(1, Outcome(outcome));

    /// <summary>A refusal by the parent: the reason its ErrorInfo gave, or else its status code (e.g. PERMISSION_DENIED).</summary>
    public void PushRefused(RejectionReason? reason, StatusCode code) =>
        PushRefused(reason is { } known ? RpcErrors.ReasonText(known) : UpperSnake(code.ToString()));

    /// <summary>A receipt that does not verify or does not acknowledge what was sent.</summary>
    public void PushReceiptRefused() => PushRefused("BAD_RECEIPT");

    /// <summary>A start mark for <see cref="PullAnswered"/> and <see cref="Rebuilt"/>.</summary>
    public long Start() => _time.GetTimestamp();

    public void PullAnswered(long start, bool refresh) =>
        _pullDuration.Record(_time.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("refresh", refresh));

    public void Rebuilt(long start, string outcome) =>
        _rebuildDuration.Record(_time.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));

    private void PushRefused(string reason) => _pushesRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    private static string UpperSnake(string name) =>
        string.Concat(name.Select(static (c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));

    private static KeyValuePair<string, object?> Reason(RejectionReason reason) => new("reason", RpcErrors.ReasonText(reason));

    private static KeyValuePair<string, object?> Outcome(PushOutcome outcome) => new("outcome", outcome switch
    {
        PushOutcome.Stored => "stored",
        PushOutcome.AlreadyHeld => "already_held",
        _ => "unspecified",
    });

    private static KeyValuePair<string, object?> Via(bool pulled) => new("via", pulled ? "pull" : "push");

    private IEnumerable<Measurement<long>> ObserveDepth()
    {
        if (ReadOutbox() is not { } rows)
        {
            return [];
        }

        var refused = rows.Count(static r => r.Refused);
        return
        [
            new Measurement<long>(rows.Count - refused, new KeyValuePair<string, object?>("state", "pending")),
            new Measurement<long>(refused, new KeyValuePair<string, object?>("state", "refused")),
        ];
    }

    private IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        if (ReadOutbox() is not { } rows)
        {
            return [];
        }

        var queued = rows.Where(static r => !r.Refused).Select(static r => r.QueuedTicks).DefaultIfEmpty(0).Min();
        var age = queued > 0 ? _time.GetUtcNow() - new DateTimeOffset(queued, TimeSpan.Zero) : TimeSpan.Zero;
        return [new Measurement<double>(Math.Max(0, age.TotalSeconds))];
    }

    /// <summary>The outbox rows with when each was first queued; null when the store cannot be read (stopping, halted).</summary>
    private List<(bool Refused, long QueuedTicks)>? ReadOutbox()
    {
        try
        {
            return _store.Read(static s => s.Outbox.FindAll()
                .Select(o => (o.Refused, o.QueuedTicks > 0 ? o.QueuedTicks : s.Summaries.ById(o.Id)?.BuildTicks ?? 0))
                .ToList());
        }
        catch (Exception ex) when (ex is ObjectDisposedException or LiteDB.LiteException or InvalidOperationException or IOException)
        {
            // A scrape during shutdown or after a halt: no reading rather than a failed scrape.
            return null;
        }
    }
}
