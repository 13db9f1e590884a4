using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Promotion;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Queries;

/// <summary>
/// Promotion (晋位升级) below this node: its hosted units' grades read from their reports of the two
/// periods, and each child's answer for its own subtree, asked in parallel under the deadline. Grades are
/// per unit and summaries hold only histograms, so the question travels down instead of being read from them.
/// </summary>
internal sealed class PromotionQuery(NodeStore store, NodeIdentity identity, CatalogueIndex catalogue, PeerCalls peers)
{
    public async Task<Outcome<GetPromotionResponse>> GetAsync(string indicatorId, string fromPeriod, string toPeriod, CallBudget budget)
    {
        var id = indicatorId.Length == 0 ? PromotionTally.DefaultIndicatorId : indicatorId;
        if (!catalogue.TryGet(id, out var indicator))
        {
            return Rejection.Of(RejectionReason.UnknownIndicator, $"indicator_id '{Echo.Of(id)}' is not in the catalogue.", "indicator_id");
        }

        if (!PromotionTally.IsRanked(indicator))
        {
            return Rejection.Of(RejectionReason.UnknownIndicator,
                $"indicator_id '{id}' is not a graded indicator: promotion needs a CATEGORY whose categories carry promotion targets.", "indicator_id");
        }

        if (!Period.TryParse(fromPeriod, out var from))
        {
            return Rejection.Of(RejectionReason.MalformedPeriod, $"from_period '{Echo.Of(fromPeriod)}' is malformed.", "from_period");
        }

        if (!Period.TryParse(toPeriod, out var to) || to.Type != from.Type || to <= from)
        {
            return Rejection.Of(RejectionReason.MalformedPeriod,
                $"to_period '{Echo.Of(toPeriod)}' must be a period of the same type as from_period, after it.", "to_period");
        }

        var header = new GetPromotionResponse { NodeId = identity.NodeId, IndicatorId = id, FromPeriod = from.ToString(), ToPeriod = to.ToString() };
        var tally = new PromotionTally(indicator, header);
        foreach (var (unit, start, end) in HostedGrades(id, from, to))
        {
            tally.Add(unit.Id, unit.DisplayName, identity.NodeId, start, end);
        }

        var hop = peers.Down(budget);
        var children = store.Read(static s => s.Children.FindAll().OrderBy(static c => c.Id, StringComparer.Ordinal).ToList());
        var answers = await Task.WhenAll(children.Select(child => peers.AskAsync(child, hop, (channel, call) =>
            new QueryService.QueryServiceClient(channel).GetPromotionAsync(
                new GetPromotionRequest { NodeId = child.Id, IndicatorId = id, FromPeriod = header.FromPeriod, ToPeriod = header.ToPeriod }, call).ResponseAsync)));
        foreach (var (child, answer) in children.Zip(answers))
        {
            // An answer about another node is no answer: a child speaks for its own subtree only.
            if (answer.Answered && answer.Value!.NodeId == child.Id)
            {
                tally.Merge(answer.Value);
            }
            else
            {
                tally.Unanswered(child.Id, LeavesOf(child, header.ToPeriod));
            }
        }

        return tally.Finish();
    }

    private List<(UnitDocument Unit, string? Start, string? End)> HostedGrades(string indicatorId, Period from, Period to) => store.Read(s =>
    {
        string? GradeOf(string unitId, Period period) =>
            s.Reports.ById(ReportDocument.KeyOf(unitId, period.ToString())) is { } document
                ? UnitReport.Parser.ParseFrom(document.Bytes).Values.FirstOrDefault(v => v.IndicatorId == indicatorId)?.Category
                : null;

        return s.Units.FindAll()
            .Select(u => (Unit: u, Start: GradeOf(u.Id, from), End: GradeOf(u.Id, to)))
            .Where(u => u.Start is not null || u.End is not null || UnitRules.IsExpected(u.Unit.RetiredFromPeriod, to))
            .OrderBy(static u => u.Unit.Id, StringComparer.Ordinal)
            .ToList();
    });

    private uint LeavesOf(ChildDocument child, string period) =>
        store.Read(s => s.ChildSummaries.ById(ChildSummaryDocument.KeyOf(child.Id, period))) is { } held
            ? Summary.Parser.ParseFrom(held.SummaryBytes).Coverage.ExpectedLeafCount
            : (uint)child.ExpectedLeafCount;
}
