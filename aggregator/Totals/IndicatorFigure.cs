using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Aggregator.Totals;

/// <summary>How a node stands against one indicator's target.</summary>
/// <param name="Target">The catalogue's target.</param>
/// <param name="Met">
/// FLAG and RATIO: the node's own figure (share of units, ratio of sums) meets it. COUNT and MEASURE: the
/// target is a per-unit threshold, met when at least one unit reported and every unit that reported meets it.
/// </param>
/// <param name="MeetingUnitCount">Leaf units whose own value meets it.</param>
/// <param name="UnitCount">Leaf units that reported the indicator.</param>
public sealed record Attainment(Target Target, bool Met, uint MeetingUnitCount, uint UnitCount);

/// <summary>One indicator's rolled-up figure, with its headline value rebuilt exactly from the aggregate.</summary>
/// <param name="Indicator">The catalogue entry.</param>
/// <param name="Aggregate">The exact aggregate (empty when no unit reported).</param>
/// <param name="Value">Sum, share of units, ratio of sums or mean; null when nothing was reported.</param>
/// <param name="Attainment">Null when the indicator has no target.</param>
public sealed record IndicatorFigure(Indicator Indicator, IndicatorAggregate Aggregate, Rational? Value, Attainment? Attainment);

/// <summary>Derives headline values and target attainment from a summary's aggregates.</summary>
public static class Figures
{
    /// <summary>One figure per catalogue indicator, in catalogue order.</summary>
    public static IReadOnlyList<IndicatorFigure> Compute(CatalogueIndex catalogue, IReadOnlyList<IndicatorAggregate> aggregates)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(aggregates);
        var byId = aggregates.ToDictionary(static a => a.IndicatorId, StringComparer.Ordinal);
        return [.. catalogue.Indicators.Select(indicator => Compute(indicator,
            byId.GetValueOrDefault(indicator.Id) ?? new IndicatorAggregate { IndicatorId = indicator.Id, Kind = indicator.Kind }))];
    }

    /// <summary>
    /// Indicators with a target whose figure could be judged and falls short, sorted by id. For one
    /// unit's aggregates this is the unit's laggard list; a ratio with a zero denominator cannot be judged.
    /// </summary>
    public static IReadOnlyList<string> UnmetTargetIds(CatalogueIndex catalogue, IReadOnlyList<IndicatorAggregate> aggregates) =>
        [.. Compute(catalogue, aggregates)
            .Where(static f => f.Attainment is { Met: false } && f.Value is not null)
            .Select(static f => f.Indicator.Id)
            .Order(StringComparer.Ordinal)];

    public static IndicatorFigure Compute(Indicator indicator, IndicatorAggregate aggregate)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        ArgumentNullException.ThrowIfNull(aggregate);
        var value = HeadlineValue(aggregate);
        return new IndicatorFigure(indicator, aggregate, value, AttainmentOf(indicator, aggregate, value));
    }

    /// <summary>
    /// Ratios are rebuilt from summed numerators and denominators, shares from unit counts, means from
    /// sum and count: never an average of child ratios.
    /// </summary>
    public static Rational? HeadlineValue(IndicatorAggregate aggregate)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        if (aggregate.UnitCount == 0)
        {
            return null;
        }

        return aggregate.Kind switch
        {
            ValueKind.Count => new Rational(aggregate.Total, 1),
            ValueKind.Flag or ValueKind.Measure => new Rational(aggregate.Total, aggregate.UnitCount),
            ValueKind.Ratio when aggregate.DenominatorTotal > 0 => new Rational(aggregate.Total, aggregate.DenominatorTotal),
            _ => null,
        };
    }

    private static Attainment? AttainmentOf(Indicator indicator, IndicatorAggregate aggregate, Rational? value)
    {
        if (indicator.Target is not { } target)
        {
            return null;
        }

        // Shares and ratios are judged on the node's own figure; per-unit thresholds (reserve cadres ≥ 2)
        // are met only when every unit that reported meets them.
        var met = indicator.Kind switch
        {
            ValueKind.Flag or ValueKind.Ratio => value is { } v && v.Satisfies(target.Comparison, Rational.ThresholdOf(target)),
            _ => aggregate.UnitCount > 0 && aggregate.MeetingTargetCount == aggregate.UnitCount,
        };
        return new Attainment(target, met, aggregate.MeetingTargetCount, aggregate.UnitCount);
    }
}
