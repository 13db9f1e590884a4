using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;

namespace Federation.Tests.Integration;

/// <summary>Proof chains from the city to a village verify offline; audits catch bent arithmetic.</summary>
public sealed class ProofTests
{
    private const string Quarter = "2026-Q1";
    private const string Village = "370126001002";

    [Fact]
    public async Task Proof_FromCityToVillage_VerifiesOfflineAndAnyChangedByteBreaksIt()
    {
        using var folder = new TempFolder();
        await using var tree = await StartWithReportsAsync(folder);
        var keys = await KeysAsync(tree);

        var proof = (await tree.Root.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = Village }, deadline: Rpc.Deadline())).Proof;
        var result = ProofVerifier.Verify(proof, keys, "3701");

        Assert.True(result.IsValid, result.Message);
        Assert.Equal([Village, "370126001", "370126", "3701"], result.Summaries.Select(static s => s.NodeId));
        Assert.Equal(Village, result.Report!.UnitId);
        foreach (var tampered in EveryOneByteChange(proof))
        {
            Assert.False(ProofVerifier.Verify(tampered.Proof, keys, "3701").IsValid, $"changing {tampered.Where} did not break the proof");
        }

        var withoutCounty = proof.Clone();
        withoutCounty.Links.RemoveAt(2);
        Assert.False(ProofVerifier.Verify(withoutCounty, keys, "3701").IsValid);
        var trustingAnotherKey = new Dictionary<string, byte[]>(keys) { ["370126"] = keys["370113"] };
        Assert.False(ProofVerifier.Verify(proof, trustingAnotherKey, "3701").IsValid);
    }

    [Fact]
    public async Task Proof_WithItsLastLinkDropped_FailsAgainstThePinnedTopAndDigest()
    {
        using var folder = new TempFolder();
        await using var tree = await StartWithReportsAsync(folder);
        var keys = await KeysAsync(tree);
        var totals = await tree.Root.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        var cityDigest = Digests.Sha256(totals.SignedSummary.SummaryBytes.Span);
        var proof = (await tree.Root.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = Village }, deadline: Rpc.Deadline())).Proof;
        var truncated = proof.Clone();
        truncated.Links.RemoveAt(truncated.Links.Count - 1);

        var dropped = ProofVerifier.Verify(truncated, keys, "3701");

        Assert.False(dropped.IsValid);
        Assert.Contains("not at 3701", dropped.Message, StringComparison.Ordinal);
        Assert.True(ProofVerifier.Verify(proof, keys, "3701", cityDigest).IsValid);
        Assert.False(ProofVerifier.Verify(proof, keys, "3701", new byte[32]).IsValid);
        Assert.False(ProofVerifier.Verify(truncated, keys, "370126", cityDigest).IsValid);
    }

    [Fact]
    public async Task Proof_AfterACorrection_LinksTheNewReportAndTheOldProofStillVerifies()
    {
        using var folder = new TempFolder();
        await using var tree = await StartWithReportsAsync(folder);
        var keys = await KeysAsync(tree);
        var before = (await tree.Root.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = Village }, deadline: Rpc.Deadline())).Proof;

        // The correction states the whole report again: one value, replacing every earlier one.
        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 999)], SubmitMode.Replace);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter,
            static t => t.Totals.Single(static x => x.Indicator.Id == "party_members").Aggregate.Total > 999, "the correction at the city");
        var after = (await tree.Root.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = Village }, deadline: Rpc.Deadline())).Proof;

        Assert.True(ProofVerifier.Verify(before, keys, "3701").IsValid);
        var result = ProofVerifier.Verify(after, keys, "3701");
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(2ul, result.Report!.Version);
        Assert.Equal(999, result.Report.Values.Single().Count);
    }

    [Fact]
    public async Task Proof_ParentHoldsAnOlderVersion_IsBuiltFromTheReplacedSummaryAndReport()
    {
        using var folder = new TempFolder();
        var ids = new[] { "370113001", "370113001001" };
        var keys = ids.ToDictionary(static id => id, id => TestNode.CreateKey(folder.Sub(id)));
        await using var township = await TestNode.StartAsync(new NodeSpec(ids[0], "township") { Children = [(ids[1], keys[ids[1]])] }, folder.Sub(ids[0]));
        // The village's pushes go nowhere, so the township only has what it pulled.
        await using var nowhere = new TcpForwarder();
        await using var village = await TestNode.StartAsync(
            new NodeSpec(ids[1], "village") { ParentAddress = nowhere.Address, ParentId = ids[0], HostedUnitIds = [ids[1]] },
            folder.Sub(ids[1]));
        await township.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = ids[1], PublicKey = ByteString.CopyFrom(keys[ids[1]]), Address = village.Address }, deadline: Rpc.Deadline());
        await village.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = ids[1], Period = Quarter, Values = { Reports.Count("party_members", 41) } }, deadline: Rpc.Deadline());
        await township.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: Rpc.Deadline());

        // The village corrects its report; the township still holds the version it pulled.
        await village.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = ids[1], Period = Quarter, Values = { Reports.Count("party_members", 50) } }, deadline: Rpc.Deadline());
        var corrected = await TestHierarchy.WaitForTotalsAsync(village, Quarter, static t => t.Totals.Single(static x => x.Indicator.Id == "party_members").Aggregate.Total == 50, "the correction at the village");
        var proof = (await township.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = ids[1] }, deadline: Rpc.Deadline())).Proof;

        var result = ProofVerifier.Verify(proof, keys, ids[0]);
        Assert.True(result.IsValid, result.Message);
        Assert.Equal(1ul, result.Report!.Version);
        Assert.Equal(41, result.Report.Values.Single().Count);
        Assert.True(result.Summaries[0].Version < Summary.Parser.ParseFrom(corrected.SignedSummary.SummaryBytes).Version, "the proof cites the village's replaced summary");
    }

    [Fact]
    public async Task Audit_HonestCounty_IsClean_AndACountyThatBendsItsTotalIsCaught()
    {
        using var folder = new TempFolder();
        await using var tree = await StartWithReportsAsync(folder);
        var keys = await KeysAsync(tree);
        var bundle = (await tree.Root.Query.GetAuditBundleAsync(new GetAuditBundleRequest { NodeId = "370113", Period = Quarter }, deadline: Rpc.Deadline())).Bundle;

        var honest = Auditor.Audit(bundle, CatalogueIndex.Default, keys);

        Assert.True(honest.IsClean, string.Join("\n", honest.Differences));
        Assert.Equal(2, bundle.ChildSummaries.Count);

        // A county that adds ten party members it cannot account for, and signs the result.
        using var bentKey = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)42, 32).ToArray());
        var summary = Summary.Parser.ParseFrom(bundle.Summary.SummaryBytes);
        summary.Aggregates.Single(static a => a.IndicatorId == "party_members").Total += 10;
        var bent = bundle.Clone();
        bent.Summary = SignedMessages.SignSummary(summary, bentKey);
        var bentKeys = new Dictionary<string, byte[]>(keys) { ["370113"] = bentKey.PublicKeyBytes };

        var caught = Auditor.Audit(bent, CatalogueIndex.Default, bentKeys);

        Assert.False(caught.IsClean);
        Assert.Contains(caught.Differences, static d => d.StartsWith("party_members:", StringComparison.Ordinal));
        Assert.Single(caught.Differences);
    }

    [Fact]
    public async Task Audit_CountyCitingATownshipTwiceOrUncheckedKeys_IsNotClean()
    {
        using var folder = new TempFolder();
        await using var tree = await StartWithReportsAsync(folder);
        var keys = await KeysAsync(tree);
        var bundle = (await tree.Root.Query.GetAuditBundleAsync(new GetAuditBundleRequest { NodeId = "370113", Period = Quarter }, deadline: Rpc.Deadline())).Bundle;

        // A county that merges one township's summary twice and signs the doubled figures.
        using var bentKey = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)43, 32).ToArray());
        var summary = Summary.Parser.ParseFrom(bundle.Summary.SummaryBytes);
        summary.Contributions.Add(summary.Contributions[0].Clone());
        var doubled = bundle.Clone();
        doubled.Summary = SignedMessages.SignSummary(summary, bentKey);
        var bentKeys = new Dictionary<string, byte[]>(keys) { ["370113"] = bentKey.PublicKeyBytes };

        var twice = Auditor.Audit(doubled, CatalogueIndex.Default, bentKeys);
        var unchecked_ = Auditor.Audit(bundle, CatalogueIndex.Default, new Dictionary<string, byte[]>());

        Assert.Contains(twice.Differences, static d => d.EndsWith("cited more than once.", StringComparison.Ordinal));
        Assert.False(unchecked_.IsClean);
        Assert.All(unchecked_.Differences, static d => Assert.Contains("signature not checked", d, StringComparison.Ordinal));
        Assert.Equal(3, unchecked_.Differences.Count);
    }

    private static async Task<TestHierarchy> StartWithReportsAsync(TempFolder folder)
    {
        var tree = await TestHierarchy.StartAsync(folder, TreeNode.Jinan());
        var rng = new Random(8032);
        await Task.WhenAll(tree.VillageIds.Select(v => tree.SubmitAsync(v, Quarter, Reports.Random(rng))));
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 12, "the city to cover 12 villages");
        return tree;
    }

    /// <summary>The public keys as an auditor would collect them, from each node's identity.</summary>
    private static async Task<Dictionary<string, byte[]>> KeysAsync(TestHierarchy tree)
    {
        var keys = new Dictionary<string, byte[]>();
        foreach (var node in tree.Nodes)
        {
            keys[node.Id] = (await node.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        }

        return keys;
    }

    private static IEnumerable<(string Where, Proof Proof)> EveryOneByteChange(Proof proof)
    {
        for (var i = 0; i < proof.UnitReportBytes.Length; i++)
        {
            var copy = proof.Clone();
            copy.UnitReportBytes = Flip(copy.UnitReportBytes, i);
            yield return ($"report byte {i}", copy);
        }

        for (var link = 0; link < proof.Links.Count; link++)
        {
            for (var i = 0; i < proof.Links[link].SummaryBytes.Length; i++)
            {
                var copy = proof.Clone();
                copy.Links[link].SummaryBytes = Flip(copy.Links[link].SummaryBytes, i);
                yield return ($"link {link} byte {i}", copy);
            }

            for (var i = 0; i < proof.Links[link].Signature.Length; i += 7)
            {
                var copy = proof.Clone();
                copy.Links[link].Signature = Flip(copy.Links[link].Signature, i);
                yield return ($"link {link} signature byte {i}", copy);
            }
        }
    }

    private static ByteString Flip(ByteString bytes, int index)
    {
        var copy = bytes.ToByteArray();
        copy[index] ^= 0x01;
        return ByteString.CopyFrom(copy);
    }
}
