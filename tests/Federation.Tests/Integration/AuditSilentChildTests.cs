using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;

namespace Federation.Tests.Integration;

/// <summary>An audit bundle carries what an auditor needs to recompute expected leaves when a child is silent.</summary>
public sealed class AuditSilentChildTests
{
    private const string Quarter = "2026-Q1";
    private const string Township = "370113001";
    private const string HostedVillage = "370113001001";
    private const string SilentVillage = "370113001002";
    private const string SilentCoop = "370113001003";

    [Fact]
    public async Task Audit_SilentChildren_RecomputesExpectedLeavesExactlyAndCatchesABentCount()
    {
        using var folder = new TempFolder();
        var silentKey = TestNode.CreateKey(folder.Sub(SilentVillage));
        var coopKey = TestNode.CreateKey(folder.Sub(SilentCoop));
        await using var township = await TestNode.StartAsync(
            new NodeSpec(Township, "township") { HostedUnitIds = [HostedVillage], Children = [(SilentVillage, silentKey)] }, folder.Sub(Township));
        // A child expected to carry five leaves that has never sent anything.
        await township.Admin.EnrolChildAsync(
            new EnrolChildRequest { ChildId = SilentCoop, PublicKey = ByteString.CopyFrom(coopKey), ExpectedLeafCount = 5 }, deadline: Rpc.Deadline());
        await township.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = HostedVillage, Period = Quarter, Values = { Reports.Count("party_members", 30) } }, deadline: Rpc.Deadline());
        var totals = await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the township's summary");
        var keys = new Dictionary<string, byte[]>
        {
            [Township] = (await township.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray(),
        };

        var bundle = (await township.Query.GetAuditBundleAsync(new GetAuditBundleRequest { Period = Quarter }, deadline: Rpc.Deadline())).Bundle;
        var honest = Auditor.Audit(bundle, CatalogueIndex.Default, keys);

        Assert.Equal(7u, totals.Coverage.ExpectedLeafCount);
        Assert.True(honest.IsClean, string.Join("\n", honest.Differences));
        Assert.Equal([(SilentVillage, 1u), (SilentCoop, 5u)], bundle.SilentChildren.OrderBy(static c => c.ChildId, StringComparer.Ordinal).Select(static c => (c.ChildId, c.ExpectedLeafCount)));

        // A township that claims two more expected leaves than its inputs and silent sources account for.
        using var bentKey = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)7, 32).ToArray());
        var summary = Summary.Parser.ParseFrom(bundle.Summary.SummaryBytes);
        summary.Coverage.ExpectedLeafCount += 2;
        var bent = bundle.Clone();
        bent.Summary = SignedMessages.SignSummary(summary, bentKey);

        var caught = Auditor.Audit(bent, CatalogueIndex.Default, new Dictionary<string, byte[]> { [Township] = bentKey.PublicKeyBytes });

        Assert.False(caught.IsClean);
        Assert.Contains(caught.Differences, static d => d.Contains("expected leaves stated 9, recomputed 7", StringComparison.Ordinal));
    }
}
