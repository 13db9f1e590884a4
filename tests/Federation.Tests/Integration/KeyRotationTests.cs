using System.Text.Json;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Signing;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// A village rotates its key with `federation key rotate`: its parent takes the rotation signed by the
/// old key, proofs made before still verify with both keys, the old key is refused for anything new,
/// and new summaries flow.
/// </summary>
public sealed class KeyRotationTests
{
    private const string Quarter = "2026-Q1";
    private const string Village = "370113001001";

    private static TreeNode Township() => new("370113001", "township",
        [new TreeNode(Village, "village", []), new TreeNode("370113001002", "village", [])]);

    [Fact]
    public async Task RotateKey_Village_OldProofVerifiesOldKeyRefusedNewSummariesFlow()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, Township());
        var township = tree["370113001"];
        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 40)]);
        await tree.SubmitAsync("370113001002", Quarter, [Reports.Count("party_members", 50)]);
        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => PartyMembers(t) == 90, "both villages at the township");
        var proofBefore = (await township.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = Village }, deadline: Rpc.Deadline())).Proof;
        var townshipKey = (await township.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        var villagePath = folder.Sub(Village);
        var oldPrivateKey = await File.ReadAllBytesAsync(Path.Combine(villagePath, NodeKeyFile.FileName));
        using var oldKey = NodeSigningKey.FromPrivateKeyBytes(oldPrivateKey);

        await tree[Village].StopAsync();
        var rotated = await Cli.RunAsync("key", "rotate", "--data", villagePath);
        Assert.True(rotated.ExitCode == 0, rotated.StandardError);
        await tree[Village].StartAsync();
        var newKey = (await tree[Village].Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        Assert.NotEqual(oldKey.PublicKeyBytes, newKey);

        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 45)]);
        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => PartyMembers(t) == 95, "the village's correction signed with its new key");
        Assert.False(File.Exists(Path.Combine(villagePath, NodeKeyFile.RotationFileName)), "the rotation was delivered");

        var bothKeys = new TrustedKeys([
            KeyValuePair.Create(Village, (IReadOnlyList<byte[]>)[newKey, oldKey.PublicKeyBytes]),
            KeyValuePair.Create("370113001", (IReadOnlyList<byte[]>)[townshipKey]),
        ]);
        var before = ProofVerifier.Verify(proofBefore, bothKeys, "370113001");
        Assert.True(before.IsValid, before.Message);
        var onlyNewKey = TrustedKeys.FromSingle(new Dictionary<string, byte[]> { [Village] = newKey, ["370113001"] = townshipKey });
        Assert.False(ProofVerifier.Verify(proofBefore, onlyNewKey, "370113001").IsValid);
        // The township learns the village's new address from an announcement signed with the new key, so only once the rotation landed.
        var proofAfter = await Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    return (await township.Query.GetProofAsync(new GetProofRequest { Period = Quarter, UnitId = Village }, deadline: Rpc.Deadline())).Proof;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    return null;
                }
            },
            static p => p.Links.Count == 2, "a proof through the rotated village");
        Assert.True(ProofVerifier.Verify(proofAfter, bothKeys, "370113001").IsValid);

        // The command line reads keys.json with a list of keys for the rotated village.
        var keysPath = folder.Sub("keys.json");
        await File.WriteAllTextAsync(keysPath, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            [Village] = new[] { Convert.ToBase64String(newKey), Convert.ToBase64String(oldKey.PublicKeyBytes) },
            ["370113001"] = Convert.ToBase64String(townshipKey),
        }));
        var proofPath = folder.Sub("before.proof");
        await File.WriteAllBytesAsync(proofPath, proofBefore.ToByteArray());
        var verified = await Cli.RunAsync("verify", "--proof", proofPath, "--keys", keysPath, "--top", "370113001");
        Assert.True(verified.ExitCode == 0, verified.StandardError);

        var current = Summary.Parser.ParseFrom(proofAfter.Links[0].SummaryBytes);
        current.Version += 10;
        await Rpc.FailsAsync(
            async () => await township.FederationAs(Village).PushSummaryAsync(new PushSummaryRequest { SignedSummary = SignedMessages.SignSummary(current, oldKey) }, deadline: Rpc.Deadline()),
            StatusCode.Unauthenticated, "UNKNOWN_SIGNER");
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task RotateKey_SignedByAnotherKey_IsRefusedAndTheEnrolmentStays()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, Township());
        var township = tree["370113001"];
        using var stranger = NodeSigningKey.FromPrivateKeyBytes(new byte[32]);
        using var next = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)7, 32).ToArray());
        var villageKeyId = (await tree[Village].Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).KeyId;
        var forged = SignedMessages.SignKeyRotation(new KeyRotation
        {
            NodeId = Village,
            OldKeyId = villageKeyId,
            NewPublicKey = ByteString.CopyFrom(next.PublicKeyBytes),
        }, stranger);

        await Rpc.FailsAsync(
            async () => await township.FederationAs(Village).RotateKeyAsync(new RotateKeyRequest { Rotation = forged }, deadline: Rpc.Deadline()),
            StatusCode.Unauthenticated, "UNKNOWN_SIGNER");

        await tree.SubmitAsync(Village, Quarter, [Reports.Count("party_members", 40)]);
        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => PartyMembers(t) == 40, "the village, still on its own key");
    }

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.SingleOrDefault(static t => t.Indicator.Id == "party_members")?.Aggregate.Total ?? 0;
}
