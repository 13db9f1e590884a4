using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Protos.V1;

namespace Federation.Aggregator.Import;

/// <summary>
/// Places the refusals of a unit's report (from <see cref="ReportValidator"/>, <see cref="ReportMerge"/> and
/// <see cref="ReportRules"/>, the checks SubmitReport makes) on the sheet: the row of the unit, the column of
/// the indicator at fault, and a sentence in Chinese and English. Pure.
/// </summary>
public static class SheetReports
{
    /// <summary>
    /// The problems of one row. <paramref name="checkedValues"/> are the values the violations were found
    /// in: the row's values for a validator's violation (indexed as values[i]), the report as it would be
    /// stored for the rules.
    /// </summary>
    public static IReadOnlyList<SheetProblem> Place(
        CatalogueIndex catalogue, Period period, SheetRow row, FieldViolation violation, IReadOnlyList<IndicatorValue> checkedValues)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(checkedValues);
        var reason = ReasonText(violation.Reason);
        var problems = new List<SheetProblem>();
        SheetProblem At(string indicatorId, string zh, string en) =>
            new(row.Sheet, row.RowOf.GetValueOrDefault(indicatorId, row.Row), row.ColumnOf.GetValueOrDefault(indicatorId, string.Empty), row.UnitId, indicatorId, zh, en, reason);

        switch (violation.Reason)
        {
            case RejectionReason.RuleViolated:
                var byId = checkedValues.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal);
                foreach (var rule in catalogue.Rules.Where(static r => r.Severity == RuleSeverity.Error))
                {
                    if (byId.TryGetValue(rule.LeftIndicatorId, out var left) && byId.TryGetValue(rule.RightIndicatorId, out var right) &&
                        !ReportRules.Holds(rule.Comparison, ReportRules.NumberOf(left), ReportRules.NumberOf(right)))
                    {
                        var (l, r) = (ReportRules.NumberOf(left), ReportRules.NumberOf(right));
                        problems.Add(At(rule.LeftIndicatorId,
                            string.Create(CultureInfo.InvariantCulture, $"{rule.MessageZh}（{NameZh(catalogue, rule.LeftIndicatorId)} {l}，{NameZh(catalogue, rule.RightIndicatorId)} {r}）"),
                            string.Create(CultureInfo.InvariantCulture, $"{rule.MessageEn} ({rule.LeftIndicatorId} {l}, {rule.RightIndicatorId} {r}); rule '{rule.Id}'")));
                    }
                }

                break;
            case RejectionReason.MissingRequired:
                var present = checkedValues.Select(static v => v.IndicatorId).ToHashSet(StringComparer.Ordinal);
                var missing = catalogue.RequiredFor(period.Type).Where(id => !present.Contains(id)).ToList();
                problems.Add(At(string.Empty,
                    $"缺少本期必填指标：{string.Join("、", missing.Take(ReportRules.MaxNamedIndicators).Select(id => NameZh(catalogue, id)))}{More(missing.Count)}",
                    violation.Description));
                break;
            case RejectionReason.FieldsDropped:
                problems.Add(At(string.Empty,
                    "更正时漏填了上一版已有的指标；请全部填写，或以更新（update）或替换（replace）方式导入", violation.Description));
                break;
            case RejectionReason.UnknownUnit:
                problems.Add(At(string.Empty, $"单位 {row.UnitId} 不是本节点承载的单位，或已撤销、不再报送本期", violation.Description));
                break;
            case RejectionReason.Locked:
                problems.Add(At(string.Empty, $"单位 {row.UnitId} 本期报表已审核通过（或上级已审核本期），需审核人退回重开后才能更正", violation.Description));
                break;
            case RejectionReason.NumeratorExceedsDenominator when IndicatorOf(violation.Field, checkedValues) is var numerator &&
                catalogue.Ratios.FirstOrDefault(r => r.Ratio.NumeratorIndicatorId == numerator) is { } ratio:
                var values = checkedValues.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal);
                var denominator = ratio.Ratio.DenominatorIndicatorId;
                problems.Add(At(numerator, string.Create(CultureInfo.InvariantCulture,
                    $"{NameZh(catalogue, numerator)}（{values[numerator].Count}）不能多于{NameZh(catalogue, denominator)}（{values.GetValueOrDefault(denominator)?.Count}）"),
                    violation.Description));
                break;
            default:
                var indicatorId = IndicatorOf(violation.Field, checkedValues);
                problems.Add(At(indicatorId, indicatorId.Length > 0 ? $"{NameZh(catalogue, indicatorId)}：{ZhOf(violation.Reason)}" : ZhOf(violation.Reason), violation.Description));
                break;
        }

        return problems;
    }

    /// <summary>UPPER_SNAKE form of a reason, as ErrorReason spells it.</summary>
    public static string ReasonText(RejectionReason reason)
    {
        var name = reason.ToString();
        var builder = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(name[i]));
        }

        return builder.ToString();
    }

    private static string IndicatorOf(string field, IReadOnlyList<IndicatorValue> values)
    {
        // values[3].count → the fourth value's indicator.
        if (field.StartsWith("values[", StringComparison.Ordinal) && field.IndexOf(']', StringComparison.Ordinal) is var end and > 7 &&
            int.TryParse(field.AsSpan(7, end - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < values.Count)
        {
            return values[index].IndicatorId;
        }

        return string.Empty;
    }

    private static string NameZh(CatalogueIndex catalogue, string indicatorId) =>
        catalogue.TryGet(indicatorId, out var indicator) ? indicator.NameZh : indicatorId;

    private static string More(int count) => count > ReportRules.MaxNamedIndicators
        ? string.Create(CultureInfo.InvariantCulture, $"等 {count} 项")
        : string.Empty;

    private static string ZhOf(RejectionReason reason) => reason switch
    {
        RejectionReason.EmptyReport => "该行没有填写任何指标",
        RejectionReason.NegativeValue => "不能为负数",
        RejectionReason.ValueTooLarge => "数值过大",
        RejectionReason.NumeratorExceedsDenominator => "不能多于其分母指标",
        RejectionReason.UnknownCategory => "不是可选的类别",
        RejectionReason.ValueKindMismatch => "数值类型不符",
        RejectionReason.DuplicateIndicator => "重复填写",
        RejectionReason.DerivedIndicator => "由其他指标计算得出，不能直接填写",
        RejectionReason.ComputedIndicator => "由整改台账自动统计，不能直接填写（请在台账中挂牌、报告整改、验收销号）",
        RejectionReason.UnknownIndicator => "不是目录中的指标",
        RejectionReason.PeriodNotStarted => "报告期尚未开始",
        RejectionReason.MalformedPeriod => "报告期格式不正确",
        RejectionReason.MalformedId => "单位编码格式不正确",
        _ => "不符合填报规则",
    };
}
