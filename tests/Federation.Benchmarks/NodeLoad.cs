using System.Diagnostics;
using Federation.Node.Cli;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Federation.Protos.V1;
using Grpc.Net.Client;

namespace Federation.Benchmarks;

/// <summary>
/// Acknowledged submissions per second to a real node (Kestrel, gRPC, LiteDB) on loopback: either first
/// reports (every request a new unit and month) or corrections (the same units and quarter again and again,
/// each one also keeping the replaced version for proofs).
/// </summary>
internal static class NodeLoad
{
    private const int UnitCount = 500;

    public static async Task<double> SubmitAsync(string dataPath, int clients, TimeSpan duration, bool corrections)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Node:Id"] = "370113001",
            ["Node:Tier"] = "township",
            ["Node:DataPath"] = dataPath,
            ["Logging:LogLevel:Default"] = "Warning",

            // Loopback plaintext (allowed explicitly) measures the node's own work, not TLS; no per-caller limit.
            ["Node:Listen"] = "http://127.0.0.1:0",
            ["Tls:AllowPlaintext"] = "true",
            ["Access:RequestsPerSecond"] = "10000000",
            ["Access:Burst"] = "10000000",
        };
        for (var u = 0; u < UnitCount; u++)
        {
            settings[$"Node:HostedUnits:{u}:Id"] = $"370113001{u:D3}";
        }

        await using var app = NodeHost.Build(null, settings);
        await app.StartAsync();
        using var channel = await ClerkChannelAsync(NodeHost.ListeningAddress(app), dataPath);
        var client = new ReportingService.ReportingServiceClient(channel);

        // Warm up connections and JIT before measuring.
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => SubmitOneAsync(client, c, corrections)));
        long count = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var n = clients + c;
            while (watch.Elapsed < duration)
            {
                await SubmitOneAsync(client, n, corrections);
                n += clients;
                Interlocked.Increment(ref count);
            }
        })));
        var perSecond = count / watch.Elapsed.TotalSeconds;
        await app.StopAsync();
        return perSecond;
    }

    /// <summary>A channel calling as a clerk of every hosted unit, with a token issued on the node's admin socket.</summary>
    private static async Task<GrpcChannel> ClerkChannelAsync(string address, string dataPath)
    {
        using var socket = CliConnection.Open("unix:" + Path.Combine(dataPath, AdminSocket.FileName), null, null);
        var issued = await new AccessService.AccessServiceClient(socket).IssueTokenAsync(new IssueTokenRequest
        {
            Account = "benchmark-clerk",
            Role = Role.Clerk,
            Scope = "370113001",
            ValidFor = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)),
        }, deadline: DateTime.UtcNow.AddSeconds(30));
        return CliConnection.Open(address, issued.Token, null);
    }

    private static async Task SubmitOneAsync(ReportingService.ReportingServiceClient client, int n, bool corrections)
    {
        // First reports walk the months back from 2026-04 (40 months of 500 units: more than a run submits).
        var month = 2026 * 12 + 3 - (n / UnitCount % 40);
        var request = new SubmitReportRequest
        {
            UnitId = $"370113001{n % UnitCount:D3}",
            Period = corrections ? "2026-Q1" : $"{month / 12:D4}-{month % 12 + 1:D2}",
            Values =
            {
                new IndicatorValue { IndicatorId = "party_members", Count = 20 + (n % 50) },
                new IndicatorValue { IndicatorId = "reserve_cadres", Count = n % 4 },
                new IndicatorValue { IndicatorId = "secretary_college_degree", Flag = n % 5 != 0 },
            },
        };
        await client.SubmitReportAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));
    }
}
