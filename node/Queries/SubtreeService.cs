using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Totals;
using Federation.Aggregator.Units;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Queries;

/// <summary>
/// The status of every node and leaf unit in this node's subtree for a period: hosted units from the
/// store, children asked in parallel under the deadline. A child that does not answer is listed stale,
/// with the counts of the last summary held for it; its leaves are then unknown.
/// </summary>
internal sealed class SubtreeService(NodeStore store, NodeIdentity identity, CatalogueIndex catalogue, PeerCalls peers)
{
    public async Task<GetSubtreeStatusResponse> GetAsync(Period period, CallBudget budget)
    {
        var periodText = period.ToString();
        var self = new SubtreeNode { NodeId = identity.NodeId, Tier = identity.Tier, DisplayName = identity.DisplayName };
        var response = new GetSubtreeStatusResponse { Nodes = { self } };
        var hosted = store.Read(s => s.Units.FindAll().OrderBy(static u => u.Id, StringComparer.Ordinal)
            .Select(u => (Unit: u, Report: s.Reports.FindById(ReportDocument.KeyOf(u.Id, periodText))))
            .Where(u => u.Report is not null || UnitRules.IsExpected(u.Unit.RetiredFromPeriod, period))
            .ToList());
        foreach (var (unit, report) in hosted)
        {
            var leaf = LeafOf(unit, report, period);
            response.Leaves.Add(leaf);
            Count(self, 1, leaf.Reported ? 1u : 0u, leaf.OnTime ? 1u : 0u);
        }

        var hop = peers.Down(budget);
        var children = store.Read(static s => s.Children.FindAll().OrderBy(static c => c.Id, StringComparer.Ordinal).ToList());
        var answers = await Task.WhenAll(children.Select(c => peers.AskAsync(c, hop, (channel, call) =>
            new FederationService.FederationServiceClient(channel).GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = periodText }, call).ResponseAsync)));
        foreach (var (child, reply) in children.Zip(answers.Select(static a => a.Value)))
        {
            // An answer that does not start with the child itself is treated as no answer.
            var answer = reply?.Nodes.FirstOrDefault()?.NodeId == child.Id ? reply : null;
            var root = answer?.Nodes[0] ?? StaleEntry(child, periodText);
            root.ParentId = identity.NodeId;
            Count(self, root.ExpectedLeafCount, root.ReportedLeafCount, root.OnTimeLeafCount);
            if (answer is null)
            {
                response.Nodes.Add(root);
                continue;
            }

            response.Nodes.Add(answer.Nodes);
            response.Leaves.Add(answer.Leaves);
        }

        return response;
    }

    private LeafStatus LeafOf(UnitDocument unit, ReportDocument? document, Period period)
    {
        var leaf = new LeafStatus { UnitId = unit.Id, HostNodeId = identity.NodeId, DisplayName = unit.DisplayName };
        if (document is null)
        {
            return leaf;
        }

        var report = UnitReport.Parser.ParseFrom(document.Bytes);
        leaf.Reported = true;
        leaf.ReceiveTime = report.ReceiveTime;
        leaf.OnTime = Timeliness.IsOnTime(catalogue, period, report.ReceiveTime.ToDateTimeOffset());
        leaf.UnmetIndicatorIds.AddRange(Figures.UnmetTargetIds(catalogue, Aggregates.FromReport(catalogue, report.Values)));
        return leaf;
    }

    /// <summary>What the node knows of a child that did not answer: the last summary it holds.</summary>
    private SubtreeNode StaleEntry(ChildDocument child, string period)
    {
        var entry = new SubtreeNode { NodeId = child.Id, DisplayName = child.DisplayName, Stale = true, ExpectedLeafCount = (uint)child.ExpectedLeafCount };
        if (store.Read(s => s.ChildSummaries.FindById(ChildSummaryDocument.KeyOf(child.Id, period))) is { } held)
        {
            var summary = Summary.Parser.ParseFrom(held.SummaryBytes);
            entry.Tier = summary.Tier;
            entry.ExpectedLeafCount = summary.Coverage.ExpectedLeafCount;
            entry.ReportedLeafCount = summary.Coverage.ReportedLeafCount;
            entry.OnTimeLeafCount = summary.Coverage.OnTimeLeafCount;
            entry.AsOfTime = SummaryRebuilder.ToTimestamp(held.ReceiveTicks);
        }

        return entry;
    }

    private static void Count(SubtreeNode node, uint expected, uint reported, uint onTime)
    {
        node.ExpectedLeafCount += expected;
        node.ReportedLeafCount += reported;
        node.OnTimeLeafCount += onTime;
    }
}
