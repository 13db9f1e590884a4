using Federation.Aggregator;
using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Totals;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Queries;

/// <summary>Drill-down, completeness, targets and history, answered by the node the query is about.</summary>
internal sealed class LocalQueries(NodeStore store, NodeIdentity identity, CatalogueIndex catalogue, SubtreeService subtree, TimeProvider time)
{
    private const int MaxHistoryPoints = 240;

    public Outcome<GetDrillDownResponse> DrillDown(string period, string sortIndicatorId, bool descending)
    {
        if (!Period.TryParse(period, out var parsed))
        {
            return MalformedPeriod(period);
        }

        if (sortIndicatorId.Length > 0 && !catalogue.TryGet(sortIndicatorId, out _))
        {
            return Rejection.Of(RejectionReason.UnknownIndicator, $"sort_indicator_id '{Aggregator.Identifiers.Echo.Of(sortIndicatorId)}' is not in the catalogue.", "sort_indicator_id");
        }

        var key = parsed.ToString();
        var (children, units, ledgers) = store.Read(s => (
            s.Children.FindAll().Select(c => (Child: c, Held: s.ChildSummaries.FindById(ChildSummaryDocument.KeyOf(c.Id, key)))).ToList(),
            s.Units.FindAll().Select(u => (Unit: u, Report: s.Reports.FindById(ReportDocument.KeyOf(u.Id, key)))).ToList(),
            s.TallyLedgers(key, time.GetUtcNow()).ToDictionary(static l => l.Tally.UnitId, StringComparer.Ordinal)));
        var rows = new List<DrillDownRow>();
        foreach (var (child, held) in children)
        {
            var summary = held is null ? null : Summary.Parser.ParseFrom(held.SummaryBytes);
            rows.Add(Row(child.Id, child.DisplayName, ContributionKind.ChildSummary, summary?.Coverage, summary?.Aggregates));
        }

        foreach (var (unit, document) in units.Where(u => u.Report is not null || ledgers.ContainsKey(u.Unit.Id) || UnitRules.IsExpected(u.Unit.RetiredFromPeriod, parsed)))
        {
            // A unit's row holds what the summary merges for it: its report, and its ledger counts as they stand now.
            var report = document is null ? null : UnitReport.Parser.ParseFrom(document.Bytes);
            var coverage = new Coverage { ExpectedLeafCount = 1, ReportedLeafCount = report is null ? 0u : 1u };
            var parts = new List<IReadOnlyList<IndicatorAggregate>>();
            if (report is not null)
            {
                parts.Add(Aggregates.FromReport(catalogue, LedgerTallies.WithoutComputed(catalogue, report.Values)));
            }

            if (ledgers.TryGetValue(unit.Id, out var ledger))
            {
                parts.Add(Aggregates.FromReport(catalogue, LedgerTallies.Values(catalogue, ledger.Tally)));
            }

            rows.Add(Row(unit.Id, unit.DisplayName, ContributionKind.UnitReport, coverage, parts.Count == 0 ? null : Aggregates.MergeAll(parts)));
        }

        var ranked = Rank(rows, sortIndicatorId, descending);
        var response = new GetDrillDownResponse { NodeId = identity.NodeId, Period = key };
        response.Rows.AddRange(ranked);
        return response;
    }

    public async Task<Outcome<GetCompletenessResponse>> CompletenessAsync(string period, CallBudget budget)
    {
        if (!Period.TryParse(period, out var parsed))
        {
            return MalformedPeriod(period);
        }

        var status = await subtree.GetAsync(parsed, budget);
        var response = new GetCompletenessResponse { NodeId = identity.NodeId, Period = parsed.ToString(), Nodes = { status.Nodes } };
        if (Timeliness.DueInstant(catalogue, parsed) is { } due)
        {
            response.DueTime = Timestamp.FromDateTimeOffset(due);
        }

        response.Missing.AddRange(status.Leaves.Where(static l => !l.Reported).OrderBy(static l => l.UnitId, StringComparer.Ordinal));
        response.Late.AddRange(status.Leaves.Where(static l => l.Reported && !l.OnTime).OrderBy(static l => l.UnitId, StringComparer.Ordinal));
        return response;
    }

    public async Task<Outcome<GetTargetsResponse>> TargetsAsync(string period, CallBudget budget)
    {
        if (!Period.TryParse(period, out var parsed))
        {
            return MalformedPeriod(period);
        }

        var held = store.Read(s => s.Summaries.FindById(parsed.ToString()));
        var aggregates = held is null ? [] : Summary.Parser.ParseFrom(held.SummaryBytes).Aggregates;
        var status = await subtree.GetAsync(parsed, budget);
        var response = new GetTargetsResponse { NodeId = identity.NodeId, Period = parsed.ToString() };
        foreach (var figure in Figures.Compute(catalogue, aggregates).Where(static f => f.Attainment is not null))
        {
            var standing = new TargetStanding { Indicator = figure.Indicator, Attainment = Convert(figure.Attainment!), Value = Convert(figure.Value) };
            standing.LaggingUnitIds.AddRange(status.Leaves
                .Where(l => l.UnmetIndicatorIds.Contains(figure.Indicator.Id))
                .Select(static l => l.UnitId)
                .Order(StringComparer.Ordinal));
            response.Targets.Add(standing);
        }

        return response;
    }

