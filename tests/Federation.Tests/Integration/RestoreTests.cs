using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>A village restored from a backup never reuses a version its parent already holds.</summary>
public sealed class RestoreTests
{
    private const string Quarter = "2026-Q1";
    private const string Village = "370113001001";

    [Fact]
    public async Task Restore_OlderSnapshotThenCorrection_ParentHoldsTheCorrection()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, new TreeNode("370113001", "township", [new TreeNode(Village, "village", [])]));
        var township = tree["370113001"];
        var village = tree[Village];
        var dataPath = folder.Sub(Village);
        var snapshot = folder.Sub("snapshot");
        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 40)]);
        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => PartyMembers(t) == 40, "version 1 at the township");
        await WaitForEmptyOutboxAsync(village);
        await village.StopAsync();
        CopyFolder(dataPath, snapshot);

        await village.StartAsync();
        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 41)]);
        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 42)]);
        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => PartyMembers(t) == 42, "later versions at the township");
        await village.StopAsync();
        Directory.Delete(dataPath, recursive: true);
        CopyFolder(snapshot, dataPath);

        await village.StartAsync();
        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 77)]);

        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => PartyMembers(t) == 77, "the restored village's correction at the township");
        var status = await township.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Equal(0u, status.EquivocationCount);
    }

    private static async Task WaitForEmptyOutboxAsync(TestNode node) =>
        await Eventually.ReturnsAsync(
            async () => await node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            static s => s.OutboxPeriods.Count == 0 && s.PendingRebuildCount == 0, "the village's outbox to drain");

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.SingleOrDefault(static t => t.Indicator.Id == "party_members")?.Aggregate.Total ?? 0;
}
