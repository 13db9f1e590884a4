using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Aggregator.Reports;

/// <summary>The outcome of validating a submitted report: either the normalised values or the violations.</summary>
public sealed class ReportValidation
{
    internal ReportValidation(Period period, IReadOnlyList<IndicatorValue> values, IReadOnlyList<FieldViolation> violations)
    {
        Period = period;
        Values = values;
        Violations = violations;
    }

    public bool IsValid => Violations.Count == 0;

    public Period Period { get; }

    /// <summary>The values sorted by indicator id (empty when invalid).</summary>
    public IReadOnlyList<IndicatorValue> Values { get; }

    public IReadOnlyList<FieldViolation> Violations { get; }
}

/// <summary>Checks a unit's figures against the catalogue. Pure: the caller passes the instant it received them.</summary>
public static class ReportValidator
{
    /// <summary>Largest value accepted for one unit; keeps national sums far inside 64 bits.</summary>
    public const long MaxValue = 1_000_000_000_000;

    public static ReportValidation Validate(
        CatalogueIndex catalogue, string unitId, string periodText, IReadOnlyList<IndicatorValue> values, DateTimeOffset receiveTime)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(values);
        var violations = new List<FieldViolation>();
        if (string.IsNullOrWhiteSpace(unitId))
        {
            violations.Add(new("unit_id", RejectionReason.MissingField, "unit_id is required."));
        }

        if (!Period.TryParse(periodText, out var period))
        {
            violations.Add(new("period", RejectionReason.MalformedPeriod,
                $"period '{periodText}' is malformed; expected 2026, 2026-H1, 2026-Q1 or 2026-03."));
        }
        else if (period.StartInstant > receiveTime)
        {
            violations.Add(new("period", RejectionReason.PeriodNotStarted, $"period {period} has not started yet."));
        }

        if (values.Count == 0)
        {
            violations.Add(new("values", RejectionReason.EmptyReport, "values must contain at least one indicator."));
        }

        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < values.Count; i++)
        {
            CheckValue(catalogue, values[i], i, positions, violations);
        }

        CheckRatios(catalogue, values, positions, violations);
        return violations.Count > 0
            ? new ReportValidation(period, [], violations)
            : new ReportValidation(period, [.. values.OrderBy(static v => v.IndicatorId, StringComparer.Ordinal)], violations);
    }

    private static void CheckValue(
        CatalogueIndex catalogue, IndicatorValue value, int index, Dictionary<string, int> positions, List<FieldViolation> violations)
    {
        var field = $"values[{index}]";
        if (!catalogue.TryGet(value.IndicatorId, out var indicator))
        {
            violations.Add(new($"{field}.indicator_id", RejectionReason.UnknownIndicator,
                $"{field}.indicator_id '{value.IndicatorId}' is not in catalogue version {catalogue.Version}."));
            return;
        }

        if (!positions.TryAdd(value.IndicatorId, index))
        {
            violations.Add(new($"{field}.indicator_id", RejectionReason.DuplicateIndicator,
                $"{field}.indicator_id '{value.IndicatorId}' appears more than once."));
            return;
        }

        var expected = indicator.Kind switch
        {
            ValueKind.Count => IndicatorValue.ValueOneofCase.Count,
            ValueKind.Flag => IndicatorValue.ValueOneofCase.Flag,
            ValueKind.Measure => IndicatorValue.ValueOneofCase.Measure,
            ValueKind.Category => IndicatorValue.ValueOneofCase.Category,
            _ => IndicatorValue.ValueOneofCase.None,
        };
        if (expected == IndicatorValue.ValueOneofCase.None)
        {
            violations.Add(new($"{field}.indicator_id", RejectionReason.DerivedIndicator,
                $"{field}.indicator_id '{value.IndicatorId}' is derived from other indicators and cannot be reported."));
            return;
        }

        if (value.ValueCase != expected)
        {
            violations.Add(new(field, RejectionReason.ValueKindMismatch,
                $"{field} for '{value.IndicatorId}' must set '{FieldName(expected)}', not '{FieldName(value.ValueCase)}'."));
            return;
        }

        var number = value.ValueCase switch
        {
            IndicatorValue.ValueOneofCase.Count => value.Count,
            IndicatorValue.ValueOneofCase.Measure => value.Measure,
            _ => 0,
        };
        var valueField = $"{field}.{FieldName(expected)}";
        if (number < 0)
        {
            violations.Add(new(valueField, RejectionReason.NegativeValue,
                $"{valueField} for '{value.IndicatorId}' is {number}; it must not be negative."));
        }
        else if (number > MaxValue)
        {
            violations.Add(new(valueField, RejectionReason.ValueTooLarge,
                $"{valueField} for '{value.IndicatorId}' is {number}; the largest accepted is {MaxValue}."));
        }

        if (expected == IndicatorValue.ValueOneofCase.Category && !indicator.Categories.Any(c => c.Code == value.Category))
        {
            violations.Add(new(valueField, RejectionReason.UnknownCategory,
                $"{valueField} '{value.Category}' is not one of {string.Join(", ", indicator.Categories.Select(static c => c.Code))} for '{value.IndicatorId}'."));
        }
    }

    private static void CheckRatios(
        CatalogueIndex catalogue, IReadOnlyList<IndicatorValue> values, Dictionary<string, int> positions, List<FieldViolation> violations)
    {
        foreach (var ratio in catalogue.Ratios)
        {
            var definition = ratio.Ratio;
            if (!definition.NumeratorAtMostDenominator ||
                !positions.TryGetValue(definition.NumeratorIndicatorId, out var n) ||
                !positions.TryGetValue(definition.DenominatorIndicatorId, out var d) ||
                values[n].ValueCase != IndicatorValue.ValueOneofCase.Count ||
                values[d].ValueCase != IndicatorValue.ValueOneofCase.Count)
            {
                continue;
            }

            if (values[n].Count > values[d].Count)
            {
                var field = $"values[{n}].count";
                violations.Add(new(field, RejectionReason.NumeratorExceedsDenominator,
                    $"{field} for '{definition.NumeratorIndicatorId}' is {values[n].Count}, above its denominator " +
                    $"'{definition.DenominatorIndicatorId}' ({values[d].Count}) in ratio '{ratio.Id}'."));
            }
        }
    }

    private static string FieldName(IndicatorValue.ValueOneofCase c) => c switch
    {
        IndicatorValue.ValueOneofCase.Count => "count",
        IndicatorValue.ValueOneofCase.Flag => "flag",
        IndicatorValue.ValueOneofCase.Measure => "measure",
        IndicatorValue.ValueOneofCase.Category => "category",
        _ => "nothing",
    };
}
