using System.Globalization;
using Federation.Aggregator.Promotion;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;
using PeriodValue = Federation.Aggregator.Periods.Period;

namespace Federation.Node.Web.Pages;

/// <summary>
/// Promotion (晋位升级) below a node between two periods (GetPromotion): per starting grade, how many moved
/// up, stayed or moved down against the share expected to move up; the units that did not move up; the
/// units without a grade; and every node below that did not answer, with the units it leaves uncounted.
/// </summary>
public sealed class PromotionModel : WebPageModel
{
    private const int MaxPeriodLength = 16;

    /// <summary>The period of the starting grades (<c>?from=</c>); by default the same period a year before <see cref="To"/>.</summary>
    [BindProperty(SupportsGet = true, Name = "from")]
    public string? From { get; set; }

    /// <summary>The period of the ending grades (<c>?to=</c>); by default this year.</summary>
    [BindProperty(SupportsGet = true, Name = "to")]
    public string? To { get; set; }

    internal GetPromotionResponse? Answer { get; private set; }

    internal WebTable? Unanswered { get; private set; }

    /// <summary>Nodes below that did not answer, listed or not (the answer lists the first 1,000).</summary>
    internal uint UnansweredCount { get; private set; }

    internal override string DownloadLabel => $"{From}-{To}";

    protected override string? Explain(string reason) => reason == "MALFORMED_PERIOD" ? T["error.promotion-periods"] : null;

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        To = Trimmed(To) ?? CurrentYear.ToString(CultureInfo.InvariantCulture);
        From = Trimmed(From) ?? (PeriodValue.TryParse(To, out var end) ? YearBefore(end).ToString() : To);
        Title = T.Format("promotion.title", TargetNodeOrSelf, TargetNodeOrSelf, From, To);
        var channel = await Api.ChannelAsync(cancellationToken);
        var query = new QueryService.QueryServiceClient(channel);
        var answer = await query.GetPromotionAsync(new GetPromotionRequest { NodeId = TargetNode, FromPeriod = From, ToPeriod = To }, Api.Call(Session!, cancellationToken));
        Answer = answer;
        UnansweredCount = PromotionTally.UnansweredCountOf(answer);
        Title = T.Format("promotion.title", await NameAsync(query, answer.NodeId, cancellationToken), answer.NodeId, answer.FromPeriod, answer.ToPeriod);

        var grades = new WebTable("grades", T["grades"],
        [
            new(T["grade"]), new(T["started"], Numeric: true), new(T["moved-up"], Numeric: true), new(T["stayed"], Numeric: true),
            new(T["moved-down"], Numeric: true), new(T["share-up"], Numeric: true), new(T["target"]), new(T["status"]),
        ]);
        foreach (var grade in answer.Grades)
        {
            var judged = grade.TargetPercent > 0 && grade.StartCount > 0;
            grades.Rows.Add(new WebRow(
            [
                Name(grade),
                FigureCells.Count(grade.StartCount),
                FigureCells.Count(grade.MovedUpCount),
                FigureCells.Count(grade.StayedCount),
                FigureCells.Count(grade.MovedDownCount),
                FigureCells.Rate(grade.MovedUpCount, grade.StartCount),
                grade.TargetPercent > 0 ? T.Format("target-percent", grade.TargetPercent) : "—",
                !judged ? new WebCell("—") { Css = "nodata" } : grade.Met ? new WebCell(T["met"]) { Css = "met" } : new WebCell(T["short"]) { Css = "short" },
            ], grade.Code, judged && !grade.Met ? "lagging" : null));
        }

        var names = answer.Grades.ToDictionary(static g => g.Code, Name, StringComparer.Ordinal);
        var notMoved = new WebTable("not-moved", T["not-moved"], [new(T["code"]), new(T["name"]), new(T["host"]), new(T["grade-change"])]) { EmptyText = "—" };
        foreach (var unit in answer.NotMoved)
        {
            var host = new WebCell(unit.HostNodeId);
            if (unit.HostNodeId != answer.NodeId)
            {
                host = host with { Href = Link("/promotion", unit.HostNodeId, ("from", answer.FromPeriod), ("to", answer.ToPeriod)) };
            }

            notMoved.Rows.Add(new WebRow(
                [unit.UnitId, unit.DisplayName, host, $"{names.GetValueOrDefault(unit.FromCode, unit.FromCode)} → {names.GetValueOrDefault(unit.ToCode, unit.ToCode)}"],
                unit.UnitId));
        }

        Tables.Add(grades);
        Tables.Add(notMoved);
        if (answer.UnansweredNodeIds.Count > 0)
        {
            // Every node the answer lists as not answering, with its leaves when the answer carries them per node.
            var leaves = answer.UnansweredNodes.ToDictionary(static n => n.NodeId, static n => n.LeafCount, StringComparer.Ordinal);
            Unanswered = new WebTable("unanswered", T["unanswered"], [new(T["code"]), new(T["leaf-count"], Numeric: true)]);
            foreach (var node in answer.UnansweredNodeIds)
            {
                Unanswered.Rows.Add(new WebRow([node, leaves.TryGetValue(node, out var count) ? FigureCells.Count(count) : new WebCell("—")], node, "stale"));
            }

            Tables.Add(Unanswered);
        }
    }

    private string Name(PromotionGrade grade) => T.Language == WebLanguage.Zh ? grade.NameZh : grade.NameEn;

    /// <summary>The node's display name from its summary for the ending period; its id when it has none.</summary>
    private async Task<string> NameAsync(QueryService.QueryServiceClient query, string nodeId, CancellationToken cancellationToken)
    {
        try
        {
            var totals = await query.GetTotalsAsync(new GetTotalsRequest { NodeId = TargetNode, Period = To }, Api.Call(Session!, cancellationToken));
            return totals.DisplayName.Length > 0 ? totals.DisplayName : nodeId;
        }
        catch (RpcException ex) when (ApiProblems.Reason(ex) == "NO_FIGURES")
        {
            return nodeId;
        }
    }

    /// <summary>The same period a year earlier: 2026 → 2025, 2026-Q4 → 2025-Q4.</summary>
    private static PeriodValue YearBefore(PeriodValue period) => period.Type switch
    {
        PeriodType.Month => PeriodValue.Month(period.Year - 1, period.Index),
        PeriodType.Quarter => PeriodValue.Quarter(period.Year - 1, period.Index),
        PeriodType.Half => PeriodValue.Half(period.Year - 1, period.Index),
        _ => PeriodValue.OfYear(period.Year - 1),
    };

    private static string? Trimmed(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Trim() is { Length: > MaxPeriodLength } longer ? longer[..MaxPeriodLength] : value.Trim();
}
