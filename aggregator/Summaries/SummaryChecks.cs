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
        if (!Period.TryParse(summary.Period, out var period) || !period.IsCanonicalText(summary.Period))
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

        // Aggregates come sorted by id, the order of the layout's slots: each is looked for after the last one first.
        var layout = catalogue.AggregateLayout;
        var guess = 0;
        string? previous = null;
        foreach (var aggregate in summary.Aggregates)
        {
            int slot;
            if (guess < layout.Ids.Length && string.Equals(layout.Ids[guess], aggregate.IndicatorId, StringComparison.Ordinal))
            {
                slot = guess;
            }
            else if (!layout.SlotOf.TryGetValue(aggregate.IndicatorId, out slot))
            {
                slot = -1;
            }

            guess = slot + 1;
            if (slot < 0)
            {
                var field = FieldOf(aggregate);
                return new(field, RejectionReason.UnknownIndicator, $"{field} is not in catalogue version {catalogue.Version}.");
            }

            var indicator = layout.Indicators[slot];
            if (indicator.Kind != aggregate.Kind)
            {
                var field = FieldOf(aggregate);
                return new(field, RejectionReason.ValueKindMismatch, $"{field} is {aggregate.Kind}; the catalogue says {indicator.Kind}.");
            }

            if (previous is not null && string.CompareOrdinal(previous, aggregate.IndicatorId) >= 0)
            {
                return new(FieldOf(aggregate), RejectionReason.MalformedSummary, "summary.aggregates must be sorted by indicator id without repeats.");
            }

            // A unit may have ledger items without a report: ledger figures are bounded by the leaves expected.
            var units = layout.IsFromLedger[slot] ? summary.Coverage.ExpectedLeafCount : summary.Coverage.ReportedLeafCount;
            if (CheckAggregate(indicator, aggregate, units) is { } problem)
            {
                return problem;
            }

            previous = aggregate.IndicatorId;
        }

        return null;
    }

    /// <summary>The field an aggregate's problems are reported under; written only when there is one.</summary>
    private static string FieldOf(IndicatorAggregate aggregate) => $"summary.aggregates[{aggregate.IndicatorId}]";

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
        var contributions = summary.Contributions;
        if (InBuildOrder(contributions))
        {
            return null;
        }

        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var contribution in contributions)
        {
            // A hosted unit is cited by its report and by its ledger; nothing is cited twice as the same kind.
            var key = contribution.Kind == ContributionKind.Ledger ? LedgerKeyPrefix + contribution.SourceId : contribution.SourceId;
            if (contribution.Kind == ContributionKind.Unspecified || !sources.Add(key))
            {
                return new("summary.contributions", RejectionReason.MalformedSummary,
                    $"summary.contributions lists '{contribution.SourceId}' twice or without a kind.");
            }
        }

        return null;
    }

    private const string LedgerKeyPrefix = "ledger|";

    /// <summary>
    /// True when the contributions are sorted as <see cref="SummaryBuilder"/> writes them (by source id, then
    /// kind) and so cannot break the rule above: every kind is given, each source id is cited at most once
    /// besides its ledger, and no id starts with the ledger key's prefix. Then no set is needed; any other
    /// list gets the full check, which also names the first repeat.
    /// </summary>
    private static bool InBuildOrder(Google.Protobuf.Collections.RepeatedField<Contribution> contributions)
    {
        Contribution? previous = null;
        foreach (var contribution in contributions)
        {
            if (contribution.Kind == ContributionKind.Unspecified || contribution.SourceId.StartsWith(LedgerKeyPrefix, StringComparison.Ordinal))
            {
                return false;
            }

            if (previous is not null)
            {
                var order = string.CompareOrdinal(previous.SourceId, contribution.SourceId);

                // The same source twice: only as something else, then its ledger (which sorts after every other kind).
                if (order > 0 || (order == 0 && (previous.Kind == ContributionKind.Ledger || contribution.Kind != ContributionKind.Ledger)))
                {
                    return false;
                }
            }

            previous = contribution;
        }

        return true;
    }

    /// <summary>
    /// Why an aggregate cannot be the merge of valid unit values, with the reason a report breaking the
    /// same rule would get; null when it can. Every field is checked against the indicator's kind.
    /// </summary>
    private static FieldViolation? CheckAggregate(Indicator indicator, IndicatorAggregate a, uint reportedLeafCount)
    {
        var kind = indicator.Kind;
        if (kind != ValueKind.Category && a.Categories.Count > 0)
        {
            var field = FieldOf(a);
            return new($"{field}.categories", RejectionReason.ValueKindMismatch, $"{field} is {kind} and cannot have categories.");
        }

        if (kind != ValueKind.Ratio && a.DenominatorTotal != 0)
        {
            var field = FieldOf(a);
            return new($"{field}.denominator_total", RejectionReason.ValueKindMismatch, $"{field} is {kind} and cannot have a denominator.");
        }

        if (kind != ValueKind.Measure && (a.Min != 0 || a.Max != 0))
        {
            var field = FieldOf(a);
            return new($"{field}.min", RejectionReason.ValueKindMismatch, $"{field} is {kind} and cannot have a min or max.");
        }

        if (kind == ValueKind.Category && a.Total != 0)
        {
            var field = FieldOf(a);
            return new($"{field}.total", RejectionReason.ValueKindMismatch, $"{field} is CATEGORY; its units are counted per category, not in total.");
        }

        // In this order, the first negative one named.
        if ((Negative(a, "total", a.Total) ?? Negative(a, "denominator_total", a.DenominatorTotal) ?? Negative(a, "min", a.Min) ?? Negative(a, "max", a.Max)) is { } negative)
        {
            return negative;
        }

        var units = a.UnitCount;
        if (units > reportedLeafCount)
        {
            var field = FieldOf(a);
            return new($"{field}.unit_count", RejectionReason.ValueTooLarge, $"{field}.unit_count is {units}, more than the {reportedLeafCount} leaves reported.");
        }

        if (a.MeetingTargetCount > units)
        {
            var field = FieldOf(a);
            return new($"{field}.meeting_target_count", RejectionReason.ValueTooLarge,
                $"{field}.meeting_target_count is {a.MeetingTargetCount}, more than its {units} units.");
        }

        // One unit reports at most ReportValidator.MaxValue, a flag at most 1.
        var perUnit = kind == ValueKind.Flag ? 1 : ReportValidator.MaxValue;
        if (a.Total > perUnit * units)
        {
            var field = FieldOf(a);
            return new($"{field}.total", RejectionReason.ValueTooLarge, $"{field}.total is {a.Total}, more than its {units} units can report.");
        }

        if (a.DenominatorTotal > ReportValidator.MaxValue * units)
        {
            var field = FieldOf(a);
            return new($"{field}.denominator_total", RejectionReason.ValueTooLarge,
                $"{field}.denominator_total is {a.DenominatorTotal}, more than its {units} units can report.");
        }

        return kind switch
        {
            ValueKind.Measure => CheckMeasure(a),
            ValueKind.Ratio when indicator.Ratio.NumeratorAtMostDenominator && a.Total > a.DenominatorTotal =>
                new($"{FieldOf(a)}.total", RejectionReason.NumeratorExceedsDenominator,
                    $"{FieldOf(a)}.total (numerators, {a.Total}) exceeds denominator_total ({a.DenominatorTotal})."),
            ValueKind.Category => CheckCategories(indicator, a),
            _ => null,
        };
    }

    private static FieldViolation? Negative(IndicatorAggregate a, string name, long number)
    {
        if (number >= 0)
        {
            return null;
        }

        var field = FieldOf(a);
        return new($"{field}.{name}", RejectionReason.NegativeValue, $"{field}.{name} is {number}; it must not be negative.");
    }

    private static FieldViolation? CheckMeasure(IndicatorAggregate a)
    {
        if (a.UnitCount == 0)
        {
            return a.Min != 0 || a.Max != 0
                ? new($"{FieldOf(a)}.min", RejectionReason.InconsistentCounts, $"{FieldOf(a)} has no units, so no min or max.")
                : null;
        }

        if (a.Max > ReportValidator.MaxValue)
        {
            var field = FieldOf(a);
            return new($"{field}.max", RejectionReason.ValueTooLarge, $"{field}.max is {a.Max}; the largest a unit can report is {ReportValidator.MaxValue}.");
        }

        if (a.Min > a.Max)
        {
            var field = FieldOf(a);
            return new($"{field}.min", RejectionReason.InconsistentCounts, $"{field}.min ({a.Min}) is above max ({a.Max}).");
        }

        // Every unit's value lies between min and max, so the sum does too (no overflow: both are ≤ 10^12 × 10^6).
        return a.Total < a.Min * a.UnitCount || a.Total > a.Max * a.UnitCount
            ? new($"{FieldOf(a)}.total", RejectionReason.InconsistentCounts, $"{FieldOf(a)}.total ({a.Total}) is not between {a.UnitCount} × min and {a.UnitCount} × max.")
            : null;
    }

    private static bool IsCategoryOf(Indicator indicator, string code)
    {
        foreach (var known in indicator.Categories)
        {
            if (known.Code == code)
            {
                return true;
            }
        }

        return false;
    }

    private static FieldViolation? CheckCategories(Indicator indicator, IndicatorAggregate a)
    {
        string? previous = null;
        long sum = 0;
        foreach (var category in a.Categories)
        {
            if (!IsCategoryOf(indicator, category.Code))
            {
                var field = FieldOf(a);
                return new($"{field}.categories", RejectionReason.UnknownCategory,
                    $"{field}.categories has '{category.Code}', not one of {string.Join(", ", indicator.Categories.Select(static c => c.Code))}.");
            }

            if (previous is not null && string.CompareOrdinal(previous, category.Code) >= 0)
            {
                var field = FieldOf(a);
                return new($"{field}.categories", RejectionReason.MalformedSummary, $"{field}.categories must be sorted by code without repeats.");
            }

            previous = category.Code;
            sum += category.UnitCount;
        }

        return sum != a.UnitCount
            ? new($"{FieldOf(a)}.categories", RejectionReason.InconsistentCounts, $"{FieldOf(a)}.categories add up to {sum} units, not unit_count {a.UnitCount}.")
            : null;
    }
}
