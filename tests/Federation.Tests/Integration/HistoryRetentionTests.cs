using Federation.Aggregator.Proofs;
using Federation.Aggregator.Signing;
using Federation.Node.Retention;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Tests.Integration;

/// <summary>
/// The history's retention on real nodes (LiteDB files in temp folders): a pass weighed at an instant past
/// History:KeepReplacedFor (the nodes themselves keep the real clock, so that their calls' deadlines hold), what
/// it lets go, what it keeps, and what a proof then gets.
/// </summary>
public sealed class HistoryRetentionTests
{
    private const string January = "2026-01";
    private const string February = "2026-02";
    private const string Members = "party_members";
    private static readonly TimeSpan s_keep = TimeSpan.FromHours(1);

    /// <summary>A pass runs when the test says (at the instant it says): the timer waits far longer than a test lasts.</summary>
    private static readonly Dictionary<string, string?> s_history = new()
    {
        ["History:KeepReplacedFor"] = s_keep.ToString(),
        ["History:PruneInterval"] = "30.00:00:00",
        ["History:PruneBatchSize"] = "2",
    };

    [Fact]
    public async Task Prune_PastKeepReplacedFor_LetsGoOnlyUncitedReplacedVersionsAndEveryKeptSummaryStillProves()
    {
        using var folder = new TempFolder();
        string[] units = ["370113001001", "370113001002", "370113001003"];
        var shape = new TreeNode("370113", "county", [new TreeNode("370113001", "township", []) { HostedUnits = [.. units.Select(static u => (u, u))] }]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape, settings: s_history);
        var (county, township) = (tree.Root, tree["370113001"]);
        var acknowledged = new Dictionary<(string Unit, string Period), SubmitReportResponse>();
        foreach (var period in new[] { January, February })
        {
            for (var u = 0; u < units.Length; u++)
            {
                acknowledged[(units[u], period)] = await SubmitAsync(township, units[u], period, 40 + u);
            }
        }

        // The county holds a first version of both months before the corrections, so it has versions to replace.
        await WaitForCountyAsync(county, January, 40 + 41 + 42);
        await WaitForCountyAsync(county, February, 40 + 41 + 42);

        // Four corrections: two of one report, one each of two others.
        foreach (var (unit, period, members) in new[] { (units[0], January, 50), (units[0], January, 51), (units[1], January, 60), (units[2], February, 70) })
        {
            acknowledged[(unit, period)] = await SubmitAsync(township, unit, period, members);
        }

        await WaitForCountyAsync(county, January, 51 + 60 + 42);
        await WaitForCountyAsync(county, February, 40 + 41 + 70);
        await WaitForOutboxAsync(township);
        var store = Store(township);
        var replacedSummaries = store.Read(static s => s.SummaryHistory.Count());
        Assert.Equal(4, store.Read(static s => s.ReportHistory.Count()));
        var totalsBefore = await TotalsAsync(county);
        var (countyChildHistory, countyOwnHistory) = Store(county).Read(static s => (s.ChildSummaryHistory.Count(), s.SummaryHistory.Count()));
        Assert.True(countyChildHistory >= 2 && countyOwnHistory >= 2, $"the county replaced {countyChildHistory} child and {countyOwnHistory} own summaries");

        // Everything was replaced within the hour: nothing goes yet.
        Assert.Equal(0, (await PruneAsync(township, DateTimeOffset.UtcNow)).Total);
        Assert.Equal(0, (await PruneAsync(county, DateTimeOffset.UtcNow)).Total);

        var later = DateTimeOffset.UtcNow + (s_keep * 2);
        var pruned = await PruneAsync(township, later);
        var prunedAtCounty = await PruneAsync(county, later);

        // The township's parent holds its current summaries, which cite only current reports: every replaced version goes.
        Assert.Equal(new PruneCounts(4, 0, replacedSummaries), pruned);
        Assert.Equal(0, store.Read(static s => s.ReportHistory.Count() + s.SummaryHistory.Count()));
        // The county is the root: no parent holds any of its summaries, and its current ones cite only current versions.
        Assert.Equal(new PruneCounts(0, countyChildHistory, countyOwnHistory), prunedAtCounty);
        Assert.Equal(0, Store(county).Read(static s => s.ChildSummaryHistory.Count() + s.SummaryHistory.Count()));

        // Nothing acknowledged and current is lost: every unit's newest acknowledged version is there, the totals unchanged.
        foreach (var ((unit, period), ack) in acknowledged)
        {
            var current = store.Read(s => s.Reports.FindById(ReportDocument.KeyOf(unit, period)));
            Assert.NotNull(current);
            Assert.Equal((long)ack.Version, current.Version);
            Assert.Equal(ack.Digest.ToByteArray(), current.Digest);
        }

        Assert.Equal(totalsBefore, await TotalsAsync(county));

        // The proof of every kept summary verifies offline: the county's, down to each unit, and the township's own.
        var keys = await KeysAsync(tree);
        foreach (var ((unit, period), ack) in acknowledged)
        {
            var proof = (await county.Query.GetProofAsync(new GetProofRequest { Period = period, UnitId = unit }, deadline: Rpc.Deadline())).Proof;
            var result = ProofVerifier.Verify(proof, keys, county.Id);
            Assert.True(result.IsValid, $"{unit} {period}: {result.Message}");
            Assert.Equal(ack.Version, result.Report!.Version);
        }

        foreach (var current in store.Read(static s => s.Summaries.FindAll().ToList()))
        {
            var chain = (await township.FederationAs(county.Id).GetProofChainAsync(
                new GetProofChainRequest { Period = current.Period, UnitId = units[0], SummaryDigest = ByteString.CopyFrom(current.Digest) }, deadline: Rpc.Deadline())).Proof;
            Assert.True(ProofVerifier.Verify(chain, keys, township.Id, current.Digest).IsValid);
        }

        // A correction is recent for a while: the version it replaced, and the summary before it, stay.
        var correction = await SubmitAsync(township, units[0], January, 52);
        await WaitForCountyAsync(county, January, 52 + 60 + 42);
        await WaitForOutboxAsync(township);
        var recent = await PruneAsync(township, correction.ReceiveTime.ToDateTimeOffset() + (s_keep / 2));
        Assert.Equal(0, recent.Reports + recent.Summaries);
        Assert.Equal(1, store.Read(static s => s.ReportHistory.Count()));
        Assert.True(store.Read(static s => s.SummaryHistory.Count()) >= 1);
        Assert.NotNull(store.Read(static s => s.PrunedHistory().FindById(January)));
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task Prune_WhileTheParentWaitsForANewerVersion_KeepsWhatItHoldsAndTheProofStillVerifies()
    {
        using var folder = new TempFolder();
        var ids = new[] { "370113001", "370113001001" };
        var keys = ids.ToDictionary(static id => id, id => TestNode.CreateKey(folder.Sub(id)));
        await using var township = await TestNode.StartAsync(
            new NodeSpec(ids[0], "township") { Children = [(ids[1], keys[ids[1]])], Settings = s_history }, folder.Sub(ids[0]));

        // The village's pushes go nowhere: the township holds only what it pulled.
        await using var nowhere = new TcpForwarder();
        await using var village = await TestNode.StartAsync(
            new NodeSpec(ids[1], "village") { ParentAddress = nowhere.Address, ParentId = ids[0], HostedUnitIds = [ids[1]], Settings = s_history },
            folder.Sub(ids[1]));
        await township.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = ids[1], PublicKey = ByteString.CopyFrom(keys[ids[1]]), Address = village.Address }, deadline: Rpc.Deadline());
        await SubmitAsync(village, ids[1], January, 41);
        await township.Query.GetTotalsAsync(new GetTotalsRequest { Period = January, Refresh = true }, deadline: Rpc.Deadline());
        await SubmitAsync(village, ids[1], January, 50);
        await TestHierarchy.WaitForTotalsAsync(village, January, static t => MembersOf(t) == 50, "the correction at the village");

