using Federation.Aggregator.Periods;
using Federation.Benchmarks.Echo;
using Federation.Node.Cli;
using Federation.Node.Security;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Federation.Benchmarks;

/// <summary>
/// Acknowledged submissions per second from many concurrent clerks to a real node (Kestrel on 127.0.0.1,
/// TLS as deployed, gRPC, LiteDB with group commit; a report is acknowledged once its commit is fsynced),
/// hosting 500 units. Two loads: first reports (each request a new unit and month) and corrections (the
/// same units and quarter again, each keeping the replaced version for proofs). Baselines in the same run:
/// durable LiteDB upserts in batches of 100 on the same disk, and a bare gRPC echo at the same concurrency.
/// </summary>
internal static class IngestBenchmark
{
    private const string NodeId = "370113001";
    private const int BatchSize = 100;

    public static async Task<IReadOnlyList<Measurement>> RunAsync(string root, BenchSettings settings, BenchPki pki, SampleReports reports, Period quarter, TextWriter log)
    {
        var clients = settings.IngestClientCount;
        var units = settings.IngestUnitCount;
        var sample = reports.Request(UnitId(0), quarter.ToString(), 0);
        var reportBytes = new UnitReport { UnitId = sample.UnitId, Period = sample.Period, Version = 1, ReceiveTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), Values = { sample.Values } }.CalculateSize();

        // The baselines are taken half before and half after the node's loads and averaged, so that a
        // neighbour's disk or processor load drifting during the run weighs on both sides alike.
        var half = settings.RateDuration / 2;
        var liteDbBefore = LiteDbBaseline.DurableBatchedUpsertsPerSecond(Path.Combine(root, "litedb-before"), half, BatchSize, units, reportBytes);
        var echoBefore = await EchoRateAsync(root, pki, clients, half, sample.CalculateSize());

        var first = await NodeRateAsync(Path.Combine(root, "node-first"), pki, reports, units, clients, settings.RateDuration, corrections: false, quarter);
        log.WriteLine($"  node, first reports, {clients} clients: {first:N0} reports/s");
        var corrected = await NodeRateAsync(Path.Combine(root, "node-corrections"), pki, reports, units, clients, settings.RateDuration, corrections: true, quarter);
        log.WriteLine($"  node, corrections, {clients} clients: {corrected:N0} reports/s");

        var liteDbAfter = LiteDbBaseline.DurableBatchedUpsertsPerSecond(Path.Combine(root, "litedb-after"), half, BatchSize, units, reportBytes);
        var echoAfter = await EchoRateAsync(root, pki, clients, half, sample.CalculateSize());
        var liteDb = (liteDbBefore + liteDbAfter) / 2;
        var echo = (echoBefore + echoAfter) / 2;
        log.WriteLine($"  LiteDB alone: {liteDbBefore:N0} before, {liteDbAfter:N0} after upserts/s in fsynced batches of {BatchSize} ({reportBytes}-byte reports)");
        log.WriteLine($"  gRPC echo over TLS, {clients} clients: {echoBefore:N0} before, {echoAfter:N0} after calls/s ({sample.CalculateSize()}-byte requests)");

