using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Aggregator.Summaries;

/// <summary>Structural checks on a verified child summary before a parent merges it.</summary>
public static class SummaryChecks
{
    /// <summary>Returns the first rule the summary breaks, or null when it may be merged.</summary>
    public static FieldViolation? Check(Summary summary, CatalogueIndex catalogue)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(catalogue);
        if (!Period.TryParse(summary.Period, out var period) || period.ToString() != summary.Period)
        {
            return new("summary.period", RejectionReason.MalformedPeriod, $"summary.period '{summary.Period}' is not a canonical period.");
        }

        if (summary.Version == 0)
        {
            return new("summary.version", RejectionReason.MalformedSummary, "summary.version must be at least 1.");
        }

        var coverage = summary.Coverage;
        if (coverage is null || coverage.ReportedLeafCount > coverage.ExpectedLeafCount || coverage.OnTimeLeafCount > coverage.ReportedLeafCount)
        {
            return new("summary.coverage", RejectionReason.MalformedSummary, "summary.coverage is missing or reports more leaves than expected.");
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

            if (aggregate.Total < 0 || aggregate.DenominatorTotal < 0 || aggregate.Min < 0 ||
                aggregate.UnitCount > coverage.ReportedLeafCount || aggregate.MeetingTargetCount > aggregate.UnitCount)
            {
                return new(field, RejectionReason.NegativeValue, $"{field} has a negative total or more units than reported.");
            }

            previous = aggregate.IndicatorId;
        }

        return null;
    }
}
