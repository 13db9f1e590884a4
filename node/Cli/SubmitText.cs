using System.Globalization;
using System.Text;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Node.Cli;

/// <summary>Renders a submission's acknowledgement for people: the version, what changed, the warnings, in Chinese or English.</summary>
internal static class SubmitText
{
    public static string Render(string unitId, string period, SubmitReportResponse ack, CatalogueIndex catalogue, bool chinese)
    {
        var text = new StringBuilder();
        var digest = Convert.ToHexStringLower(ack.Digest.Span);
        text.AppendLine(chinese
            ? string.Create(CultureInfo.InvariantCulture, $"{unitId} {period}：已保存为第 {ack.Version} 版，摘要 {digest}")
            : string.Create(CultureInfo.InvariantCulture, $"{unitId} {period}: stored as version {ack.Version}, digest {digest}"));
        if (ack.Changes.Count == 0)
        {
            text.AppendLine(chinese ? "  与上一版相同" : "  no change from the previous version");
        }

        foreach (var line in Changes(ack.Changes, catalogue, chinese))
        {
            text.AppendLine("  " + line);
        }

        foreach (var warning in ack.Warnings)
        {
            text.AppendLine(chinese ? $"  提示：{warning.MessageZh}" : $"  warning: {warning.MessageEn}");
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>One line per change: the indicator's name and id, old → new.</summary>
    public static IEnumerable<string> Changes(IEnumerable<FieldChange> changes, CatalogueIndex catalogue, bool chinese) =>
        changes.Select(change =>
        {
            var name = catalogue.TryGet(change.IndicatorId, out var indicator) ? (chinese ? indicator.NameZh : indicator.NameEn) : change.IndicatorId;
            var old = change.Old is null ? (chinese ? "（无）" : "(none)") : Show(change.Old, indicator, chinese);
            var @new = change.New is null ? (chinese ? "（删除）" : "(removed)") : Show(change.New, indicator, chinese);
            return $"{name} [{change.IndicatorId}]: {old} → {@new}";
        });

    private static string Show(IndicatorValue value, Indicator? indicator, bool chinese) => value.ValueCase switch
    {
        IndicatorValue.ValueOneofCase.Count => value.Count.ToString(CultureInfo.InvariantCulture),
        IndicatorValue.ValueOneofCase.Measure => value.Measure.ToString(CultureInfo.InvariantCulture),
        IndicatorValue.ValueOneofCase.Flag => chinese ? (value.Flag ? "是" : "否") : (value.Flag ? "yes" : "no"),
        IndicatorValue.ValueOneofCase.Category => indicator?.Categories.FirstOrDefault(c => c.Code == value.Category) is { } category
            ? (chinese ? category.NameZh : category.NameEn)
            : value.Category,
        _ => string.Empty,
    };
}
