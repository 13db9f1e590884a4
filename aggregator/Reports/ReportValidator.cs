using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Aggregator.Reports;

/// <summary>The outcome of validating a submitted report: either the normalised values or the violations.</summary>
public sealed class ReportValidation
{
    internal ReportValidation(Period period, IReadOnlyList<IndicatorValue> values, IReadOnlyList<FieldViolation> violations, int omittedViolationCount)
    {
        Period = period;
        Values = values;
        Violations = violations;
        OmittedViolationCount = omittedViolationCount;
    }

    public bool IsValid => Violations.Count == 0;

    public Period Period { get; }

    /// <summary>The values sorted by indicator id (empty when invalid).</summary>
    public IReadOnlyList<IndicatorValue> Values { get; }

    /// <summary>The first <see cref="ReportValidator.MaxListedViolations"/> violations, in request order.</summary>
    public IReadOnlyList<FieldViolation> Violations { get; }

    /// <summary>Violations found beyond the listed ones: counted, never described, so the answer stays small.</summary>
    public int OmittedViolationCount { get; }
}

/// <summary>
/// Checks a unit's figures against the catalogue. Pure: the caller passes the instant it received them.
/// The unit id and period are checked first and alone; a report is then checked value by value, and
/// only the first <see cref="MaxListedViolations"/> violations are described, the rest only counted,
/// so the work and the answer stay bounded whatever the report holds.
/// </summary>
public static class ReportValidator
{
    /// <summary>Largest value accepted for one unit; keeps national sums far inside 64 bits.</summary>
    public const long MaxValue = 1_000_000_000_000;

    /// <summary>Most violations described in one answer; further ones are counted.</summary>
    public const int MaxListedViolations = 20;

    public static ReportValidation Validate(
        CatalogueIndex catalogue, string unitId, string periodText, IReadOnlyList<IndicatorValue> values, DateTimeOffset receiveTime)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(values);
        var violations = new List<FieldViolation>();
        if (NodeIds.Check(unitId, "unit_id") is { } badUnit)
        {
            violations.Add(badUnit);
        }

        if (NodeIds.CheckPeriod(periodText, "period", out var period) is { } badPeriod)
        {
            violations.Add(badPeriod);
        }
        else if (period.StartInstant > receiveTime)
        {
            violations.Add(new("period", RejectionReason.PeriodNotStarted, $"period {period} has not started yet."));
        }

        if (violations.Count > 0)
        {
            // Ids and periods first: nothing else of a request with a bad one is looked at.
            return new ReportValidation(period, [], violations, 0);
        }

        if (values.Count == 0)
        {
            violations.Add(new("values", RejectionReason.EmptyReport, "values must contain at least one indicator."));
        }

