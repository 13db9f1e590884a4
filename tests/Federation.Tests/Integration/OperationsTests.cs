using System.Globalization;
using System.Text.RegularExpressions;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace Federation.Tests.Integration;

/// <summary>
/// What an operator sees of a running node: server reflection, the gRPC health service and /healthz,
/// Prometheus metrics on the operations listener, and the logs (one startup line, no line per call).
/// </summary>
public sealed partial class OperationsTests : IAsyncLifetime
{
    private const string Township = "370113001";
    private const string Village = "370113001001";
    private const string Quarter = "2026-Q1";

    private static readonly Dictionary<string, string?> s_operations = new() { ["Operations:Listen"] = "http://127.0.0.1:0" };

    private readonly TempFolder _folder = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private TestNode _township = null!;
    private TestNode _village = null!;

    public async Task InitializeAsync()
    {
        var townshipKey = TestNode.CreateKey(_folder.Sub(Township));
        var villageKey = TestNode.CreateKey(_folder.Sub(Village));
        _township = await TestNode.StartAsync(
            new NodeSpec(Township, "township") { Children = [(Village, villageKey)], Settings = s_operations }, _folder.Sub(Township));
        _village = await TestNode.StartAsync(
            new NodeSpec(Village, "village")
            {
                ParentId = Township,
                ParentAddress = _township.Address,
                ParentPublicKey = townshipKey,
                HostedUnitIds = [Village],
                Settings = s_operations,
            },
            _folder.Sub(Village));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _village.DisposeAsync();
        await _township.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Reflection_AsAReader_ListsAndDescribesEveryServiceTheNodeServes()
    {
        var listed = await ListServicesAsync(_village.Channel);

        Assert.Equal(
            [
                "federation.v1.AccessService", "federation.v1.AdminService", "federation.v1.FederationService", "federation.v1.ImportService", "federation.v1.LedgerService",
                "federation.v1.QueryService", "federation.v1.RatingService", "federation.v1.ReportingService", "federation.v1.ReviewService",
                "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
            ],
            listed.Order(StringComparer.Ordinal));

        // As `grpcurl describe` would: the file declaring a service, with its methods.
        var file = await FileContainingAsync(_village.Channel, "federation.v1.ReportingService");
        var methods = file.Service.Single(static s => s.Name == "ReportingService").Method.Select(static m => m.Name);
        Assert.Equal(ReportingService.Descriptor.Methods.Select(static m => m.Name).Order(), methods.Order());
    }

    [Fact]
    public async Task Reflection_WithoutAToken_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => ListServicesAsync(_village.ChannelWith(null)));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task Health_WithoutACredential_AnswersServingOnEveryListener()
    {
        // The TLS listener, as `grpc_health_probe -tls` would ask it, with no token and no client certificate.
        var overTls = await new Health.HealthClient(_village.ChannelWith(null)).CheckAsync(new HealthCheckRequest(), deadline: Rpc.Deadline());
        using var socket = TestPki.AdminSocket(_village.DataPath);
        var overSocket = await new Health.HealthClient(socket).CheckAsync(new HealthCheckRequest(), deadline: Rpc.Deadline());
        var overHttp = await _http.GetAsync(new Uri(_village.OperationsAddress + "/healthz"));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, overTls.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, overSocket.Status);
        Assert.Equal(System.Net.HttpStatusCode.OK, overHttp.StatusCode);
        Assert.Equal("SERVING", (await overHttp.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    public async Task HealthCommand_AgainstTheNode_PrintsServingAndExitsZero()
    {
        var result = await Cli.RunAsync("health", "--node", _village.Address, "--ca", TestPki.CaPath);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("SERVING", result.StandardOutput.Trim());

        var unknown = await Cli.RunAsync("health", "--node", _village.Address, "--ca", TestPki.CaPath, "--service", "federation.v1.NoSuchService");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("SERVICE_UNKNOWN", unknown.StandardOutput.Trim());
    }

    [Fact]
    public async Task Health_AfterTheStoreHaltedOnAFullDisk_AnswersNotServing()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await using var node = await TestNode.StartAsync(
            new NodeSpec(Village, "village") { HostedUnitIds = [Village], Settings = s_operations }, dataPath);
        var health = new Health.HealthClient(node.ChannelWith(null));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: Rpc.Deadline())).Status);

        NodeStore.CommitFaults[dataPath] = static () => throw new IOException("No space left on device", 28);
        try
        {
            await Assert.ThrowsAsync<RpcException>(async () => await node.Reporting.SubmitReportAsync(Submission(40), deadline: Rpc.Deadline()));

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest(), deadline: Rpc.Deadline())).Status);
            var overHttp = await _http.GetAsync(new Uri(node.OperationsAddress + "/healthz"));
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, overHttp.StatusCode);
            Assert.Equal("NOT_SERVING", (await overHttp.Content.ReadAsStringAsync()).Trim());
        }
        finally
        {
            NodeStore.CommitFaults.TryRemove(dataPath, out _);
        }
    }

    [Fact]
    public async Task Metrics_AfterSubmissionsAPushAndAPull_CountersAndHistogramsMove()
    {
        var village = await ScrapeAsync(_village);
        var township = await ScrapeAsync(_township);

        await _village.Reporting.SubmitReportAsync(Submission(40), deadline: Rpc.Deadline());
        await Assert.ThrowsAsync<RpcException>(async () => await _village.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = Village, Period = Quarter, Values = { Reports.Count("no_such_indicator", 1) } }, deadline: Rpc.Deadline()));

        // The village's next scrape shows the report counted, the refusal by reason, a rebuild, the push the
        // parent acknowledged and an empty outbox; the township's, the summary it received.
        var villageAfter = await Eventually.ReturnsAsync(
            Scraping(_village),
            s => s.Value("federation_summaries_pushed_total") > village.Value("federation_summaries_pushed_total") &&
                 s.Value("federation_outbox_depth", ("state", "pending")) == 0,
            "the village to push its summary");
        var townshipAfter = await Eventually.ReturnsAsync(
            Scraping(_township),
            s => s.Value("federation_summaries_received_total", ("via", "push"), ("outcome", "stored")) >
                 township.Value("federation_summaries_received_total", ("via", "push"), ("outcome", "stored")),
            "the township to count the summary");
        await _township.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: Rpc.Deadline());
        var pulled = await Eventually.ReturnsAsync(
            Scraping(_township),
            s => s.Value("federation_pull_duration_seconds_count", ("refresh", "true")) > township.Value("federation_pull_duration_seconds_count", ("refresh", "true")),
            "the township to count its pull");

        Assert.Equal(1, villageAfter.Value("federation_reports_received_total", ("source", "submit")) - village.Value("federation_reports_received_total", ("source", "submit")));
        Assert.Equal(1, villageAfter.Value("federation_reports_refused_total", ("source", "submit"), ("reason", "UNKNOWN_INDICATOR")) -
            village.Value("federation_reports_refused_total", ("source", "submit"), ("reason", "UNKNOWN_INDICATOR")));
        Assert.True(villageAfter.Value("federation_rebuild_duration_seconds_count", ("outcome", "signed")) > village.Value("federation_rebuild_duration_seconds_count", ("outcome", "signed")));
        Assert.Equal(0, villageAfter.Value("federation_outbox_oldest_age_seconds"));
        Assert.True(villageAfter.Value("http_server_request_duration_seconds_count", ("http_route", "/federation.v1.ReportingService/SubmitReport")) >= 2);
        Assert.True(townshipAfter.Value("federation_summaries_received_total", ("via", "push"), ("outcome", "stored")) >= 1);
        Assert.True(pulled.Value("federation_pull_duration_seconds_count", ("refresh", "true")) >= 1);

        // Tags come from closed lists only: no node, unit or period id appears in a series of the node's meter.
        Assert.DoesNotContain(villageAfter.Lines, static l => l.StartsWith("federation_", StringComparison.Ordinal) && (l.Contains(Village, StringComparison.Ordinal) || l.Contains(Quarter, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Metrics_EachNodeInOneProcess_CountsOnlyItsOwnCalls()
    {
        await _village.Reporting.SubmitReportAsync(Submission(41), deadline: Rpc.Deadline());
        await Eventually.ReturnsAsync(
            Scraping(_village), static s => s.Value("federation_reports_received_total", ("source", "submit")) >= 1, "the village to count");

        // A scrape answer is cached briefly: wait for one the township collected after the village counted
        // (it counts the scrapes before it), then check the village's report is not in it.
        var first = await ScrapeAsync(_township);
        var fresh = await Eventually.ReturnsAsync(
            Scraping(_township), s => Scrapes(s) > Scrapes(first), "a scrape collected after the submission");

        Assert.Equal(0, fresh.Value("federation_reports_received_total"));
        Assert.Equal(0, fresh.Value("http_server_request_duration_seconds_count", ("http_route", "/federation.v1.ReportingService/SubmitReport")));
    }

    [Fact]
    public async Task OperationsListener_ServesNothingButMetricsAndHealth()
    {
        // A gRPC call (any HTTP request) on the plain listener is not served, token or not.
        using var request = new HttpRequestMessage(HttpMethod.Post, _village.OperationsAddress + "/federation.v1.QueryService/GetTotals");
        request.Headers.Authorization = new("Bearer", _village.Tokens.Reader);
        var grpc = await _http.SendAsync(request);
        var elsewhere = await _http.GetAsync(new Uri(_village.OperationsAddress + "/"));

        // And the TLS listener does not serve the scrape, even to its admin: /metrics lives on the operations listener only.
        using var tlsHttp = new HttpClient(new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null &&
                    Federation.Node.Security.Pki.ChainsTo(
                        System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), TestPki.Authority, DateTimeOffset.UtcNow),
            },
        });
        using var scrapeOverTls = new HttpRequestMessage(HttpMethod.Get, _village.Address + "/metrics")
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        scrapeOverTls.Headers.Authorization = new("Bearer", _village.Tokens.Admin);
        var overTls = await tlsHttp.SendAsync(scrapeOverTls);

        Assert.Equal(System.Net.HttpStatusCode.NotFound, grpc.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.NotEqual(System.Net.HttpStatusCode.OK, overTls.StatusCode);
        Assert.DoesNotContain("federation_", await overTls.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WritesOneStartupLine_NamingIdTierParentKeyListenersAndData()
    {
        var startup = Assert.Single(_village.Logs.Information, static l => l.Contains("[1] ", StringComparison.Ordinal));

        Assert.Contains($"Node {Village} (village) started", startup, StringComparison.Ordinal);
        Assert.Contains($"parent {Township} at {_township.Address}", startup, StringComparison.Ordinal);
        Assert.Contains("key " + KeyIdOf(_village), startup, StringComparison.Ordinal);
        Assert.Contains(_village.Address + " (nodes and people)", startup, StringComparison.Ordinal);
        Assert.Contains("admin.sock (admin)", startup, StringComparison.Ordinal);
        Assert.Contains(_village.OperationsAddress + " (metrics, health)", startup, StringComparison.Ordinal);
        Assert.Contains("data " + _village.DataPath, startup, StringComparison.Ordinal);
        Assert.Contains("parent none", Assert.Single(_township.Logs.Information, static l => l.Contains("[1] ", StringComparison.Ordinal)), StringComparison.Ordinal);
        // The host's own start lines ("Now listening on", "Application started") give way to it.
        Assert.DoesNotContain(_village.Logs.Information, static l => l.StartsWith("Microsoft.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Submit_WithItsRebuildAndPush_WritesNoInformationLine()
    {
        // The announcement to the parent at start is the last line a quiet node writes.
        await Eventually.ReturnsAsync(
            () => Task.FromResult<string?>(_village.Logs.Information.FirstOrDefault(static l => l.Contains("[500]", StringComparison.Ordinal))),
            static _ => true, "the village to announce itself");
        var village = await ScrapeAsync(_village);
        var before = _village.Logs.Information.Count + _township.Logs.Information.Count;

        await _village.Reporting.SubmitReportAsync(Submission(42), deadline: Rpc.Deadline());
        await _village.Reporting.GetReportAsync(new GetReportRequest { UnitId = Village, Period = Quarter }, deadline: Rpc.Deadline());
        await Eventually.ReturnsAsync(
            Scraping(_village),
            s => s.Value("federation_summaries_pushed_total") > village.Value("federation_summaries_pushed_total"),
            "the push that follows the submission");

        var written = _village.Logs.Information.Concat(_township.Logs.Information).Skip(before).ToList();
        Assert.True(written.Count == 0, "Information lines during a submission:\n" + string.Join('\n', written));
        Assert.Empty(_village.Logs.Errors);
        Assert.Empty(_township.Logs.Errors);
    }

    private static double Scrapes(Scrape scrape) => scrape.Value("http_server_request_duration_seconds_count", ("http_request_method", "GET"));

    private static SubmitReportRequest Submission(long members) =>
        new() { UnitId = Village, Period = Quarter, Values = { Reports.Count("party_members", members) } };

    private static string KeyIdOf(TestNode node) =>
        Federation.Aggregator.Signing.KeyIds.FromPublicKey(TestNode.CreateKey(node.DataPath));

    private async Task<Scrape> ScrapeAsync(TestNode node) =>
        new(await _http.GetStringAsync(new Uri(node.OperationsAddress + "/metrics")));

    /// <summary>A scrape as <see cref="Eventually"/> polls it.</summary>
    private Func<Task<Scrape?>> Scraping(TestNode node) => async () => await ScrapeAsync(node);

    /// <summary>`grpcurl list`: the services the node's reflection names.</summary>
    private static async Task<List<string>> ListServicesAsync(GrpcChannel channel)
    {
        var response = await AskAsync(channel, new ServerReflectionRequest { ListServices = string.Empty });
        return [.. response.ListServicesResponse.Service.Select(static s => s.Name)];
    }

    private static async Task<FileDescriptorProto> FileContainingAsync(GrpcChannel channel, string symbol)
    {
        var response = await AskAsync(channel, new ServerReflectionRequest { FileContainingSymbol = symbol });
        return FileDescriptorProto.Parser.ParseFrom(response.FileDescriptorResponse.FileDescriptorProto[0]);
    }

    private static async Task<ServerReflectionResponse> AskAsync(GrpcChannel channel, ServerReflectionRequest request)
    {
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo(deadline: Rpc.Deadline());
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return call.ResponseStream.Current;
    }

    /// <summary>One scrape in the Prometheus text format: series lines, summed by name and matching labels.</summary>
    private sealed partial class Scrape(string text)
    {
        public IReadOnlyList<string> Lines { get; } = [.. text.Split('\n').Where(static l => l.Length > 0 && l[0] != '#')];

        public double Value(string name, params (string Label, string Value)[] labels) => Lines
            .Select(static l => SeriesLine().Match(l))
            .Where(m => m.Success && m.Groups["name"].Value == name &&
                        labels.All(l => m.Groups["labels"].Value.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            .Sum(static m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

        public override string ToString() => string.Join('\n', Lines.Where(static l => l.StartsWith("federation_", StringComparison.Ordinal)));

        [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)")]
        private static partial Regex SeriesLine();
    }
}
