using Federation.Protos.V1;

namespace Federation.Demo;

/// <summary>An indicator of the catalogue by id; null when there is none.</summary>
internal delegate Indicator? CatalogueLookup(string indicatorId);

/// <summary>What the top of the tree should hold for one indicator, worked out from the raw rows.</summary>
internal sealed record ExpectedAggregate(
    int UnitCount, long Total, long DenominatorTotal, long Min, long Max, IReadOnlyDictionary<string, int> Categories, int MeetingTargetCount);

/// <summary>
/// Recomputes the city's figures from the sample rows with nothing but the catalogue's metadata (kind,
/// ratio parts, target), written out plainly instead of calling the aggregator, so the check is independent
/// of the code it checks. COUNT: sum; FLAG: units answering yes; MEASURE: sum, min, max; CATEGORY: units per
/// code; RATIO: summed numerators and denominators over units reporting both. A unit meets a target when
/// its own value does (a FLAG unit by answering yes; a RATIO unit only with a non-zero denominator).
/// The counts the catalogue computes from the rectification ledger come from the sample ledger instead: per village
/// with items, how many it listed, how many were cleared, and how many are overdue now.
/// </summary>
internal static class ExpectedTotals
{
    public static ExpectedAggregate For(Indicator indicator, SampleSheet sheet, IReadOnlyList<LedgerRow> ledger, DateTimeOffset now, CatalogueLookup lookup) =>
        indicator switch
        {
            { LedgerCount: not LedgerCount.Unspecified } => LedgerCounts(indicator, ledger, now),
            { Kind: ValueKind.Ratio } when lookup(indicator.Ratio.NumeratorIndicatorId) is { LedgerCount: not LedgerCount.Unspecified } numerator &&
                                           lookup(indicator.Ratio.DenominatorIndicatorId) is { LedgerCount: not LedgerCount.Unspecified } denominator =>
                LedgerRatio(indicator, numerator, denominator, ledger, now),
            _ => For(indicator, sheet),
        };

    private static ExpectedAggregate For(Indicator indicator, SampleSheet sheet) => indicator.Kind switch
    {
        ValueKind.Count => Numbers(indicator, sheet, hasExtremes: false),
        ValueKind.Measure => Numbers(indicator, sheet, hasExtremes: true),
        ValueKind.Flag => Flags(indicator, sheet),
        ValueKind.Category => Histogram(indicator, sheet),
        ValueKind.Ratio => Ratio(indicator, sheet),
        _ => throw new DemoException($"indicator '{indicator.Id}' has kind {indicator.Kind}, which the check does not know."),
    };

    private static ExpectedAggregate Numbers(Indicator indicator, SampleSheet sheet, bool hasExtremes)
    {
        var values = sheet.Reporting(indicator.Id).Select(row => SampleSheet.Whole(row, indicator.Id)).ToList();
        return new ExpectedAggregate(
            values.Count,
            values.Sum(),
            0,
            hasExtremes && values.Count > 0 ? values.Min() : 0,
            hasExtremes && values.Count > 0 ? values.Max() : 0,
            new Dictionary<string, int>(),
            values.Count(v => Meets(indicator.Target, v, 1)));
    }

    private static ExpectedAggregate Flags(Indicator indicator, SampleSheet sheet)
    {
        var values = sheet.Reporting(indicator.Id).Select(row => SampleSheet.YesNo(row, indicator.Id)).ToList();
        var yes = values.Count(static v => v);
        return new ExpectedAggregate(values.Count, yes, 0, 0, 0, new Dictionary<string, int>(), indicator.Target is null ? 0 : yes);
    }

    private static ExpectedAggregate Histogram(Indicator indicator, SampleSheet sheet)
    {
        var codes = sheet.Reporting(indicator.Id).Select(row => row.Cells[indicator.Id]).ToList();
        var histogram = codes.GroupBy(static c => c, StringComparer.Ordinal).ToDictionary(static g => g.Key, static g => g.Count(), StringComparer.Ordinal);
        return new ExpectedAggregate(codes.Count, 0, 0, 0, 0, histogram, 0);
    }

    private static ExpectedAggregate Ratio(Indicator indicator, SampleSheet sheet)
    {
        var (numeratorId, denominatorId) = (indicator.Ratio.NumeratorIndicatorId, indicator.Ratio.DenominatorIndicatorId);
        var pairs = sheet.Reporting(numeratorId, denominatorId)
            .Select(row => (N: SampleSheet.Whole(row, numeratorId), D: SampleSheet.Whole(row, denominatorId)))
            .ToList();
        return new ExpectedAggregate(
            pairs.Count,
            pairs.Sum(static p => p.N),
            pairs.Sum(static p => p.D),
            0,
            0,
            new Dictionary<string, int>(),
            pairs.Count(p => p.D > 0 && Meets(indicator.Target, p.N, p.D)));
    }

    private static long CountOf(LedgerCount count, IEnumerable<LedgerRow> items, DateTimeOffset now) => count switch
    {
        LedgerCount.Listed => items.Count(),
        LedgerCount.Cleared => items.Count(static r => r.Cleared),
        LedgerCount.Overdue => items.Count(r => SampleLedger.IsOverdue(r, now)),
        _ => throw new DemoException($"ledger count {count} is not one the check knows."),
    };

    private static ExpectedAggregate LedgerCounts(Indicator indicator, IReadOnlyList<LedgerRow> ledger, DateTimeOffset now)
    {
        var values = ledger.GroupBy(static r => r.UnitId).Select(g => CountOf(indicator.LedgerCount, g, now)).ToList();
        return new ExpectedAggregate(values.Count, values.Sum(), 0, 0, 0, new Dictionary<string, int>(), values.Count(v => Meets(indicator.Target, v, 1)));
    }

    private static ExpectedAggregate LedgerRatio(Indicator indicator, Indicator numerator, Indicator denominator, IReadOnlyList<LedgerRow> ledger, DateTimeOffset now)
    {
        var pairs = ledger.GroupBy(static r => r.UnitId)
            .Select(g => (N: CountOf(numerator.LedgerCount, g, now), D: CountOf(denominator.LedgerCount, g, now)))
            .ToList();
        return new ExpectedAggregate(
            pairs.Count, pairs.Sum(static p => p.N), pairs.Sum(static p => p.D), 0, 0, new Dictionary<string, int>(),
            pairs.Count(p => p.D > 0 && Meets(indicator.Target, p.N, p.D)));
    }

    /// <summary>numerator/denominator against the target's exact fraction, by cross-multiplying (denominators are positive).</summary>
    private static bool Meets(Target? target, long numerator, long denominator)
    {
        if (target is null)
        {
            return false;
        }

        var value = (Int128)numerator * target.ThresholdDenominator;
        var threshold = (Int128)target.ThresholdNumerator * denominator;
        return target.Comparison switch
        {
            Comparison.AtLeast => value >= threshold,
            Comparison.AtMost => value <= threshold,
            _ => false,
        };
    }
}
