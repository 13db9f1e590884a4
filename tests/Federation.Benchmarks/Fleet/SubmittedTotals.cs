using System.Collections.Concurrent;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Benchmarks.Fleet;

/// <summary>
/// What the clerks submitted, unit by unit (the last report of each), and the totals worked out from it
/// with plain loops, independently of the aggregator: COUNT sums, FLAG units answering yes, MEASURE sum,
/// min and max, CATEGORY units per code, each with the number of units reporting it.
/// </summary>
internal sealed class SubmittedTotals
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<IndicatorValue>> _latest = new(StringComparer.Ordinal);

    public void Record(string unitId, IReadOnlyList<IndicatorValue> values) => _latest[unitId] = values;

    public int UnitCount => _latest.Count;

    public long Sum(string indicatorId) => _latest.Values.Sum(values => values.Where(v => v.IndicatorId == indicatorId).Sum(static v => v.Count));

    /// <summary>Every difference between the node's totals and the submitted reports; empty when they agree.</summary>
    public IReadOnlyList<string> Compare(GetTotalsResponse totals, CatalogueIndex catalogue)
    {
        var differences = new List<string>();
        if (totals.Coverage is not { } coverage || coverage.ReportedLeafCount != UnitCount || coverage.ExpectedLeafCount != UnitCount)
        {
            differences.Add($"coverage {totals.Coverage?.ReportedLeafCount}/{totals.Coverage?.ExpectedLeafCount} reported, {UnitCount}/{UnitCount} submitted");
        }

        var byId = totals.Totals.ToDictionary(static t => t.Indicator.Id, static t => t.Aggregate ?? new IndicatorAggregate(), StringComparer.Ordinal);
        foreach (var indicator in catalogue.Indicators.Where(static i => i.Kind is ValueKind.Count or ValueKind.Flag or ValueKind.Measure or ValueKind.Category))
        {
            var values = _latest.Values.SelectMany(v => v.Where(x => x.IndicatorId == indicator.Id)).ToList();
            if (!byId.TryGetValue(indicator.Id, out var actual))
            {
                if (values.Count > 0)
                {
                    differences.Add($"{indicator.Id}: missing from the totals, {values.Count} units reported it");
                }

                continue;
            }

            void Field(string name, long value, long expected)
            {
                if (value != expected)
                {
                    differences.Add($"{indicator.Id}.{name}: {value}, submitted {expected}");
                }
            }

            Field("unit_count", actual.UnitCount, values.Count);
            switch (indicator.Kind)
            {
                case ValueKind.Count:
                    Field("total", actual.Total, values.Sum(static v => v.Count));
                    break;
                case ValueKind.Flag:
                    Field("total", actual.Total, values.Count(static v => v.Flag));
                    break;
                case ValueKind.Measure when values.Count > 0:
                    Field("total", actual.Total, values.Sum(static v => v.Measure));
                    Field("min", actual.Min, values.Min(static v => v.Measure));
                    Field("max", actual.Max, values.Max(static v => v.Measure));
                    break;
                case ValueKind.Category:
                    var shown = string.Join(" ", actual.Categories.Where(static c => c.UnitCount > 0).OrderBy(static c => c.Code, StringComparer.Ordinal).Select(static c => $"{c.Code}:{c.UnitCount}"));
                    var submitted = string.Join(" ", values.GroupBy(static v => v.Category, StringComparer.Ordinal).OrderBy(static g => g.Key, StringComparer.Ordinal).Select(static g => $"{g.Key}:{g.Count()}"));
                    if (shown != submitted)
                    {
                        differences.Add($"{indicator.Id}.categories: [{shown}], submitted [{submitted}]");
                    }

                    break;
            }
        }

        return differences;
    }
}
