using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Aggregator.Reports;

/// <summary>The outcome of the whole-report checks: refusals, and the warnings to store with the report.</summary>
public sealed record ReportRuleCheck(IReadOnlyList<FieldViolation> Violations, int OmittedViolationCount, IReadOnlyList<ReportWarning> Warnings)
{
    public bool IsValid => Violations.Count == 0;
}

/// <summary>
/// Checks a whole report (after any update merge) against the catalogue: indicators required for the
/// period's type, then the cross-indicator rules. Pure; the answer is bounded like the value checks.
/// </summary>
public static class ReportRules
{
    /// <summary>Most indicator ids named in one sentence; the rest are counted.</summary>
    public const int MaxNamedIndicators = 10;

    public static ReportRuleCheck Check(CatalogueIndex catalogue, Period period, IReadOnlyList<IndicatorValue> values)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(values);
        var byId = values.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal);
        var violations = new List<FieldViolation>();
        var omitted = 0;
        var missing = catalogue.RequiredFor(period.Type).Where(id => !byId.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            violations.Add(new("values", RejectionReason.MissingRequired, string.Create(CultureInfo.InvariantCulture,
                $"values lack {missing.Count} indicator(s) required for {period.Type.ToString().ToLowerInvariant()} reports: {Names(missing)}.")));
        }

        var warnings = new List<ReportWarning>();
        foreach (var rule in catalogue.Rules)
        {
            if (!byId.TryGetValue(rule.LeftIndicatorId, out var left) || !byId.TryGetValue(rule.RightIndicatorId, out var right) ||
                Holds(rule.Comparison, NumberOf(left), NumberOf(right)))
            {
                continue;
            }

            var l = NumberOf(left);
            var r = NumberOf(right);
            if (rule.Severity == RuleSeverity.Warning)
            {
                warnings.Add(WarningOf(rule, l, r));
            }
            else if (violations.Count < ReportValidator.MaxListedViolations)
            {
                violations.Add(new("values", RejectionReason.RuleViolated, string.Create(CultureInfo.InvariantCulture,
                    $"rule '{rule.Id}': '{rule.LeftIndicatorId}' ({l}) must be {Word(rule.Comparison)} '{rule.RightIndicatorId}' ({r}): {rule.MessageEn}")));
            }
            else
            {
                omitted++;
            }
        }

        return new ReportRuleCheck(violations, omitted, warnings);
    }

    /// <summary>The stored form of a broken WARNING rule, with the values in both languages.</summary>
    public static ReportWarning WarningOf(ValidationRule rule, long left, long right)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new ReportWarning
        {
            RuleId = rule.Id,
            IndicatorIds = { rule.LeftIndicatorId, rule.RightIndicatorId },
            MessageZh = string.Create(CultureInfo.InvariantCulture, $"{rule.MessageZh}（{left} / {right}）"),
            MessageEn = string.Create(CultureInfo.InvariantCulture, $"{rule.MessageEn} ({left} / {right})"),
        };
    }

    /// <summary>A rule's comparison; both sides are whole numbers, so it never rounds.</summary>
    public static bool Holds(Comparison comparison, long left, long right) =>
        comparison == Comparison.AtMost ? left <= right : left >= right;

    /// <summary>A count or measure as a number, a flag as 1 or 0; other kinds are never compared.</summary>
    public static long NumberOf(IndicatorValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.ValueCase switch
        {
            IndicatorValue.ValueOneofCase.Count => value.Count,
            IndicatorValue.ValueOneofCase.Measure => value.Measure,
            IndicatorValue.ValueOneofCase.Flag => value.Flag ? 1 : 0,
            _ => 0,
        };
    }

    /// <summary>Up to <see cref="MaxNamedIndicators"/> ids, then how many more, so a sentence stays bounded.</summary>
    public static string Names(IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var named = string.Join(", ", ids.Take(MaxNamedIndicators).Select(static id => $"'{Identifiers.Echo.Of(id)}'"));
        return ids.Count > MaxNamedIndicators
            ? string.Create(CultureInfo.InvariantCulture, $"{named} and {ids.Count - MaxNamedIndicators} more")
            : named;
    }

    private static string Word(Comparison comparison) => comparison == Comparison.AtMost ? "at most" : "at least";
}
