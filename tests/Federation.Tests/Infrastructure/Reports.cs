using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Tests.Infrastructure;

/// <summary>Random but valid unit reports, and the totals of a set of them computed plainly, without the core's merge code.</summary>
public static class Reports
{
    /// <summary>A valid report over the default catalogue; with <paramref name="complete"/> every reportable indicator is present.</summary>
    public static List<IndicatorValue> Random(Random rng, bool complete = true)
    {
        var catalogue = CatalogueIndex.Default;
        var values = new Dictionary<string, IndicatorValue>(StringComparer.Ordinal);
        // Ratios are derived and the rectification counts come from the ledger: neither is reported.
        foreach (var indicator in catalogue.Indicators.Where(static i => i.Kind != ValueKind.Ratio && i.LedgerCount == LedgerCount.Unspecified))
        {
            if (!complete && rng.Next(4) == 0)
            {
                continue;
            }

            var value = new IndicatorValue { IndicatorId = indicator.Id };
            switch (indicator.Kind)
            {
                case ValueKind.Flag:
                    value.Flag = rng.Next(100) < 80;
                    break;
                case ValueKind.Measure:
                    value.Measure = indicator.Unit == "yuan" ? rng.Next(20_000, 80_000) : rng.Next(25, 65);
                    break;
                case ValueKind.Category:
                    value.Category = indicator.Categories[rng.Next(indicator.Categories.Count)].Code;
                    break;
                default:
                    value.Count = rng.Next(0, 120);
                    break;
            }

            values[indicator.Id] = value;
        }

        // Numerators that must not exceed their denominators are drawn below them.
        foreach (var ratio in catalogue.Ratios.Where(static r => r.Ratio.NumeratorAtMostDenominator))
        {
            if (values.TryGetValue(ratio.Ratio.NumeratorIndicatorId, out var n) && values.TryGetValue(ratio.Ratio.DenominatorIndicatorId, out var d))
            {
                n.Count = d.Count == 0 ? 0 : rng.NextInt64(0, d.Count + 1);
            }
        }

        return [.. values.Values];
    }

    public static IndicatorValue Count(string id, long value) => new() { IndicatorId = id, Count = value };

    public static IndicatorValue Flag(string id, bool value) => new() { IndicatorId = id, Flag = value };

    public static IndicatorValue Measure(string id, long value) => new() { IndicatorId = id, Measure = value };

    public static IndicatorValue Category(string id, string code) => new() { IndicatorId = id, Category = code };

    /// <summary>
    /// The expected aggregate of every indicator over <paramref name="reports"/>, computed from the raw
    /// values with plain arithmetic, as an auditor with a spreadsheet would.
    /// </summary>
    public static Dictionary<string, IndicatorAggregate> PlainTotals(IEnumerable<IReadOnlyList<IndicatorValue>> reports)
    {
        var catalogue = CatalogueIndex.Default;
        var rows = reports.Select(static r => r.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal)).ToList();
        var result = new Dictionary<string, IndicatorAggregate>(StringComparer.Ordinal);
        foreach (var indicator in catalogue.Indicators)
        {
            var expected = new IndicatorAggregate { IndicatorId = indicator.Id, Kind = indicator.Kind };
            if (indicator.Kind == ValueKind.Ratio)
            {
                var pairs = rows
                    .Where(r => r.ContainsKey(indicator.Ratio.NumeratorIndicatorId) && r.ContainsKey(indicator.Ratio.DenominatorIndicatorId))
                    .Select(r => (N: r[indicator.Ratio.NumeratorIndicatorId].Count, D: r[indicator.Ratio.DenominatorIndicatorId].Count))
                    .ToList();
                expected.UnitCount = (uint)pairs.Count;
                expected.Total = pairs.Sum(static p => p.N);
                expected.DenominatorTotal = pairs.Sum(static p => p.D);
                expected.MeetingTargetCount = indicator.Target is { } t
                    ? (uint)pairs.Count(p => p.D > 0 && (decimal)p.N / p.D >= (decimal)t.ThresholdNumerator / t.ThresholdDenominator)
                    : 0;
            }
            else
            {
                var present = rows.Where(r => r.ContainsKey(indicator.Id)).Select(r => r[indicator.Id]).ToList();
                expected.UnitCount = (uint)present.Count;
                switch (indicator.Kind)
                {
                    case ValueKind.Count:
                        expected.Total = present.Sum(static v => v.Count);
                        expected.MeetingTargetCount = indicator.Target is { } t
                            ? (uint)present.Count(v => v.Count * t.ThresholdDenominator >= t.ThresholdNumerator)
                            : 0;
                        break;
                    case ValueKind.Flag:
                        expected.Total = present.Count(static v => v.Flag);
                        expected.MeetingTargetCount = indicator.Target is null ? 0 : (uint)expected.Total;
                        break;
                    case ValueKind.Measure:
                        expected.Total = present.Sum(static v => v.Measure);
                        expected.Min = present.Count > 0 ? present.Min(static v => v.Measure) : 0;
                        expected.Max = present.Count > 0 ? present.Max(static v => v.Measure) : 0;
                        break;
                    case ValueKind.Category:
                        expected.Categories.AddRange(present.GroupBy(static v => v.Category).OrderBy(static g => g.Key, StringComparer.Ordinal)
                            .Select(static g => new CategoryCount { Code = g.Key, UnitCount = (uint)g.Count() }));
                        break;
                }
            }

            result[indicator.Id] = expected;
        }

        return result;
    }
}