        var omitted = 0;
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < values.Count; i++)
        {
            var reason = CheckValue(catalogue, values[i], i, positions);
            if (reason == RejectionReason.None)
            {
                continue;
            }

            if (violations.Count < MaxListedViolations)
            {
                violations.Add(Describe(catalogue, values[i], i, reason));
            }
            else
            {
                omitted++;
            }
        }

        foreach (var violation in CheckRatios(catalogue, values, positions))
        {
            if (violations.Count < MaxListedViolations)
            {
                violations.Add(violation);
            }
            else
            {
                omitted++;
            }
        }

        return violations.Count > 0
            ? new ReportValidation(period, [], violations, omitted)
            : new ReportValidation(period, [.. values.OrderBy(static v => v.IndicatorId, StringComparer.Ordinal)], violations, 0);
    }

    /// <summary>The rule one value breaks, or None; cheap, so that every value can be checked and counted.</summary>
    private static RejectionReason CheckValue(CatalogueIndex catalogue, IndicatorValue value, int index, Dictionary<string, int> positions)
    {
        if (!catalogue.TryGet(value.IndicatorId, out var indicator))
        {
            return RejectionReason.UnknownIndicator;
        }

        if (!positions.TryAdd(value.IndicatorId, index))
        {
            return RejectionReason.DuplicateIndicator;
        }

        var expected = ExpectedCase(indicator.Kind);
        if (expected == IndicatorValue.ValueOneofCase.None)
        {
            return RejectionReason.DerivedIndicator;
        }

        if (indicator.LedgerCount != LedgerCount.Unspecified)
        {
            return RejectionReason.ComputedIndicator;
        }

        if (value.ValueCase != expected)
        {
            return RejectionReason.ValueKindMismatch;
        }

        var number = NumberOf(value);
        if (number < 0)
        {
            return RejectionReason.NegativeValue;
        }

        if (number > MaxValue)
        {
            return RejectionReason.ValueTooLarge;
        }

        return expected == IndicatorValue.ValueOneofCase.Category && !indicator.Categories.Any(c => c.Code == value.Category)
            ? RejectionReason.UnknownCategory
            : RejectionReason.None;
    }

    /// <summary>The field path and sentence of a violation; built only for the ones listed. Echoed values are bounded.</summary>
    private static FieldViolation Describe(CatalogueIndex catalogue, IndicatorValue value, int index, RejectionReason reason)
    {
        var field = string.Create(CultureInfo.InvariantCulture, $"values[{index}]");
        var id = Echo.Of(value.IndicatorId);
        catalogue.TryGet(value.IndicatorId, out var indicator);
        var expected = indicator is null ? IndicatorValue.ValueOneofCase.None : ExpectedCase(indicator.Kind);
        var valueField = $"{field}.{FieldName(expected)}";
        return reason switch
        {
            RejectionReason.UnknownIndicator => new($"{field}.indicator_id", reason,
                string.Create(CultureInfo.InvariantCulture, $"{field}.indicator_id '{id}' is not in catalogue version {catalogue.Version}.")),
            RejectionReason.DuplicateIndicator => new($"{field}.indicator_id", reason, $"{field}.indicator_id '{id}' appears more than once."),
            RejectionReason.DerivedIndicator => new($"{field}.indicator_id", reason,
                $"{field}.indicator_id '{id}' is derived from other indicators and cannot be reported."),
            RejectionReason.ComputedIndicator => new($"{field}.indicator_id", reason,
                $"{field}.indicator_id '{id}' is computed from the rectification ledger (整改台账) and cannot be typed in: list, fix-report and accept ledger items instead."),
            RejectionReason.ValueKindMismatch => new(field, reason,
                $"{field} for '{id}' must set '{FieldName(expected)}', not '{FieldName(value.ValueCase)}'."),
            RejectionReason.NegativeValue => new(valueField, reason,
                string.Create(CultureInfo.InvariantCulture, $"{valueField} for '{id}' is {NumberOf(value)}; it must not be negative.")),
            RejectionReason.ValueTooLarge => new(valueField, reason,
                string.Create(CultureInfo.InvariantCulture, $"{valueField} for '{id}' is {NumberOf(value)}; the largest accepted is {MaxValue}.")),
            _ => new(valueField, reason,
                $"{valueField} '{Echo.Of(value.Category)}' is not one of {string.Join(", ", indicator!.Categories.Select(static c => c.Code))} for '{id}'."),
        };
    }

    /// <summary>The ratio violations (a list, not an iterator: compiler-made iterators read the current thread id).</summary>
    private static List<FieldViolation> CheckRatios(CatalogueIndex catalogue, IReadOnlyList<IndicatorValue> values, Dictionary<string, int> positions)
    {
        var violations = new List<FieldViolation>();
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
                var field = string.Create(CultureInfo.InvariantCulture, $"values[{n}].count");
                violations.Add(new(field, RejectionReason.NumeratorExceedsDenominator, string.Create(CultureInfo.InvariantCulture,
                    $"{field} for '{definition.NumeratorIndicatorId}' is {values[n].Count}, above its denominator " +
                    $"'{definition.DenominatorIndicatorId}' ({values[d].Count}) in ratio '{ratio.Id}'.")));
            }
        }

        return violations;
    }

    private static IndicatorValue.ValueOneofCase ExpectedCase(ValueKind kind) => kind switch
    {
        ValueKind.Count => IndicatorValue.ValueOneofCase.Count,
        ValueKind.Flag => IndicatorValue.ValueOneofCase.Flag,
        ValueKind.Measure => IndicatorValue.ValueOneofCase.Measure,
        ValueKind.Category => IndicatorValue.ValueOneofCase.Category,
        _ => IndicatorValue.ValueOneofCase.None,
    };

    private static long NumberOf(IndicatorValue value) => value.ValueCase switch
    {
        IndicatorValue.ValueOneofCase.Count => value.Count,
        IndicatorValue.ValueOneofCase.Measure => value.Measure,
        _ => 0,
    };

    private static string FieldName(IndicatorValue.ValueOneofCase c) => c switch
    {
        IndicatorValue.ValueOneofCase.Count => "count",
        IndicatorValue.ValueOneofCase.Flag => "flag",
        IndicatorValue.ValueOneofCase.Measure => "measure",
        IndicatorValue.ValueOneofCase.Category => "category",
        _ => "nothing",
    };
}
