using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Protos.V1;

namespace Federation.Aggregator.Summaries;

/// <summary>
/// Structural checks on a verified child summary before a parent merges it. The bounds keep every
/// later merge inside 64 bits, so that no child can make its parent's rebuild fail.
/// </summary>
public static class SummaryChecks
{
    /// <summary>Most leaf units one summary may cover; with <see cref="ReportValidator.MaxValue"/> sums stay below 2^63.</summary>
    public const uint MaxLeafCount = 1_000_000;

    /// <summary>Returns the first rule the summary breaks, or null when it may be merged.</summary>
    /// <param name="summary">The child's summary, already verified.</param>
    /// <param name="catalogue">The parent's catalogue.</param>
    /// <param name="receiveTime">When the parent received it: a period that has not started is refused.</param>
    public static FieldViolation? Check(Summary summary, CatalogueIndex catalogue, DateTimeOffset receiveTime)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(catalogue);
        if (!Period.TryParse(summary.Period, out var period) || period.ToString() != summary.Period)
        {
            return new("summary.period", RejectionReason.MalformedPeriod, $"summary.period '{summary.Period}' is not a canonical period.");
        }

        if (period.StartInstant > receiveTime)
        {
            return new("summary.period", RejectionReason.PeriodNotStarted, $"summary.period {period} has not started yet.");
        }

        if (summary.Version is 0 or > long.MaxValue)
        {
            return new("summary.version", RejectionReason.MalformedSummary, "summary.version must be between 1 and 2^63-1.");
        }

        var coverage = summary.Coverage;
        if (coverage is null || coverage.ExpectedLeafCount > MaxLeafCount ||
            coverage.ReportedLeafCount > coverage.ExpectedLeafCount || coverage.OnTimeLeafCount > coverage.ReportedLeafCount)
        {
            return new("summary.coverage", RejectionReason.MalformedSummary,
                $"summary.coverage is missing or inconsistent (at most {MaxLeafCount} expected, reported ≤ expected, on time ≤ reported).");
        }

        if (CheckContributions(summary) is { } contributionProblem)
        {
            return contributionProblem;
        }

        string? previous = null;
        foreach (var aggregate in summary.Aggregates)
        {
            var field = $"summary.aggregates[{aggregate.IndicatorId}]";
            if (!catalogue.TryGet(aggregate.IndicatorId, out var indicator))
            {
                return new(field, RejectionReason.UnknownIndicator, $"{field} is not in catalogue version {catalogue.Version}.");
            }

            if (indicator.Kind != aggregate.Kind)
            {
                return new(field, RejectionReason.ValueKindMismatch, $"{field} is {aggregate.Kind}; the catalogue says {indicator.Kind}.");
            }

            if (previous is not null && string.CompareOrdinal(previous, aggregate.IndicatorId) >= 0)
            {
                return new(field, RejectionReason.MalformedSummary, "summary.aggregates must be sorted by indicator id without repeats.");
            }

            if (CheckAggregate(indicator, aggregate, coverage.ReportedLeafCount) is { } problem)
            {
                return new(field, RejectionReason.MalformedSummary, $"{field}: {problem}");
            }

            previous = aggregate.IndicatorId;
        }

        return null;
    }

    private static FieldViolation? CheckContributions(Summary summary)
    {
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var contribution in summary.Contributions)
        {
            if (contribution.Kind == ContributionKind.Unspecified || !sources.Add(contribution.SourceId))
            {
                return new("summary.contributions", RejectionReason.MalformedSummary,
                    $"summary.contributions lists '{contribution.SourceId}' twice or without a kind.");
            }
        }

        return null;
    }

    /// <summary>Why an aggregate cannot be the merge of valid unit values, or null.</summary>
    private static string? CheckAggregate(Indicator indicator, IndicatorAggregate a, uint reportedLeafCount)
    {
        var units = a.UnitCount;
        var maxTotal = ReportValidator.MaxValue * units;
        if (units > reportedLeafCount || a.MeetingTargetCount > units)
        {
            return "more units than reported, or more meeting the target than reporting.";
        }

        if (a.Total < 0 || a.DenominatorTotal < 0 || a.Total > maxTotal || a.DenominatorTotal > maxTotal)
        {
            return "a total is negative or larger than its units can report.";
        }

        return indicator.Kind switch
        {
            ValueKind.Flag when a.Total > units => "more units answering yes than reporting.",
            ValueKind.Measure when units > 0 && (a.Min < 0 || a.Min > a.Max || a.Max > ReportValidator.MaxValue) => "min and max are inconsistent.",
            ValueKind.Ratio when indicator.Ratio.NumeratorAtMostDenominator && a.Total > a.DenominatorTotal => "the numerator exceeds the denominator.",
            ValueKind.Category when a.Categories.Any(c => indicator.Categories.All(k => k.Code != c.Code)) => "an unknown category code.",
            ValueKind.Category when a.Categories.Sum(static c => (long)c.UnitCount) != units => "category counts do not add up to the units.",
            _ => null,
        };
    }
}
