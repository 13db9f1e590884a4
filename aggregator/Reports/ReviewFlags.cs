using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Aggregator.Reports;

/// <summary>One hosted unit's current report for the period, its earlier periods of the same type, and the warnings stored with it.</summary>
/// <param name="UnitId">The unit.</param>
/// <param name="Values">Its values for the period.</param>
/// <param name="EarlierPeriods">Its values in earlier periods of the same type, one list per period.</param>
/// <param name="Warnings">The WARNING rules its report broke when stored.</param>
public sealed record UnitFigures(
    string UnitId, IReadOnlyList<IndicatorValue> Values, IReadOnlyList<IReadOnlyList<IndicatorValue>> EarlierPeriods, IReadOnlyList<ReportWarning> Warnings);

/// <summary>
/// What a reviewer should look at for one period over a node's hosted units: the stored rule warnings,
/// and the COUNT and MEASURE values that are outliers (<see cref="Outliers"/>) against the unit's own
/// earlier periods or against the other units this period. Pure; flags never refuse a report.
/// </summary>
public static class ReviewFlags
{
    /// <summary>Most flags listed in one answer; the rest are counted.</summary>
    public const int MaxListedFlags = 1_000;

    /// <summary>The flags sorted by unit, indicator and kind, the first <see cref="MaxListedFlags"/>, and how many more were found.</summary>
    public static (IReadOnlyList<ReviewFlag> Flags, int OmittedCount) Find(CatalogueIndex catalogue, IReadOnlyList<UnitFigures> units)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(units);
        var flags = new List<ReviewFlag>();
        var numeric = catalogue.Indicators.Where(static i => i.Kind is ValueKind.Count or ValueKind.Measure).ToList();
        var siblings = numeric.ToDictionary(
            static i => i.Id,
            i => (IReadOnlyList<long>)[.. units.SelectMany(u => u.Values.Where(v => v.IndicatorId == i.Id)).Select(ReportRules.NumberOf)],
            StringComparer.Ordinal);
        foreach (var unit in units)
        {
            foreach (var warning in unit.Warnings)
            {
                var left = warning.IndicatorIds.FirstOrDefault() ?? string.Empty;
                var value = unit.Values.FirstOrDefault(v => v.IndicatorId == left);
                flags.Add(new ReviewFlag
                {
                    UnitId = unit.UnitId,
                    IndicatorId = left,
                    Value = value is null ? 0 : ReportRules.NumberOf(value),
                    Kind = FlagKind.RuleWarning,
                    RuleId = warning.RuleId,
                    MessageZh = warning.MessageZh,
                    MessageEn = warning.MessageEn,
                });
            }

            foreach (var indicator in numeric)
            {
                var current = unit.Values.FirstOrDefault(v => v.IndicatorId == indicator.Id);
                if (current is null)
                {
                    continue;
                }

                var value = ReportRules.NumberOf(current);
                List<long> history = [.. unit.EarlierPeriods.SelectMany(p => p.Where(v => v.IndicatorId == indicator.Id)).Select(ReportRules.NumberOf), value];
                if (Outliers.Score(history, value) is { } own && Outliers.IsOutlier(own, catalogue.OutlierThreshold))
                {
                    flags.Add(OutlierFlag(unit.UnitId, indicator, value, own, FlagKind.OutlierHistory));
                }

                if (Outliers.Score(siblings[indicator.Id], value) is { } peer && Outliers.IsOutlier(peer, catalogue.OutlierThreshold))
                {
                    flags.Add(OutlierFlag(unit.UnitId, indicator, value, peer, FlagKind.OutlierSiblings));
                }
            }
        }

        var sorted = flags
            .OrderBy(static f => f.UnitId, StringComparer.Ordinal)
            .ThenBy(static f => f.IndicatorId, StringComparer.Ordinal)
            .ThenBy(static f => f.Kind)
            .ThenBy(static f => f.RuleId, StringComparer.Ordinal)
            .ToList();
        return sorted.Count > MaxListedFlags ? (sorted[..MaxListedFlags], sorted.Count - MaxListedFlags) : (sorted, 0);
    }

    private static ReviewFlag OutlierFlag(string unitId, Indicator indicator, long value, OutlierScore score, FlagKind kind)
    {
        var against = kind == FlagKind.OutlierHistory ? ("本单位以往各期", "this unit's own earlier periods") : ("本期其他单位", "the other units this period");
        return new ReviewFlag
        {
            UnitId = unitId,
            IndicatorId = indicator.Id,
            Value = value,
            Kind = kind,
            Median = score.Median,
            Score = score.Score,
            MessageZh = string.Create(CultureInfo.InvariantCulture,
                $"{indicator.NameZh}为{value}，明显偏离{against.Item1}（中位数{score.Median:0.##}，修正z分数{score.Score:0.0}）"),
            MessageEn = string.Create(CultureInfo.InvariantCulture,
                $"{indicator.NameEn} is {value}, far from {against.Item2} (median {score.Median:0.##}, modified z-score {score.Score:0.0})"),
        };
    }
}