        var liteDbName = $"litedb.upserts_batch{BatchSize}_fsynced";
        var echoName = $"grpc.echo_{clients}_clients";
        return
        [
            new($"ingest.first_reports.{clients}_clients", "reports/s", first, liteDbName, liteDb, Goal.Minimum(0.5)),
            new($"ingest.corrections.{clients}_clients", "reports/s", corrected, liteDbName, liteDb, Goal.Minimum(0.5)),
            new($"ingest.first_reports.vs_echo", "reports/s", first, echoName, echo, null),
            new($"ingest.corrections.vs_echo", "reports/s", corrected, echoName, echo, null),
        ];
    }

    private static string UnitId(int index) => $"{NodeId}{index:D3}";

    private static async Task<double> EchoRateAsync(string root, BenchPki pki, int clients, TimeSpan duration, int payloadBytes)
    {
        var (certificate, key) = pki.IssueNode("echo", Path.Combine(root, "echo-" + Guid.NewGuid().ToString("N")[..6]));
        await using var server = await EchoServer.StartAsync(certificate, key);
        var channels = Enumerable.Range(0, clients).Select(_ => pki.PlainChannel(server.Address)).ToList();
        try
        {
            var callers = channels.Select(static c => new EchoService.EchoServiceClient(c)).ToList();
            var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[payloadBytes]) };
            Func<int, long, Task> echo = (client, _) => callers[client].EchoAsync(request, deadline: Deadline()).ResponseAsync;
            var load = new ClosedLoop(clients);
            await load.WarmAsync(echo, duration / 5, duration * 2);
            return await load.CallsPerSecondAsync(duration, echo);
        }
        finally
        {
            channels.ForEach(static c => c.Dispose());
        }
    }

    private static async Task<double> NodeRateAsync(
        string dataPath, BenchPki pki, SampleReports reports, int units, int clients, TimeSpan duration, bool corrections, Period quarter)
    {
        var settings = new Dictionary<string, string?>
        {
            // One token calls for all the clerks here; the per-caller limit is for people, not for this load.
            ["Access:RequestsPerSecond"] = "10000000",
            ["Access:Burst"] = "10000000",
        };
        for (var u = 0; u < units; u++)
        {
            settings[$"Node:HostedUnits:{u}:Id"] = UnitId(u);
        }

        await using var node = await InProcessNode.StartAsync(dataPath, pki, NodeId, "township", settings);
        var token = await IssueTokenAsync(dataPath, Role.Clerk, NodeId);
        var channels = Enumerable.Range(0, clients).Select(_ => pki.Channel(node.Address, token)).ToList();
        try
        {
            var callers = channels.Select(static c => new ReportingService.ReportingServiceClient(c)).ToList();
            Func<int, long, Task> submit = (client, n) => callers[client].SubmitReportAsync(Request(reports, units, n, corrections, quarter), deadline: Deadline()).ResponseAsync;

            // For corrections, every unit's first report of the quarter; then the load itself until every connection
            // is open and tiered compilation has settled (the JIT compiles next to nothing more), as in a node that
            // has run a while: until then the JIT's background compiling takes a share of the two cores.
            var load = new ClosedLoop(clients);
            if (corrections)
            {
                await load.RunUntilAsync(units, submit);
            }

            await load.WarmAsync(submit, duration / 5, duration * 2);
            return await load.CallsPerSecondAsync(duration, submit);
        }
        finally
        {
            channels.ForEach(static c => c.Dispose());
        }
    }

    /// <summary>
    /// Request <paramref name="n"/>: a first report walks the months back from the quarter's last (unit n mod 500,
    /// month n ÷ 500); a correction raises unit n mod 500's party members in the quarter by a new amount
    /// (the first 500 are the quarter's first reports).
    /// </summary>
    private static SubmitReportRequest Request(SampleReports reports, int units, long n, bool corrections, Period quarter)
    {
        var unit = (int)(n % units);
        if (corrections)
        {
            return reports.Request(UnitId(unit), quarter.ToString(), unit, delta: 1 + (int)(n / units % 1000));
        }

        var month = quarter.Year * 12 + (quarter.Index * 3) - 1 - (int)(n / units);
        if (month < 2000 * 12)
        {
            throw new BenchmarkException("the first-report load ran out of months since 2000: shorten the run or host more units.");
        }

        return reports.Request(UnitId(unit), Period.Month(month / 12, month % 12 + 1).ToString(), unit);
    }

    /// <summary>Issues a token on the node's admin socket, as `federation token issue --node unix:…` does.</summary>
    public static async Task<string> IssueTokenAsync(string dataPath, Role role, string scope)
    {
        using var socket = CliConnection.Open("unix:" + Path.Combine(dataPath, AdminSocket.FileName), null, null);
        var issued = await new AccessService.AccessServiceClient(socket).IssueTokenAsync(new IssueTokenRequest
        {
            Account = $"benchmark-{role.ToString().ToLowerInvariant()}-{scope}",
            Role = role,
            Scope = scope,
            ValidFor = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(6)),
        }, deadline: Deadline());
        return issued.Token;
    }

    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(60);
}