    /// <summary>One indicator across periods: of this node, or of <paramref name="unitId"/> when it names a hosted unit.</summary>
    public Outcome<GetHistoryResponse> History(string indicatorId, string fromPeriod, string toPeriod, string unitId = "")
    {
        if (!catalogue.TryGet(indicatorId, out var indicator))
        {
            return Rejection.Of(RejectionReason.UnknownIndicator, $"indicator_id '{Aggregator.Identifiers.Echo.Of(indicatorId)}' is not in the catalogue.", "indicator_id");
        }

        if (!Period.TryParse(fromPeriod, out var from))
        {
            return Rejection.Of(RejectionReason.MalformedPeriod, $"from_period '{fromPeriod}' is malformed.", "from_period");
        }

        if (!Period.TryParse(toPeriod, out var to) || to.Type != from.Type || to < from)
        {
            return Rejection.Of(RejectionReason.MalformedPeriod,
                $"to_period '{toPeriod}' must be a period of the same type as from_period, not before it.", "to_period");
        }

        // A hosted unit's history is its own reports; the node's is its summaries.
        var unit = unitId.Length == 0 ? null : store.Read(s => s.Units.FindById(unitId));
        if (unitId.Length > 0 && unit is null)
        {
            return Rejection.Of(RejectionReason.UnknownUnit, $"unit '{unitId}' is not hosted by node {identity.NodeId}.", "node_id");
        }

        var response = new GetHistoryResponse { NodeId = unit?.Id ?? identity.NodeId, Indicator = indicator };
        for (var period = from; period <= to && response.Points.Count < MaxHistoryPoints; period = period.Next())
        {
            var point = new HistoryPoint { Period = period.ToString() };
            var (aggregates, coverage) = unit is null ? NodeFigures(point.Period) : UnitFigures(unit.Id, point.Period);
            if (aggregates is not null)
            {
                var aggregate = aggregates.FirstOrDefault(a => a.IndicatorId == indicator.Id)
                    ?? new IndicatorAggregate { IndicatorId = indicator.Id, Kind = indicator.Kind };
                point.HasData = true;
                point.Coverage = coverage;
                point.Total = Convert(Figures.Compute(indicator, aggregate));
            }

            response.Points.Add(point);
        }

        return response;
    }

    private (IReadOnlyList<IndicatorAggregate>? Aggregates, Coverage? Coverage) NodeFigures(string period)
    {
        if (store.Read(s => s.Summaries.FindById(period)) is not { } held)
        {
            return (null, null);
        }

        var summary = Summary.Parser.ParseFrom(held.SummaryBytes);
        return (summary.Aggregates, summary.Coverage);
    }

    private (IReadOnlyList<IndicatorAggregate>? Aggregates, Coverage? Coverage) UnitFigures(string unitId, string period)
    {
        if (store.Read(s => s.Reports.FindById(ReportDocument.KeyOf(unitId, period))) is not { } document)
        {
            return (null, null);
        }

        var report = UnitReport.Parser.ParseFrom(document.Bytes);
        return (Aggregates.FromReport(catalogue, report.Values), new Coverage { ExpectedLeafCount = 1, ReportedLeafCount = 1 });
    }

    /// <summary>The wire form of a computed figure.</summary>
    public static IndicatorTotal Convert(IndicatorFigure figure) => new()
    {
        Indicator = figure.Indicator,
        Aggregate = figure.Aggregate,
        Value = Convert(figure.Value),
        Attainment = figure.Attainment is { } a ? Convert(a) : null,
    };

    private static Fraction? Convert(Rational? value) =>
        value is { } v ? new Fraction { Numerator = v.Numerator, Denominator = v.Denominator } : null;

    private static TargetAttainment Convert(Attainment a) =>
        new() { Target = a.Target, Met = a.Met, MeetingUnitCount = a.MeetingUnitCount, UnitCount = a.UnitCount };

    private DrillDownRow Row(string id, string name, ContributionKind kind, Coverage? coverage, IReadOnlyList<IndicatorAggregate>? aggregates)
    {
        var row = new DrillDownRow { SourceId = id, DisplayName = name, Kind = kind, Coverage = coverage };
        if (aggregates is not null)
        {
            row.Totals.AddRange(Figures.Compute(catalogue, aggregates).Select(Convert));
            row.UnmetIndicatorIds.AddRange(Figures.UnmetTargetIds(catalogue, aggregates));
        }

        return row;
    }

    /// <summary>Ranks by the exact value of one indicator; rows without one share the last rank.</summary>
    private static IEnumerable<DrillDownRow> Rank(List<DrillDownRow> rows, string indicatorId, bool descending)
    {
        static Rational? ValueOf(DrillDownRow row, string id) =>
            row.Totals.FirstOrDefault(t => t.Indicator.Id == id)?.Value is { } f ? new Rational(f.Numerator, f.Denominator) : null;

        var withValue = rows.Where(r => indicatorId.Length > 0 && ValueOf(r, indicatorId) is not null).ToList();
        var ordered = descending
            ? withValue.OrderByDescending(r => ValueOf(r, indicatorId)!.Value).ThenBy(static r => r.SourceId, StringComparer.Ordinal)
            : withValue.OrderBy(r => ValueOf(r, indicatorId)!.Value).ThenBy(static r => r.SourceId, StringComparer.Ordinal);
        var rank = 0u;
        foreach (var row in ordered)
        {
            row.Rank = ++rank;
            yield return row;
        }

        foreach (var row in rows.Except(withValue).OrderBy(static r => r.SourceId, StringComparer.Ordinal))
        {
            row.Rank = rank + 1;
            yield return row;
        }
    }

    private static Rejection MalformedPeriod(string period) =>
        Rejection.Of(RejectionReason.MalformedPeriod, $"period '{period}' is malformed; expected 2026, 2026-H1, 2026-Q1 or 2026-03.", "period");
}
