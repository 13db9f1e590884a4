using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Summaries;
using Federation.Aggregator.Totals;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Queries;

/// <summary>
/// Every node and leaf of a subtree, in the order GetSubtreeStatus lists them: the node itself first, then its
/// children depth first in id order; its hosted units by id, then each child's leaves in child id order.
/// </summary>
internal sealed record SubtreeWalk(IReadOnlyList<SubtreeNode> Nodes, IReadOnlyList<LeafStatus> Leaves);

/// <summary>A subtree walk held between the pages of GetSubtreeStatus: its nodes, then its leaves.</summary>
internal sealed class SubtreeListing : Listing
{
    public SubtreeListing(SubtreeWalk walk)
    {
        Walk = walk;
        HeldBytes = walk.Nodes.Sum(static n => (long)n.CalculateSize()) + walk.Leaves.Sum(static l => (long)l.CalculateSize());
    }

    public SubtreeWalk Walk { get; }

    public override int Count => Walk.Nodes.Count + Walk.Leaves.Count;

    public override long HeldBytes { get; }

    public int SizeOf(int index) => index < Walk.Nodes.Count ? Walk.Nodes[index].CalculateSize() : Walk.Leaves[index - Walk.Nodes.Count].CalculateSize();
}

/// <summary>
/// The status of every node and leaf unit in this node's subtree for a period: hosted units from the store,
/// children asked in parallel under the deadline, every page of each child's answer followed. A child that does
/// not give every page in time is listed stale, with the counts of the last summary held for it; its leaves and
/// the nodes below it are then unknown, never listed in part.
/// </summary>
internal sealed class SubtreeService(NodeStore store, NodeIdentity identity, CatalogueIndex catalogue, PeerCalls peers, ListingPages pages)
{
    /// <summary>Entries in a page when the request names no size.</summary>
    public const int DefaultPageSize = 1000;

    /// <summary>Most entries in one page.</summary>
    public const int MaxPageSize = 10_000;

    /// <summary>
    /// Most entries taken from one child: as many leaves as one summary may cover, and as many nodes. A child
    /// whose answer runs longer is treated as not answering, so a lying child cannot make its parent hold more.
    /// </summary>
    private const long MaxChildEntries = 2L * SummaryChecks.MaxLeafCount;

    private const string Method = "GetSubtreeStatus";

    /// <summary>One page of the subtree's status, the first making the listing.</summary>
    public async Task<Outcome<GetSubtreeStatusResponse>> GetPageAsync(GetSubtreeStatusRequest request, Period period, CallBudget budget)
    {
        ArgumentNullException.ThrowIfNull(request);
        var hash = PageTokens.RequestHash(Method, new GetSubtreeStatusRequest { Period = period.ToString() });
        var start = await pages.StartAsync(Method, request.PageToken, hash, async () => new SubtreeListing(await WalkAsync(period, budget)));
        if (start.Rejection is { } refused)
        {
            return refused;
        }

        var page = start.Value!;
        var walk = page.Listing.Walk;
        var count = PageTokens.Take(page.Offset, page.Listing.Count, PageTokens.Size(request.PageSize, DefaultPageSize, MaxPageSize), page.Listing.SizeOf);
        var end = page.Offset + count;
        var response = new GetSubtreeStatusResponse();
        for (var i = page.Offset; i < end; i++)
        {
            if (i < walk.Nodes.Count)
            {
                response.Nodes.Add(walk.Nodes[i]);
            }
            else
            {
                response.Leaves.Add(walk.Leaves[i - walk.Nodes.Count]);
            }
        }

        response.NextPageToken = pages.Next(page, end, hash);
        return response;
    }

    /// <summary>The whole subtree, for a period: what the first page of a listing is cut from.</summary>
    public async Task<SubtreeWalk> WalkAsync(Period period, CallBudget budget)
    {
        var periodText = period.ToString();
        var self = new SubtreeNode { NodeId = identity.NodeId, Tier = identity.Tier, DisplayName = identity.DisplayName };
        var nodes = new List<SubtreeNode> { self };
        var leaves = new List<LeafStatus>();
        var hosted = store.Read(s =>
        {
            // One read of the period's reports by its index: a province-sized host holds tens of thousands.
            var reports = s.Reports.Find(r => r.Period == periodText).ToDictionary(static r => r.UnitId, StringComparer.Ordinal);
            return s.Units.FindAll().OrderBy(static u => u.Id, StringComparer.Ordinal)
                .Select(u => (Unit: u, Report: reports.GetValueOrDefault(u.Id)))
                .Where(u => u.Report is not null || UnitRules.IsExpected(u.Unit.RetiredFromPeriod, period))
                .ToList();
        });
        foreach (var (unit, report) in hosted)
        {
            var leaf = LeafOf(unit, report, period);
            leaves.Add(leaf);
            Count(self, 1, leaf.Reported ? 1u : 0u, leaf.OnTime ? 1u : 0u);
        }

        var hop = peers.Down(budget);
        var children = store.Read(static s => s.Children.FindAll().OrderBy(static c => c.Id, StringComparer.Ordinal).ToList());
        var answers = await Task.WhenAll(children.Select(c => FollowAsync(c, periodText, hop)));
        foreach (var (child, answer) in children.Zip(answers))
        {
            var root = answer?.Nodes[0] ?? StaleEntry(child, periodText);
            root.ParentId = identity.NodeId;
            Count(self, root.ExpectedLeafCount, root.ReportedLeafCount, root.OnTimeLeafCount);
            if (answer is null)
            {
                nodes.Add(root);
                continue;
            }

            nodes.AddRange(answer.Nodes);
            leaves.AddRange(answer.Leaves);
        }

        return new SubtreeWalk(nodes, leaves);
    }

    /// <summary>
    /// Every page of a child's subtree, under the hop's deadline; null when the child did not give them all: it did
    /// not answer a page in time, its first page does not start with itself, a page before the last is empty, or
    /// it runs longer than any subtree may.
    /// </summary>
    private async Task<SubtreeWalk?> FollowAsync(ChildDocument child, string period, CallBudget hop)
    {
        var nodes = new List<SubtreeNode>();
        var leaves = new List<LeafStatus>();
        var request = new GetSubtreeStatusRequest { Period = period, PageSize = MaxPageSize };
        do
        {
            var answer = await peers.AskAsync(child, hop, (channel, call) =>
                new FederationService.FederationServiceClient(channel).GetSubtreeStatusAsync(request, call).ResponseAsync);
            if (!answer.Answered)
            {
                return null;
            }

            var page = answer.Value!;
            if ((nodes.Count == 0 && page.Nodes.FirstOrDefault()?.NodeId != child.Id) ||
                (page.NextPageToken.Length > 0 && page.Nodes.Count + page.Leaves.Count == 0))
            {
                return null;
            }

            nodes.AddRange(page.Nodes);
            leaves.AddRange(page.Leaves);
            if (nodes.Count + (long)leaves.Count > MaxChildEntries)
            {
                return null;
            }

            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        return new SubtreeWalk(nodes, leaves);
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
        if (store.Read(s => s.ChildSummaries.ById(ChildSummaryDocument.KeyOf(child.Id, period))) is { } held)
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
