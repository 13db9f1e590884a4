using System.Security.Cryptography.X509Certificates;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Security;

/// <summary>Transport rules (TLS, plaintext only on loopback by choice, node identity from certificates) and scopes across the tree.</summary>
public sealed class TransportAndScopeTests
{
    private const string Quarter = "2026-Q1";

    [Theory]
    [InlineData("http://0.0.0.0:0", true, "plaintext on a non-loopback address")]
    [InlineData("http://10.1.2.3:5001", true, "plaintext on a non-loopback address")]
    [InlineData("http://127.0.0.1:0", false, "Tls:AllowPlaintext=true")]
    [InlineData("https://127.0.0.1:0", false, "needs Tls:CertificatePath")]
    public void Build_UnsafeListener_IsRefusedAtStartWithOneClearLine(string listen, bool allowPlaintext, string expected)
    {
        using var folder = new TempFolder();
        var settings = new Dictionary<string, string?>
        {
            ["Node:Id"] = "370113",
            ["Node:Tier"] = "county",
            ["Node:DataPath"] = folder.Sub("node"),
            ["Node:Listen"] = listen,
            ["Tls:AllowPlaintext"] = allowPlaintext ? "true" : "false",
        };

        var ex = Assert.Throws<TransportConfigurationException>(() => NodeHost.Build(null, settings));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public async Task PlaintextOnLoopback_WhenAllowed_ServesPeopleButNoNodeCall()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { Plaintext = true, HostedUnitIds = ["370113001001"] }, folder.Sub("n"));
        Assert.StartsWith("http://127.0.0.1:", node.Address, StringComparison.Ordinal);

