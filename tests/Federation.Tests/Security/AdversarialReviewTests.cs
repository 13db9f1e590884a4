using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Federation.Node.Cli;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Federation.Tests.Security;

/// <summary>
/// A hostile client's and a hostile node's view of transport and access: each test here shows a weakness
/// with real nodes and real gRPC, and fails until it is fixed.
/// </summary>
public sealed class AdversarialReviewTests
{
    private const string Quarter = "2026-Q1";

    /// <summary>
    /// A person's command line trusts any certificate the deployment CA issued, whatever host it asked for and
    /// whatever node the certificate names. Anyone holding any node's certificate (a village laptop) who can
    /// answer on the city's name (DNS, a proxy, a mistyped address) is taken for the city, and is handed the
    /// leader's bearer token on the first call.
    /// Fix: in CliConnection (and TestPki.Channel, which copies it) keep the platform's host-name check
    /// (accept only SslPolicyErrors.None or RemoteCertificateChainErrors resolved by the custom chain, never
    /// RemoteCertificateNameMismatch): `cert issue --host` already writes the names a node answers on. Better
    /// still, let a person pin the node id too (`--node-id`, checked with Pki.NodeIdOf as the nodes do).
    /// </summary>
    [Fact]
    public async Task CliConnection_ServerWithAnotherNodesCertificate_IsRefusedBeforeTheTokenIsSent()
    {
        using var folder = new TempFolder();
        await using var city = await TestNode.StartAsync(new NodeSpec("3701", "city"), folder.Sub("city"));
        var leaderToken = await city.IssueTokenAsync(Role.Reader, "3701", account: "leader");

        // A village's genuine certificate from the deployment CA, naming only the village's own host.
        using var villageCertificate = Pki.IssueNode(TestPki.Authority, "370113001001", ["village.example"], DateTimeOffset.UtcNow, TimeSpan.FromDays(1));
        var certificatePath = folder.Sub("village.crt");
        var keyPath = folder.Sub("village.key");
        Pki.Write(villageCertificate, certificatePath, keyPath);
        await using var impostor = await TestNode.StartAsync(
            new NodeSpec("370113001001", "village")
            {
                Settings = new Dictionary<string, string?> { ["Tls:CertificatePath"] = certificatePath, ["Tls:KeyPath"] = keyPath },
            },
            folder.Sub("impostor"));

        // The leader means to reach the city at 127.0.0.1 (which the village's certificate does not name).
        using var channel = CliConnection.Open(impostor.Address, leaderToken, TestPki.CaPath);
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await new AccessService.AccessServiceClient(channel).WhoAmIAsync(new WhoAmIRequest(), deadline: Rpc.Deadline()));

