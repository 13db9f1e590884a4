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

    /// <summary>
    /// Merges any number of aggregate lists (identity: no lists, or empty ones). An aggregate alone under its
    /// id is copied as it is; others are added field by field, in order (see <see cref="AggregateAccumulator"/>).
    /// </summary>
    public static IReadOnlyList<IndicatorAggregate> MergeAll(IEnumerable<IReadOnlyList<IndicatorAggregate>> lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        var accumulator = AggregateAccumulator.WithoutCatalogue();
        foreach (var list in lists)
        {
            accumulator.Add(list);
        }

        return accumulator.ToList();
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
