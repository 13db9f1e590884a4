using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Ratings;
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

        if (summary.Version > VersionRules.LatestAcceptableVersion(receiveTime))
        {
            return new("summary.version", RejectionReason.FutureVersion,
                $"summary.version {summary.Version} is beyond this node's clock: versions are at most the build time in Unix milliseconds " +
                $"(+{VersionRules.AllowedClockSkew.TotalMinutes:0} min skew), here {VersionRules.LatestAcceptableVersion(receiveTime)}.");
        }

        if (CheckCoverage(summary.Coverage) is { } coverageProblem)
        {
            return coverageProblem;
        }

        if (CheckContributions(summary) is { } contributionProblem)
        {
            return contributionProblem;
        }

        if (CheckRatings(summary, period) is { } ratingProblem)
        {
            return ratingProblem;
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

            // A unit may have ledger items without a report: ledger figures are bounded by the leaves expected.
            var units = catalogue.IsFromLedger(indicator) ? summary.Coverage.ExpectedLeafCount : summary.Coverage.ReportedLeafCount;
            if (CheckAggregate(indicator, aggregate, units, field) is { } problem)
            {
                return problem;
            }

            previous = aggregate.IndicatorId;
        }

        return null;
    }

    private static FieldViolation? CheckCoverage(Coverage? coverage)
    {
        const string field = "summary.coverage";
        if (coverage is null)
        {
            return new(field, RejectionReason.MissingField, $"{field} is required.");
        }

        if (coverage.ExpectedLeafCount > MaxLeafCount)
        {
            return new($"{field}.expected_leaf_count", RejectionReason.ValueTooLarge,
                $"{field}.expected_leaf_count is {coverage.ExpectedLeafCount}; one summary covers at most {MaxLeafCount} leaves.");
        }

        if (coverage.ReportedLeafCount > coverage.ExpectedLeafCount || coverage.OnTimeLeafCount > coverage.ReportedLeafCount)
        {
            return new(field, RejectionReason.InconsistentCounts,
                $"{field} must have on time ≤ reported ≤ expected leaves, not {coverage.OnTimeLeafCount} ≤ {coverage.ReportedLeafCount} ≤ {coverage.ExpectedLeafCount}.");
        }

        if (coverage.ApprovedLeafCount > coverage.ReportedLeafCount || coverage.CorrectedAfterApprovalLeafCount > coverage.ReportedLeafCount)
        {
            return new(field, RejectionReason.InconsistentCounts,
                $"{field} must have approved and corrected-after-approval leaves ≤ reported leaves ({coverage.ReportedLeafCount}).");
        }

        return Unconfirmed.Problem(coverage) is { } unconfirmed
            ? new($"{field}.unconfirmed_nodes", RejectionReason.InconsistentCounts, $"{field} {unconfirmed}")
            : null;
    }

    /// <summary>Star histograms and the rating citation belong to year summaries, and must be a merge of statements.</summary>
    private static FieldViolation? CheckRatings(Summary summary, Period period)
    {
        if (summary.StarHistograms.Count == 0 && summary.Rating is null)
        {
            return null;
        }

        if (period.Type != PeriodType.Year)
        {
            return new("summary.star_histograms", RejectionReason.MalformedSummary, $"summary of {period} carries star ratings; only year summaries do.");
        }

        if (StarHistograms.Check(summary.StarHistograms, "summary.star_histograms") is { } problem)
        {
            return problem;
        }

        if (summary.Rating is { } rating &&
            (rating.Version is 0 or > long.MaxValue || rating.Digest.Length != 32 || rating.RatedUnitCount == 0 ||
             rating.RatedUnitCount > StarHistograms.UnitCount(summary.StarHistograms)))
        {
            return new("summary.rating", RejectionReason.InconsistentCounts,
                "summary.rating needs a version, a 32-byte digest and 1 to as many rated units as its star histograms count.");
        }

        return null;
    }

    private static FieldViolation? CheckContributions(Summary summary)
    {
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var contribution in summary.Contributions)
        {
            // A hosted unit is cited by its report and by its ledger; nothing is cited twice as the same kind.
            var key = contribution.Kind == ContributionKind.Ledger ? "ledger|" + contribution.SourceId : contribution.SourceId;
            if (contribution.Kind == ContributionKind.Unspecified || !sources.Add(key))
            {
                return new("summary.contributions", RejectionReason.MalformedSummary,
                    $"summary.contributions lists '{contribution.SourceId}' twice or without a kind.");
            }
        }

        return null;
    }

    /// <summary>
    /// Why an aggregate cannot be the merge of valid unit values, with the reason a report breaking the
    /// same rule would get; null when it can. Every field is checked against the indicator's kind.
    /// </summary>
    private static FieldViolation? CheckAggregate(Indicator indicator, IndicatorAggregate a, uint reportedLeafCount, string field)
    {
        var kind = indicator.Kind;
        if (kind != ValueKind.Category && a.Categories.Count > 0)
        {
            return new($"{field}.categories", RejectionReason.ValueKindMismatch, $"{field} is {kind} and cannot have categories.");
        }

        if (kind != ValueKind.Ratio && a.DenominatorTotal != 0)
        {
            return new($"{field}.denominator_total", RejectionReason.ValueKindMismatch, $"{field} is {kind} and cannot have a denominator.");
        }

        if (kind != ValueKind.Measure && (a.Min != 0 || a.Max != 0))
        {
            return new($"{field}.min", RejectionReason.ValueKindMismatch, $"{field} is {kind} and cannot have a min or max.");
        }

        if (kind == ValueKind.Category && a.Total != 0)
        {
            return new($"{field}.total", RejectionReason.ValueKindMismatch, $"{field} is CATEGORY; its units are counted per category, not in total.");
        }

        foreach (var (name, number) in new[] { ("total", a.Total), ("denominator_total", a.DenominatorTotal), ("min", a.Min), ("max", a.Max) })
        {
            if (number < 0)
            {
                return new($"{field}.{name}", RejectionReason.NegativeValue, $"{field}.{name} is {number}; it must not be negative.");
            }
        }

        var units = a.UnitCount;
        if (units > reportedLeafCount)
        {
            return new($"{field}.unit_count", RejectionReason.ValueTooLarge, $"{field}.unit_count is {units}, more than the {reportedLeafCount} leaves reported.");
        }

        if (a.MeetingTargetCount > units)
        {
            return new($"{field}.meeting_target_count", RejectionReason.ValueTooLarge,
                $"{field}.meeting_target_count is {a.MeetingTargetCount}, more than its {units} units.");
        }

        // One unit reports at most ReportValidator.MaxValue, a flag at most 1.
        var perUnit = kind == ValueKind.Flag ? 1 : ReportValidator.MaxValue;
        if (a.Total > perUnit * units)
        {
            return new($"{field}.total", RejectionReason.ValueTooLarge, $"{field}.total is {a.Total}, more than its {units} units can report.");
        }

        if (a.DenominatorTotal > ReportValidator.MaxValue * units)
        {
            return new($"{field}.denominator_total", RejectionReason.ValueTooLarge,
                $"{field}.denominator_total is {a.DenominatorTotal}, more than its {units} units can report.");
        }

        return kind switch
        {
            ValueKind.Measure => CheckMeasure(a, field),
            ValueKind.Ratio when indicator.Ratio.NumeratorAtMostDenominator && a.Total > a.DenominatorTotal =>
                new($"{field}.total", RejectionReason.NumeratorExceedsDenominator,
                    $"{field}.total (numerators, {a.Total}) exceeds denominator_total ({a.DenominatorTotal})."),
            ValueKind.Category => CheckCategories(indicator, a, field),
            _ => null,
        };
    }

    private static FieldViolation? CheckMeasure(IndicatorAggregate a, string field)
    {
        if (a.UnitCount == 0)
        {
            return a.Min != 0 || a.Max != 0
                ? new($"{field}.min", RejectionReason.InconsistentCounts, $"{field} has no units, so no min or max.")
                : null;
        }

        if (a.Max > ReportValidator.MaxValue)
        {
            return new($"{field}.max", RejectionReason.ValueTooLarge, $"{field}.max is {a.Max}; the largest a unit can report is {ReportValidator.MaxValue}.");
        }

        if (a.Min > a.Max)
        {
            return new($"{field}.min", RejectionReason.InconsistentCounts, $"{field}.min ({a.Min}) is above max ({a.Max}).");
        }

        // Every unit's value lies between min and max, so the sum does too (no overflow: both are ≤ 10^12 × 10^6).
        return a.Total < a.Min * a.UnitCount || a.Total > a.Max * a.UnitCount
            ? new($"{field}.total", RejectionReason.InconsistentCounts, $"{field}.total ({a.Total}) is not between {a.UnitCount} × min and {a.UnitCount} × max.")
            : null;
    }

    private static FieldViolation? CheckCategories(Indicator indicator, IndicatorAggregate a, string field)
    {
        string? previous = null;
        long sum = 0;
        foreach (var category in a.Categories)
        {
            if (indicator.Categories.All(k => k.Code != category.Code))
            {
                return new($"{field}.categories", RejectionReason.UnknownCategory,
                    $"{field}.categories has '{category.Code}', not one of {string.Join(", ", indicator.Categories.Select(static c => c.Code))}.");
            }

            if (previous is not null && string.CompareOrdinal(previous, category.Code) >= 0)
            {
                return new($"{field}.categories", RejectionReason.MalformedSummary, $"{field}.categories must be sorted by code without repeats.");
            }

            previous = category.Code;
            sum += category.UnitCount;
        }

        return sum != a.UnitCount
            ? new($"{field}.categories", RejectionReason.InconsistentCounts, $"{field}.categories add up to {sum} units, not unit_count {a.UnitCount}.")
            : null;
    }
}