        // Had the TLS handshake succeeded, the impostor would have read the token (and answered INVALID_TOKEN:
        // it did not issue it). The client refuses the certificate before any request is sent.
        Assert.True(ex.StatusCode != StatusCode.Unauthenticated && ex.Status.Detail.Contains("SSL connection could not be established", StringComparison.Ordinal),
            $"the command line completed TLS with a village's certificate for another host and sent the token; the impostor answered {ex.StatusCode}: {ex.Status.Detail}");
    }

    /// <summary>
    /// The node refuses plaintext on any non-loopback address, but the command line sends a bearer token over
    /// plaintext to any http:// address (UnsafeUseInsecureChannelCallCredentials), so one wrong `--node`
    /// puts the token on the wire in the clear.
    /// Fix: in CliConnection.Open refuse a token with an http:// address unless the host is a loopback address
    /// (mirror ListenerPlan), and drop UnsafeUseInsecureChannelCallCredentials otherwise.
    /// </summary>
    [Fact]
    public async Task CliConnection_TokenOverPlaintextToANonLoopbackAddress_IsRefused()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113", "county"), folder.Sub("n"));
        var token = node.Tokens.Reader;
        var secret = token.Split('.')[2];
        var address = NonLoopbackAddress();
        if (address is null)
        {
            // No network interface to listen on here: at least the command line must refuse before sending.
            Assert.Throws<FormatException>(() => CliConnection.Open("http://192.0.2.1:9", token, null).Dispose());
            return;
        }

        // A listener on the network, as anyone on the path would see the bytes.
        using var listener = new TcpListener(address!, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var captured = CaptureAsync(listener);

        try
        {
            using var channel = CliConnection.Open($"http://{address}:{port}", token, null);
            try
            {
                await new AccessService.AccessServiceClient(channel).WhoAmIAsync(new WhoAmIRequest(), deadline: DateTime.UtcNow.AddSeconds(3));
            }
            catch (RpcException)
            {
                // The fake listener never answers; what matters is what it received.
            }
        }
        catch (FormatException)
        {
            // Refused before anything was sent: the fixed behaviour.
        }

        listener.Stop();
        var bytes = await captured;
        Assert.False(bytes.Contains(secret, StringComparison.Ordinal),
            "the command line sent the bearer token in cleartext to a non-loopback http:// address");
    }

    /// <summary>
    /// For node ids that do not nest (which README promises to handle: "whatever the id scheme"), a query about
    /// a node below one child is offered to every child in turn, and the first answer is passed on unchecked.
    /// A hostile child that sorts first answers for its sibling's subtree: the county relays figures for
    /// village-7 that south never computed (and a nonexistent node comes back as found).
    /// Fix: in QueryRouter.ForwardAsync accept an answer only when it is about the node asked
    /// (response node_id == request node_id, and for GetTotals a signed summary by that node whose key chain
    /// the parent can check), and route only to a child known to hold the node: learn each child's subtree ids
    /// from its signed announcements/summaries instead of asking every child.
    /// </summary>
    [Fact]
    public async Task GetTotals_HostileChildAnswersForItsSiblingsSubtree_IsNotRelayed()
    {
        using var folder = new TempFolder();
        var shape = new TreeNode("370113", "county", [new TreeNode("south", "township", [new TreeNode("village-7", "village", [])])]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape);
        await tree.SubmitAsync("village-7", Quarter, [Reports.Count("party_members", 10)]);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "village-7 at the county");
        var county = tree.Root;
        var honest = await county.Query.GetTotalsAsync(new GetTotalsRequest { NodeId = "village-7", Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal("village-7", honest.NodeId);

        // The county enrols a second township, which turns out hostile.
        using var northKey = new FakeChild("north", 21);
        await using var north = await HostileChild.StartAsync("north");
        await county.Admin.EnrolChildAsync(
            new EnrolChildRequest { ChildId = "north", PublicKey = ByteString.CopyFrom(northKey.PublicKey), Address = north.Address }, deadline: Rpc.Deadline());

        // Ids that do not nest: both children are asked; two claims on one node are a conflict, never an answer.
        await Rpc.FailsAsync(
            async () => await county.Query.GetTotalsAsync(new GetTotalsRequest { NodeId = "village-7", Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "CONFLICTING_ANSWERS");
        Assert.True(north.Asked > 0);
    }

    /// <summary>
    /// The admin socket is created by Kestrel with the process umask and made owner-only only when the
    /// application has started. Between the two, under a common umask of 002, the node's group can connect,
    /// and a connection opened in that window keeps acting as the local admin (no token) after the chmod.
    /// Fix: create the socket inside a directory that is already owner-only (e.g. data/admin/ created 0700,
    /// checked at start), or set umask 077 around the bind, and check the peer's uid with SO_PEERCRED in the
    /// connection middleware that marks local-socket connections, so the file mode is not the only guard.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AdminSocket_WhileTheNodeIsStarting_IsAlreadyOwnerOnly()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("n");
        var socket = Path.Combine(dataPath, AdminSocket.FileName);
        var seen = new List<UnixFileMode>();
        var settings = new Dictionary<string, string?>
        {
            ["Node:Id"] = "370113",
            ["Node:Tier"] = "county",
            ["Node:DataPath"] = dataPath,
            ["Node:Listen"] = "https://127.0.0.1:0",
            ["Tls:CertificatePath"] = TestPki.NodeFiles("370113").Certificate,
            ["Tls:KeyPath"] = TestPki.NodeFiles("370113").Key,
            ["Tls:CaPath"] = TestPki.CaPath,
        };

        var previous = Umask(0b_000_000_010); // 002: group-writable, as Debian/Ubuntu give users with a private group
        WebApplication app;
        try
        {
            app = NodeHost.Build(null, settings, builder =>
            {
                builder.Logging.ClearProviders();
                builder.Services.AddSingleton<IHostedService>(new SocketModeProbe(socket, seen));
            });
            await app.StartAsync();
        }
        finally
        {
            _ = Umask(previous);
        }

        try
        {
            // Once the node is listening (the server started before this probe ran), the socket is reachable.
            Assert.NotEmpty(seen);
            const UnixFileMode groupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            Assert.True((seen[0] & groupOrOther) == 0,
                $"while the node was starting, its admin socket was {seen[0]}: the node's group could connect as the local admin");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// Access control ends at the gRPC endpoints: the data folder and node.db (every report, every child
    /// summary, the accounts and token records) are created with the process umask, 0755 and 0644 under the
    /// usual 022, so any other account on the node's machine reads every unit's figures without a token, a
    /// role or a scope. README treats other local users as outsiders (the admin socket is owner-only for that
    /// reason), but only node.key and the socket are protected.
    /// Fix: create the data folder 0700 (Directory.CreateDirectory(path, UserRead|UserWrite|UserExecute)) and
    /// refuse to start, with one clear line, when an existing folder is group- or other-accessible; create
    /// node.db, node-log.db, node.manifest and node.endpoint 0600.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task DataFolder_AfterStart_IsNotReadableByOtherLocalAccounts()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { HostedUnitIds = ["370113001001"] }, folder.Sub("n"));
        await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = "370113001001", Period = Quarter, Values = { Reports.Count("party_members", 3) } }, deadline: Rpc.Deadline());

        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var folderMode = File.GetUnixFileMode(node.DataPath);
        var databaseMode = File.GetUnixFileMode(Path.Combine(node.DataPath, Federation.Node.Storage.NodeStore.DatabaseFileName));
        var readableByOthers = (folderMode & others) != 0 && (databaseMode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;

        Assert.False(readableByOthers, $"the data folder is {folderMode} and node.db is {databaseMode}: any local account reads every report");
    }

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);

    private static IPAddress? NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(static n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(static n => n.GetIPProperties().UnicastAddresses)
            .Select(static a => a.Address)
            .FirstOrDefault(static a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    /// <summary>Accepts one connection, answers an empty HTTP/2 SETTINGS frame and its ack, and returns what arrived (as Latin-1).</summary>
    private static async Task<string> CaptureAsync(TcpListener listener)
    {
        var received = new MemoryStream();
        try
        {
            using var client = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
            var stream = client.GetStream();
            await stream.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
            await stream.WriteAsync(new byte[] { 0, 0, 0, 4, 1, 0, 0, 0, 0 });
            var buffer = new byte[16 * 1024];
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            while (true)
            {
                var read = await stream.ReadAsync(buffer, stop.Token);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or TimeoutException)
        {
            // Done listening.
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>Records the admin socket's mode once every hosted service, the server included, has started.</summary>
    private sealed class SocketModeProbe(string socket, List<UnixFileMode> seen) : IHostedLifecycleService
    {
        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        public Task StartedAsync(CancellationToken cancellationToken)
        {
            if (File.Exists(socket))
            {
                seen.Add(File.GetUnixFileMode(socket));
            }

            return Task.CompletedTask;
        }

        public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>
    /// A child node played by an attacker: a genuine certificate for its own id, and a QueryService that
    /// answers about any node it is asked about.
    /// </summary>
    private sealed class HostileChild : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly HostileQueries _queries;

        private HostileChild(WebApplication app, HostileQueries queries, string address)
        {
            _app = app;
            _queries = queries;
            Address = address;
        }

        public string Address { get; }

        public int Asked => _queries.Asked;

        public static async Task<HostileChild> StartAsync(string nodeId)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                l.UseHttps(https =>
                {
                    https.ServerCertificate = TestPki.NodeCertificate(nodeId);
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.ClientCertificateValidation = static (_, _, _) => true;
                });
            }));
            var queries = new HostileQueries();
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(queries);
            var app = builder.Build();
            app.MapGrpcService<HostileQueryService>();
            await app.StartAsync();
            var address = app.Urls.First();
            return new HostileChild(app, queries, address);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed class HostileQueries
    {
        private int _asked;

        public int Asked => _asked;

        public void Count() => Interlocked.Increment(ref _asked);
    }

    private sealed class HostileQueryService(HostileQueries queries) : QueryService.QueryServiceBase
    {
        public override Task<GetTotalsResponse> GetTotals(GetTotalsRequest request, ServerCallContext context)
        {
            queries.Count();
            return Task.FromResult(new GetTotalsResponse
            {
                NodeId = request.NodeId,
                Tier = "village",
                DisplayName = "forged by north",
                Period = request.Period,
                Coverage = new Coverage { ExpectedLeafCount = 1, ReportedLeafCount = 1, OnTimeLeafCount = 1 },
            });
        }
    }
}
