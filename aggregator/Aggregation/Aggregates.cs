using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Aggregator.Aggregation;

/// <summary>
/// Mergeable aggregates. <see cref="Merge"/> is associative and commutative, and the empty list is its
/// identity, so a county's figures are the same whether it merges villages or township summaries.
/// Every field adds except min and max, which take the extreme over units that reported.
/// </summary>
public static class Aggregates
{
    /// <summary>The aggregates of one unit's validated values, sorted by indicator id.</summary>
    public static IReadOnlyList<IndicatorAggregate> FromReport(CatalogueIndex catalogue, IReadOnlyList<IndicatorValue> values)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(values);
        var byId = new Dictionary<string, IndicatorValue>(StringComparer.Ordinal);
        var result = new List<IndicatorAggregate>(values.Count + catalogue.Ratios.Count);
        foreach (var value in values)
        {
            var indicator = catalogue.Get(value.IndicatorId);
            byId[value.IndicatorId] = value;
            result.Add(FromValue(indicator, value));
        }

        foreach (var ratio in catalogue.Ratios)
        {
            if (byId.TryGetValue(ratio.Ratio.NumeratorIndicatorId, out var n) && byId.TryGetValue(ratio.Ratio.DenominatorIndicatorId, out var d))
            {
                result.Add(FromRatio(ratio, n.Count, d.Count));
            }
        }

        result.Sort(static (a, b) => string.CompareOrdinal(a.IndicatorId, b.IndicatorId));
        return result;
    }

    /// <summary>Merges two sorted aggregate lists into a new sorted list; inputs are not changed.</summary>
    public static IReadOnlyList<IndicatorAggregate> Merge(IReadOnlyList<IndicatorAggregate> left, IReadOnlyList<IndicatorAggregate> right) =>
        MergeAll([left, right]);

    /// <summary>Merges any number of aggregate lists (identity: no lists, or empty ones).</summary>
    public static IReadOnlyList<IndicatorAggregate> MergeAll(IEnumerable<IReadOnlyList<IndicatorAggregate>> lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var merged = new SortedDictionary<string, IndicatorAggregate>(StringComparer.Ordinal);
        foreach (var list in lists)
        {
            foreach (var item in list)
            {
                merged[item.IndicatorId] = merged.TryGetValue(item.IndicatorId, out var existing) ? MergeOne(existing, item) : item.Clone();
            }
        }

        return [.. merged.Values];
    }

    private static IndicatorAggregate MergeOne(IndicatorAggregate a, IndicatorAggregate b)
    {
        if (a.Kind != b.Kind)
        {
            throw ThrowHelper.Argument(nameof(b), $"Indicator '{a.IndicatorId}' is {a.Kind} on one side and {b.Kind} on the other.");
        }

        var result = new IndicatorAggregate
        {
            IndicatorId = a.IndicatorId,
            Kind = a.Kind,
            UnitCount = checked(a.UnitCount + b.UnitCount),
            Total = checked(a.Total + b.Total),
            DenominatorTotal = checked(a.DenominatorTotal + b.DenominatorTotal),
            MeetingTargetCount = checked(a.MeetingTargetCount + b.MeetingTargetCount),
        };

        if (a.Kind == ValueKind.Measure)
        {
            // Min and max are only meaningful over units that reported; an empty side must not pull them to zero.
            (result.Min, result.Max) = (a.UnitCount, b.UnitCount) switch
            {
                (0, _) => (b.Min, b.Max),
                (_, 0) => (a.Min, a.Max),
                _ => (Math.Min(a.Min, b.Min), Math.Max(a.Max, b.Max)),
            };
        }

        if (a.Categories.Count > 0 || b.Categories.Count > 0)
        {
            var counts = new SortedDictionary<string, uint>(StringComparer.Ordinal);
            foreach (var c in a.Categories.Concat(b.Categories))
            {
                counts[c.Code] = checked(counts.GetValueOrDefault(c.Code) + c.UnitCount);
            }

            result.Categories.AddRange(counts.Select(static kv => new CategoryCount { Code = kv.Key, UnitCount = kv.Value }));
        }

        return result;
    }

    private static IndicatorAggregate FromValue(Indicator indicator, IndicatorValue value)
    {
        var aggregate = new IndicatorAggregate { IndicatorId = indicator.Id, Kind = indicator.Kind, UnitCount = 1 };
        switch (indicator.Kind)
        {
            case ValueKind.Count:
                aggregate.Total = value.Count;
                aggregate.MeetingTargetCount = Meets(indicator, new Rational(value.Count, 1)) ? 1u : 0u;
                break;
            case ValueKind.Flag:
                // A unit's own share is 1 or 0: it meets "≥ 85% yes" by answering yes, "≤ 5% yes" by answering no.
                aggregate.Total = value.Flag ? 1 : 0;
                aggregate.MeetingTargetCount = Meets(indicator, new Rational(value.Flag ? 1 : 0, 1)) ? 1u : 0u;
                break;
            case ValueKind.Measure:
                aggregate.Total = value.Measure;
                aggregate.Min = value.Measure;
                aggregate.Max = value.Measure;
                aggregate.MeetingTargetCount = Meets(indicator, new Rational(value.Measure, 1)) ? 1u : 0u;
                break;
            case ValueKind.Category:
                aggregate.Categories.Add(new CategoryCount { Code = value.Category, UnitCount = 1 });
                break;
            default:
                throw ThrowHelper.Argument(nameof(value), $"Indicator '{indicator.Id}' cannot be reported directly.");
        }

        return aggregate;
    }

    private static IndicatorAggregate FromRatio(Indicator ratio, long numerator, long denominator) => new()
    {
        IndicatorId = ratio.Id,
        Kind = ValueKind.Ratio,
        UnitCount = 1,
        Total = numerator,
        DenominatorTotal = denominator,
        // A unit with a zero denominator has no ratio to meet a target with.
        MeetingTargetCount = denominator > 0 && Meets(ratio, new Rational(numerator, denominator)) ? 1u : 0u,
    };

    private static bool Meets(Indicator indicator, Rational value) =>
        indicator.Target is { } target && value.Satisfies(target.Comparison, Rational.ThresholdOf(target));
}
