using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Federation.Tests.Integration;

/// <summary>
/// A node killed with SIGKILL while it imports a sheet of 245 units keeps all of the sheet or none of it:
/// the import is one transaction. Rounds: FEDERATION_KILL_ROUNDS (default 3), each killed after a different delay.
/// </summary>
[Trait("Category", "Kill")]
public sealed class ImportKillTests(ITestOutputHelper output)
{
    private const int UnitCount = 245;
    private const string Period = "2026-Q1";

    [Fact]
    public async Task KilledDuringAnImport_Restarted_HoldsAllOfTheSheetOrNone()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("FEDERATION_KILL_ROUNDS"), out var r) ? r : 3;
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await using var nowhere = new TcpForwarder();
        await using var node = new NodeProcess(WriteConfig(folder, dataPath, nowhere.Address), dataPath);
        await node.StartAsync();

        // A first sheet, imported to the end: the baseline every later round either replaces whole or leaves whole.
        var first = await new ImportService.ImportServiceClient(node.Clerk).ImportSheetAsync(Request(0), deadline: Rpc.Deadline());
        Assert.True(first.Stored, string.Join("\n", first.Problems));

        // The same sheet again (a new version of every unit, nothing changed): how long a warm import takes,
        // so that the kills below land before, during and after the commit.
        var watch = Stopwatch.StartNew();
        var again = await new ImportService.ImportServiceClient(node.Clerk).ImportSheetAsync(Request(0), deadline: Rpc.Deadline());
        var importTime = watch.Elapsed;
        Assert.True(again.Stored, string.Join("\n", again.Problems));
        var held = 0;
        var outcomes = new List<string>();
        for (var round = 1; round <= rounds; round++)
        {
            var rng = new Random(round * 7919);
            // Kill somewhere between sending the sheet and well after an import would have finished.
            var delay = TimeSpan.FromMilliseconds(rng.Next(0, Math.Max(20, (int)(importTime.TotalMilliseconds * 1.5))));
            var client = new ImportService.ImportServiceClient(node.Clerk);
            var call = client.ImportSheetAsync(Request(round), deadline: Rpc.Deadline()).ResponseAsync;
            await Task.Delay(delay);
            await node.KillAsync();
            var acknowledged = false;
            try
            {
                acknowledged = (await call).Stored;
            }
            catch (RpcException)
            {
                // In flight when the node died: never acknowledged, so either outcome is allowed, but only whole.
            }

            await node.StartAsync();
            var stored = await StoredRoundsAsync(node);
            var distinct = stored.Distinct().ToList();
            Assert.True(distinct.Count == 1, $"round {round}: the units hold figures of rounds {string.Join(", ", distinct)}: a torn import");
            var now = distinct[0];
            Assert.True(now == round || now == held, $"round {round}: the units hold round {now}, expected {round} or {held}");
            Assert.True(!acknowledged || now == round, $"round {round}: the import was acknowledged but the node holds round {now}");
            held = now;
            outcomes.Add($"{(now == round ? "all" : "none")}{(acknowledged ? " (acknowledged)" : string.Empty)} after {delay.TotalMilliseconds} ms");
            var totals = await Eventually.ReturnsAsync(
                async () => await new QueryService.QueryServiceClient(node.Reader).GetTotalsAsync(new GetTotalsRequest { Period = Period }, deadline: Rpc.Deadline()),
                t => t.Totals.Single(static x => x.Indicator.Id == "party_members").Aggregate.Total == ExpectedTotal(held),
                $"round {round}: the node's totals to count round {held} once");
            Assert.Equal((uint)UnitCount, totals.Coverage.ReportedLeafCount);
        }

        output.WriteLine($"rounds: {string.Join(", ", outcomes)}");
        Assert.Equal(rounds, outcomes.Count);
    }

    /// <summary>The round each unit's stored figures came from (party_members = round × 1000 + unit number).</summary>
    private static async Task<List<int>> StoredRoundsAsync(NodeProcess node)
    {
        var reporting = new ReportingService.ReportingServiceClient(node.Clerk);
        var rounds = new List<int>(UnitCount);
        for (var u = 1; u <= UnitCount; u++)
        {
            var report = await reporting.GetReportAsync(new GetReportRequest { UnitId = UnitId(u), Period = Period }, deadline: Rpc.Deadline());
            rounds.Add((int)(report.Report.Values.Single(static v => v.IndicatorId == "party_members").Count / 1000));
        }

        return rounds;
    }

    private static long ExpectedTotal(int round) => Enumerable.Range(1, UnitCount).Sum(u => (round * 1000L) + u);

    private static ImportSheetRequest Request(int round)
    {
        var csv = new StringBuilder("单位编码,党员数,发展党员数\r\n");
        for (var u = 1; u <= UnitCount; u++)
        {
            csv.Append(UnitId(u)).Append(',').Append((round * 1000) + u).Append(',').Append(u % 7).Append("\r\n");
        }

        return new ImportSheetRequest { FileName = $"round-{round}.csv", FileBytes = ByteString.CopyFromUtf8(csv.ToString()), Period = Period };
    }

    private static string UnitId(int u) => $"370113001{u:D3}";

    private static string WriteConfig(TempFolder folder, string dataPath, string unreachableParent)
    {
        var config = new
        {
            Node = new
            {
                Id = "370113001",
                Tier = "township",
                DataPath = dataPath,
                Listen = "https://127.0.0.1:0",
                Parent = new { Id = "370113", Address = unreachableParent },
                HostedUnits = Enumerable.Range(1, UnitCount).Select(static u => new { Id = UnitId(u) }),
            },
            Tls = new { CertificatePath = TestPki.NodeFiles("370113001").Certificate, KeyPath = TestPki.NodeFiles("370113001").Key, CaPath = TestPki.CaPath },
            Access = new { RequestsPerSecond = 100_000, Burst = 100_000 },
            Outbox = new { RedeliveryBaseDelay = "00:00:01", RedeliveryMaxDelay = "00:00:05", MaxRetryAttempts = 0 },
        };
        var path = folder.Sub("node.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }
}