        var ack = await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = "370113001001", Period = Quarter, Values = { Reports.Count("party_members", 3) } }, deadline: Rpc.Deadline());

        Assert.Equal(1ul, ack.Version);
        // Without TLS there is no certificate, so no caller can be a node.
        await Rpc.FailsAsync(
            async () => await new FederationService.FederationServiceClient(node.ChannelWith(null)).PullSummaryAsync(new PullSummaryRequest { Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.Unauthenticated, "MISSING_CREDENTIALS");
    }

    [Fact]
    public async Task PushSummary_WithOneChildsCertificate_CannotSpeakAsItsSibling()
    {
        using var folder = new TempFolder();
        using var first = new FakeChild("370113001", 11);
        using var second = new FakeChild("370113002", 12);
        await using var county = await TestNode.StartAsync(
            new NodeSpec("370113", "county") { Children = [(first.Id, first.PublicKey), (second.Id, second.PublicKey)] }, folder.Sub("c"));
        var asFirst = county.FederationAs(first.Id);

        // The sibling's own, validly signed summary, delivered over the first child's certificate.
        await Rpc.FailsAsync(
            async () => await asFirst.PushSummaryAsync(new PushSummaryRequest { SignedSummary = second.Summary(Quarter, 1, 40) }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "SENDER_MISMATCH");
        // A summary naming the sibling, signed with the first child's key.
        await Rpc.FailsAsync(
            async () => await asFirst.PushSummaryAsync(new PushSummaryRequest { SignedSummary = first.Summary(Quarter, 1, 40, claimedId: second.Id) }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "SENDER_MISMATCH");

        var stored = await asFirst.PushSummaryAsync(new PushSummaryRequest { SignedSummary = first.Summary(Quarter, 1, 40) }, deadline: Rpc.Deadline());
        Assert.Equal(PushOutcome.Stored, stored.Outcome);
    }

    [Fact]
    public async Task NodeCall_WithACertificateFromAnotherCa_IsUnauthenticated()
    {
        using var folder = new TempFolder();
        using var child = new FakeChild("370113001", 13);
        await using var county = await TestNode.StartAsync(new NodeSpec("370113", "county") { Children = [(child.Id, child.PublicKey)] }, folder.Sub("c"));
        using var rogueCa = Pki.CreateAuthority("rogue", DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        using var forged = Pki.IssueNode(rogueCa, child.Id, ["127.0.0.1"], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        using var channel = TestPki.Channel(county.Address, clientCertificate: forged);

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await new FederationService.FederationServiceClient(channel)
            .PushSummaryAsync(new PushSummaryRequest { SignedSummary = child.Summary(Quarter, 1, 40) }, deadline: Rpc.Deadline()));

        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Fact]
    public void ServerCertificate_NamingAnotherNode_IsNotAcceptedAsThatPeer()
    {
        var certificates = new NodeCertificates(
            new TlsOptions { CertificatePath = TestPki.NodeFiles("370113001").Certificate, KeyPath = TestPki.NodeFiles("370113001").Key, CaPath = TestPki.CaPath },
            TimeProvider.System);
        var county = TestPki.NodeCertificate("370113");
        using var rogueCa = Pki.CreateAuthority("rogue", DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        using var forged = Pki.IssueNode(rogueCa, "370113", ["127.0.0.1"], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));

        Assert.True(certificates.IsPeer(county, "370113"));
        Assert.False(certificates.IsPeer(county, "370126"));
        Assert.False(certificates.IsPeer(forged, "370113"));
        Assert.Equal("370113", Pki.NodeIdOf(county));
    }

    [Fact]
    public async Task Reader_OfOneTownship_AtTheCounty_SeesItsSubtreeButNotItsNeighbourOrTheCounty()
    {
        using var folder = new TempFolder();
        var shape = new TreeNode("370113", "county",
        [
            new TreeNode("370113001", "township", [new TreeNode("370113001001", "village", [])]),
            new TreeNode("370113002", "township", [new TreeNode("370113002001", "village", [])]),
        ]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape);
        foreach (var village in tree.VillageIds)
        {
            await tree.SubmitAsync(village, Quarter, [Reports.Count("party_members", 10)]);
        }

        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 2, "both villages at the county");
        var county = tree.Root;
        var token = await county.IssueTokenAsync(Role.Reader, "370113001", account: "reader-370113001");
        var query = new QueryService.QueryServiceClient(county.ChannelWith(token));

        var own = await query.GetTotalsAsync(new GetTotalsRequest { NodeId = "370113001", Period = Quarter }, deadline: Rpc.Deadline());
        var below = await query.GetTotalsAsync(new GetTotalsRequest { NodeId = "370113001001", Period = Quarter }, deadline: Rpc.Deadline());

        Assert.Equal("370113001", own.NodeId);
        Assert.Equal("370113001001", below.NodeId);
        await Rpc.FailsAsync(async () => await query.GetTotalsAsync(new GetTotalsRequest { NodeId = "370113002", Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
        await Rpc.FailsAsync(async () => await query.GetCompletenessAsync(new GetCompletenessRequest { NodeId = "370113002001", Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
        await Rpc.FailsAsync(async () => await query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
        await Rpc.FailsAsync(async () => await query.GetTotalsAsync(new GetTotalsRequest { NodeId = "370113", Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task Caller_OverTheRateLimit_GetsResourceExhaustedNeverUnavailable()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(
            new NodeSpec("370113", "county") { Settings = new Dictionary<string, string?> { ["Access:RequestsPerSecond"] = "1", ["Access:Burst"] = "3" } },
            folder.Sub("n"));
        var federation = node.Federation;

        var codes = new List<StatusCode>();
        for (var i = 0; i < 12; i++)
        {
            try
            {
                await federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline());
                codes.Add(StatusCode.OK);
            }
            catch (RpcException ex)
            {
                codes.Add(ex.StatusCode);
                Assert.Equal("RATE_LIMITED", ex.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
            }
        }

        Assert.Contains(StatusCode.ResourceExhausted, codes);
        Assert.DoesNotContain(StatusCode.Unavailable, codes);
        Assert.All(codes, static c => Assert.True(c is StatusCode.OK or StatusCode.ResourceExhausted, c.ToString()));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AdminSocket_IsOwnerOnly_AndAnswersAdminCallsWithoutAToken()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113", "county"), folder.Sub("n"));
        var socket = Path.Combine(node.DataPath, AdminSocket.FileName);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(socket));
        using var channel = TestPki.AdminSocket(node.DataPath);
        var status = await new AdminService.AdminServiceClient(channel).GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        var me = await new AccessService.AccessServiceClient(channel).WhoAmIAsync(new WhoAmIRequest(), deadline: Rpc.Deadline());

        Assert.Equal("370113", status.NodeId);
        Assert.Equal("local-admin", me.Kind);
        // Over TCP, from the very same machine, admin calls still need an admin token.
        await Rpc.FailsAsync(
            async () => await new AdminService.AdminServiceClient(node.ChannelWith(null)).GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            StatusCode.Unauthenticated, "MISSING_CREDENTIALS");
        await Rpc.FailsAsync(
            async () => await new AdminService.AdminServiceClient(node.ChannelWith(node.Tokens.Reader)).GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED");
    }

    [Fact]
    public async Task EnrolChild_PlaintextAddressOffLoopback_IsRefused()
    {
        using var folder = new TempFolder();
        using var child = new FakeChild("370113001", 14);
        await using var county = await TestNode.StartAsync(new NodeSpec("370113", "county"), folder.Sub("c"));

        // A parent never calls a child in the clear across a network: the child could not tell it from a stranger.
        await Rpc.FailsAsync(
            async () => await county.Admin.EnrolChildAsync(
                new EnrolChildRequest { ChildId = child.Id, PublicKey = ByteString.CopyFrom(child.PublicKey), Address = "http://10.1.2.3:5000" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "MALFORMED_ADDRESS");
        var loopback = await county.Admin.EnrolChildAsync(
            new EnrolChildRequest { ChildId = child.Id, PublicKey = ByteString.CopyFrom(child.PublicKey), Address = "http://127.0.0.1:5000" }, deadline: Rpc.Deadline());
        Assert.NotEmpty(loopback.KeyId);
    }
}