        var later = DateTimeOffset.UtcNow + (s_keep * 2);
        await PruneAsync(township, later);
        var atVillage = await PruneAsync(village, later);

        // The village's newest version is not acknowledged, so the parent may hold any older one: its summaries stay,
        // and so does the replaced report they cite.
        Assert.Equal(0, atVillage.Summaries + atVillage.Reports);
        Assert.Equal(1, Store(village).Read(static s => s.ReportHistory.Count()));
        var proof = (await township.Query.GetProofAsync(new GetProofRequest { Period = January, UnitId = ids[1] }, deadline: Rpc.Deadline())).Proof;
        var result = ProofVerifier.Verify(proof, keys, ids[0]);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(41, result.Report!.Values.Single().Count);
        Assert.Empty(village.Logs.Errors);
    }

    [Fact]
    public async Task GetProof_ThroughAVersionLetGoBelow_AnswersHistoryPruned()
    {
        using var folder = new TempFolder();
        var ids = new[] { "370113", "370113001", "370113001001" };
        var keys = ids.ToDictionary(static id => id, id => TestNode.CreateKey(folder.Sub(id)));
        await using var county = await TestNode.StartAsync(
            new NodeSpec(ids[0], "county") { Children = [(ids[1], keys[ids[1]])], Settings = s_history }, folder.Sub(ids[0]));

        // The township's pushes go nowhere: the county holds the township summary it pulled, long after.
        await using var nowhere = new TcpForwarder();
        await using var township = await TestNode.StartAsync(
            new NodeSpec(ids[1], "township")
            {
                ParentAddress = nowhere.Address, ParentId = ids[0], ParentPublicKey = keys[ids[0]], Children = [(ids[2], keys[ids[2]])], Settings = s_history,
            },
            folder.Sub(ids[1]));
        await county.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = ids[1], PublicKey = ByteString.CopyFrom(keys[ids[1]]), Address = township.Address }, deadline: Rpc.Deadline());
        await using var village = await TestNode.StartAsync(
            new NodeSpec(ids[2], "village") { ParentAddress = township.Address, ParentId = ids[1], ParentPublicKey = keys[ids[1]], HostedUnitIds = [ids[2]], Settings = s_history },
            folder.Sub(ids[2]));

        await SubmitAsync(village, ids[2], January, 41);
        await TestHierarchy.WaitForTotalsAsync(township, January, static t => MembersOf(t) == 41, "the village's push at the township");
        await county.Query.GetTotalsAsync(new GetTotalsRequest { Period = January, Refresh = true }, deadline: Rpc.Deadline());
        await TestHierarchy.WaitForTotalsAsync(county, January, static t => MembersOf(t) == 41, "the pull at the county");

        // The village corrects; the township takes it (the village's outbox is clear), the county never hears of it.
        await SubmitAsync(village, ids[2], January, 50);
        await TestHierarchy.WaitForTotalsAsync(township, January, static t => MembersOf(t) == 50, "the correction at the township");
        await WaitForOutboxAsync(village);
        var replaced = Store(village).Read(static s => s.SummaryHistory.Find(static x => x.Period == January).First());

        Assert.True((await PruneAsync(village, DateTimeOffset.UtcNow + (s_keep * 2))).Summaries >= 1);

        // The county's figure cites the township's older summary, which cites the village's version now gone.
        var status = await Rpc.FailsAsync(() => county.Query.GetProofAsync(new GetProofRequest { Period = January, UnitId = ids[2] }, deadline: Rpc.Deadline()).ResponseAsync,
            Grpc.Core.StatusCode.NotFound, "HISTORY_PRUNED");
        Assert.Contains(ids[2], status.Message, StringComparison.Ordinal);

        // Asked directly by its parent: that digest is let go; a digest of a period never pruned was never signed.
        await Rpc.FailsAsync(() => village.FederationAs(ids[1]).GetProofChainAsync(
            new GetProofChainRequest { Period = January, UnitId = ids[2], SummaryDigest = ByteString.CopyFrom(replaced.Digest) }, deadline: Rpc.Deadline()).ResponseAsync,
            Grpc.Core.StatusCode.NotFound, "HISTORY_PRUNED");
        await Rpc.FailsAsync(() => village.FederationAs(ids[1]).GetProofChainAsync(
            new GetProofChainRequest { Period = February, UnitId = ids[2], SummaryDigest = ByteString.CopyFrom(Digests.Sha256([1, 2, 3])) }, deadline: Rpc.Deadline()).ResponseAsync,
            Grpc.Core.StatusCode.NotFound, "NO_FIGURES");

        // The current chain is whole: the township's own proof of the village still verifies.
        var proof = (await township.Query.GetProofAsync(new GetProofRequest { Period = January, UnitId = ids[2] }, deadline: Rpc.Deadline())).Proof;
        Assert.True(ProofVerifier.Verify(proof, keys, ids[1]).IsValid);
    }

    private static NodeStore Store(TestNode node) => node.Services.GetRequiredService<NodeStore>();

    private static Task<PruneCounts> PruneAsync(TestNode node, DateTimeOffset at) => node.Services.GetRequiredService<HistoryPruner>().PruneAsync(at, CancellationToken.None);

    private static Task<SubmitReportResponse> SubmitAsync(TestNode node, string unit, string period, long members) =>
        node.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = unit, Period = period, Values = { Reports.Count(Members, members) } }, deadline: Rpc.Deadline()).ResponseAsync;

    private static long? MembersOf(GetTotalsResponse totals) => totals.Totals.SingleOrDefault(static t => t.Indicator.Id == Members)?.Aggregate.Total;

    private static Task WaitForCountyAsync(TestNode county, string period, long members) =>
        TestHierarchy.WaitForTotalsAsync(county, period, t => t.Coverage.ReportedLeafCount == 3 && MembersOf(t) == members, $"{members} members at the county in {period}");

    private static Task WaitForOutboxAsync(TestNode node) =>
        Eventually.ReturnsAsync(() => Task.FromResult(Store(node).Read(static s => s.Outbox.Count()) == 0 ? "empty" : null), static _ => true, $"{node.Id}'s outbox to empty");

    private static async Task<(string, string)> TotalsAsync(TestNode node) =>
        ((await node.Query.GetTotalsAsync(new GetTotalsRequest { Period = January }, deadline: Rpc.Deadline())).Totals.ToString(),
         (await node.Query.GetTotalsAsync(new GetTotalsRequest { Period = February }, deadline: Rpc.Deadline())).Totals.ToString());

    private static async Task<Dictionary<string, byte[]>> KeysAsync(TestHierarchy tree)
    {
        var keys = new Dictionary<string, byte[]>();
        foreach (var node in tree.Nodes)
        {
            keys[node.Id] = (await node.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        }

        return keys;
    }
}
