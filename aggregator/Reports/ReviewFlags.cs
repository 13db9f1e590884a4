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

/// <summary>Where a flag stands in the list's one order: unit id, indicator id, kind (its number), rule id, each ordinal.</summary>
public readonly record struct FlagPosition(string UnitId, string IndicatorId, FlagKind Kind, string RuleId) : IComparable<FlagPosition>
{
    public static FlagPosition Of(ReviewFlag flag)
    {
        ArgumentNullException.ThrowIfNull(flag);
        return new(flag.UnitId, flag.IndicatorId, flag.Kind, flag.RuleId);
    }

    /// <summary>A total order on flags: no two flags of one list share a position (one warning per rule, one outlier per kind).</summary>
    public int CompareTo(FlagPosition other)
    {
        var c = string.CompareOrdinal(UnitId, other.UnitId);
        c = c != 0 ? c : string.CompareOrdinal(IndicatorId, other.IndicatorId);
        c = c != 0 ? c : ((int)Kind).CompareTo((int)other.Kind);
        return c != 0 ? c : string.CompareOrdinal(RuleId, other.RuleId);
    }

    public static bool operator <(FlagPosition left, FlagPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(FlagPosition left, FlagPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(FlagPosition left, FlagPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(FlagPosition left, FlagPosition right) => left.CompareTo(right) >= 0;
}

/// <summary>
/// What a reviewer should look at for one period over a node's hosted units: the stored rule warnings,
/// and the COUNT and MEASURE values that are outliers (<see cref="Outliers"/>) against the unit's own
/// earlier periods or against the other units this period. Pure; flags never refuse a report.
/// </summary>
public static class ReviewFlags
{
    /// <summary>
    /// One page of the flags in <see cref="FlagPosition"/> order: at most <paramref name="pageSize"/> flags after
    /// <paramref name="after"/> (from the first when null), and how many follow them. Pages read one after another
    /// list every flag once, in order, as long as the figures do not change in between.
    /// </summary>
    public static (IReadOnlyList<ReviewFlag> Flags, int FollowingCount) Page(
        CatalogueIndex catalogue, IReadOnlyList<UnitFigures> units, FlagPosition? after, int pageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        var all = Find(catalogue, units);
        var start = 0;
        if (after is { } cursor)
        {
            // The first flag past the cursor: the list is sorted, so a binary search finds it.
            var (low, high) = (0, all.Count);
            while (low < high)
            {
                var middle = low + ((high - low) / 2);
                (low, high) = FlagPosition.Of(all[middle]) <= cursor ? (middle + 1, high) : (low, middle);
            }

            start = low;
        }

        var count = Math.Min(pageSize, all.Count - start);
        return ([.. all.Skip(start).Take(count)], all.Count - start - count);
    }

    /// <summary>Every flag, sorted in <see cref="FlagPosition"/> order.</summary>
    public static IReadOnlyList<ReviewFlag> Find(CatalogueIndex catalogue, IReadOnlyList<UnitFigures> units)
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

        flags.Sort(static (a, b) => FlagPosition.Of(a).CompareTo(FlagPosition.Of(b)));
        return flags;
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
