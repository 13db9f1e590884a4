using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>A rebuild mints a new summary version only when an input changed, and never for a period without data.</summary>
public sealed class VersionMintingTests : IAsyncLifetime
{
    private const string Quarter = "2026-Q1";
    private const string EmptyPastQuarter = "2025-Q1";
    private readonly TempFolder _folder = new();
    private TestHierarchy _tree = null!;

    public async Task InitializeAsync()
    {
        var shape = new TreeNode("3701", "city", [new TreeNode("370113", "county", [new TreeNode("370113001001", "village", [])])]);
        _tree = await TestHierarchy.StartAsync(_folder, shape);
        await _tree.SubmitAsync("370113001001", Quarter, [Reports.Count("party_members", 40), Reports.Count("reserve_cadres", 2)]);
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the city to cover the village");
        await WaitUntilSettledAsync();
    }

    public async Task DisposeAsync()
    {
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task GetTotals_100RefreshTogglesWithNothingNew_MintNoVersionAtAnyTier()
    {
        var county = _tree["370113"];
        var village = _tree["370113001001"];
        var identity = await village.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline());
        var before = await VersionsAsync(Quarter);

        for (var i = 0; i < 100; i++)
        {
            // The same child at two spellings of its address: every re-enrolment marks every period for a rebuild
            // and each refresh rebuilds at once, yet no input of any summary changes.
            var address = i % 2 == 0 ? village.Address + "/" : village.Address;
            await county.Admin.EnrolChildAsync(
                new EnrolChildRequest { ChildId = village.Id, PublicKey = identity.PublicKey, Address = address }, deadline: Rpc.Deadline());
            await _tree.Root.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: Rpc.Deadline());
        }

        await WaitUntilSettledAsync();
        var after = await VersionsAsync(Quarter);
        Assert.True(before.SequenceEqual(after), string.Join(", ", after.Select(a => $"{a.Key}: {before[a.Key]} -> {a.Value}")));
        _tree.AssertNoErrors();
    }

    [Fact]
    public async Task PullSummary_EmptyPastPeriodWithAChildDown_CreatesNoSummaryAtTheNodeOrItsParent()
    {
        await _tree["370113001001"].StopAsync();

        var pulled = await _tree["370113"].FederationAs("3701").PullSummaryAsync(
            new PullSummaryRequest { Period = EmptyPastQuarter, Refresh = true }, deadline: Rpc.Deadline());
        await Rpc.FailsAsync(
            async () => await _tree.Root.Query.GetTotalsAsync(new GetTotalsRequest { Period = EmptyPastQuarter, Refresh = true }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "NO_FIGURES");

        await WaitUntilSettledAsync();
        Assert.Null(pulled.SignedSummary);
        foreach (var node in _tree.Nodes.Where(static n => n.IsRunning))
        {
            await Rpc.FailsAsync(
                async () => await node.Query.GetTotalsAsync(new GetTotalsRequest { Period = EmptyPastQuarter }, deadline: Rpc.Deadline()),
                StatusCode.NotFound, "NO_FIGURES");
            var status = await node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
            Assert.DoesNotContain(EmptyPastQuarter, status.OutboxPeriods);
        }
    }

    /// <summary>Each node's current summary version for the period, by node id.</summary>
    private async Task<Dictionary<string, ulong>> VersionsAsync(string period)
    {
        var versions = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var node in _tree.Nodes.Where(static n => n.IsRunning))
        {
            try
            {
                var totals = await node.Query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Rpc.Deadline());
                versions[node.Id] = Summary.Parser.ParseFrom(totals.SignedSummary.SummaryBytes).Version;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                versions[node.Id] = 0;
            }
        }

        return versions;
    }

    /// <summary>Waits until every running node knows its children's addresses and has delivered its outbox.</summary>
    private Task WaitUntilSettledAsync() =>
        Eventually.ReturnsAsync<object>(
            async () =>
            {
                foreach (var node in _tree.Nodes.Where(static n => n.IsRunning))
                {
                    var status = await node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
                    var children = await node.Admin.ListChildrenAsync(new ListChildrenRequest(), deadline: Rpc.Deadline());
                    if (status.OutboxPeriods.Count > 0 || children.Children.Any(static c => c.Address.Length == 0))
                    {
                        return null;
                    }
                }

                return new object();
            },
            static _ => true,
            "every node to settle");
}
