using System.Collections.Concurrent;
using System.Text.Json;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// A node killed with SIGKILL in the middle of a burst keeps every report it acknowledged, its key, its
/// child summaries and its outbox, and counts nothing twice. Rounds: FEDERATION_KILL_ROUNDS (default 3).
/// </summary>
[Trait("Category", "Kill")]
public sealed class KillTests
{
    private const int UnitCount = 12;
    private const string ChildId = "370113001099";
    private const int WriterCount = 16;
    private static readonly string[] s_periods = ["2026-01", "2026-02", "2026-03", "2026-04"];

    private sealed record Ack(string UnitId, string Period, ulong Version, string DigestHex, long PartyMembers);

    [Fact]
    public async Task KilledMidBurst_Restarted_KeepsEverythingAcknowledgedAndCountsNothingTwice()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("FEDERATION_KILL_ROUNDS"), out var r) ? r : 3;
        using var folder = new TempFolder();
        using var child = new FakeChild(ChildId, 3);
        var dataPath = folder.Sub("node");
        await using var nowhere = new TcpForwarder();
        var configPath = WriteConfig(folder, dataPath, child, nowhere.Address);
        var acks = new ConcurrentBag<Ack>();
        await using var node = new NodeProcess(configPath, dataPath);
        await node.StartAsync();
        var publicKey = (await new FederationService.FederationServiceClient(node.Reader).GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey;
        var childSummary = child.Summary(s_periods[0], 1, 17);
        var pushed = await new FederationService.FederationServiceClient(node.AsNode(ChildId))
            .PushSummaryAsync(new PushSummaryRequest { SignedSummary = childSummary }, deadline: Rpc.Deadline());
        Assert.Equal(PushOutcome.Stored, pushed.Outcome);

        for (var round = 0; round < rounds; round++)
        {
            var rng = new Random(round * 7919);
            // Every third round dies right after its first acknowledgements: the first commit after
            // opening is the one LiteDB writes from a background task unless the store forces it out.
            var killAfter = round % 3 == 0 ? rng.Next(1, 4) : rng.Next(40, 400);
            await BurstThenKillAsync(node, acks, killAfter, round);
            await node.StartAsync();

            var identity = await new FederationService.FederationServiceClient(node.Reader).GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline());
            Assert.Equal(publicKey, identity.PublicKey);
            await AssertEveryAckKeptAsync(node, acks, round);
            await AssertChildSummaryKeptAsync(node, childSummary);
            await AssertTotalsCountEachReportOnceAsync(node, acks, round);
        }
    }

    private static async Task BurstThenKillAsync(NodeProcess node, ConcurrentBag<Ack> acks, int killAfter, int round)
    {
        var client = new ReportingService.ReportingServiceClient(node.Clerk);
        var ackedThisRound = 0;
        var killed = new TaskCompletionSource();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, WriterCount).Select(w => Task.Run(async () =>
        {
            var rng = new Random((round * 1000) + w);
            while (!stop.IsCancellationRequested)
            {
                var unit = $"370113001{rng.Next(1, UnitCount + 1):D3}";
                var period = s_periods[rng.Next(s_periods.Length)];
                var members = rng.Next(10, 90);
                var request = new SubmitReportRequest { UnitId = unit, Period = period, Values = { Reports.Count("party_members", members) } };
                try
                {
                    var ack = await client.SubmitReportAsync(request, deadline: Rpc.Deadline(), cancellationToken: stop.Token);
                    acks.Add(new Ack(unit, period, ack.Version, Convert.ToHexStringLower(ack.Digest.Span), members));
                    if (Interlocked.Increment(ref ackedThisRound) == killAfter)
                    {
                        killed.TrySetResult();
                    }
                }
                catch (RpcException) when (stop.IsCancellationRequested || killed.Task.IsCompleted)
                {
                    // In flight when the node died: never acknowledged, so nothing is owed.
                }
            }
        })).ToList();

        await killed.Task.WaitAsync(Eventually.HangGuard);
        await node.KillAsync();
        await stop.CancelAsync();
        await Task.WhenAll(writers);
    }

    private static async Task AssertEveryAckKeptAsync(NodeProcess node, ConcurrentBag<Ack> acks, int round)
    {
        var client = new ReportingService.ReportingServiceClient(node.Clerk);
        foreach (var group in acks.GroupBy(static a => (a.UnitId, a.Period)))
        {
            var stored = await client.GetReportAsync(new GetReportRequest { UnitId = group.Key.UnitId, Period = group.Key.Period }, deadline: Rpc.Deadline());
            var newest = group.MaxBy(static a => a.Version)!;
            Assert.True(stored.Report.Version >= newest.Version,
                $"round {round}: {group.Key} acknowledged as version {newest.Version} but the node has {stored.Report.Version}");
            if (stored.Report.Version == newest.Version)
            {
                Assert.Equal(newest.DigestHex, Convert.ToHexStringLower(stored.Digest.Span));
            }

            // Versions count submissions: every acknowledged version is distinct and none was reused.
            Assert.Equal(group.Count(), group.Select(static a => a.Version).Distinct().Count());
        }
    }

    private static async Task AssertChildSummaryKeptAsync(NodeProcess node, SignedSummary childSummary)
    {
        var again = await new FederationService.FederationServiceClient(node.AsNode(ChildId))
            .PushSummaryAsync(new PushSummaryRequest { SignedSummary = childSummary }, deadline: Rpc.Deadline());
        Assert.Equal(PushOutcome.AlreadyHeld, again.Outcome);
    }

    private static async Task AssertTotalsCountEachReportOnceAsync(NodeProcess node, ConcurrentBag<Ack> acks, int round)
    {
        var admin = new AdminService.AdminServiceClient(node.Admin);
        var reporting = new ReportingService.ReportingServiceClient(node.Clerk);
        var query = new QueryService.QueryServiceClient(node.Reader);
        var periods = acks.Select(static a => a.Period).Append(s_periods[0]).Distinct().ToList();

        // The parent is unreachable, so every period's newest summary must still wait in the outbox.
        var status = await Eventually.ReturnsAsync(
            async () => await admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            s => s.PendingRebuildCount == 0 && periods.All(s.OutboxPeriods.Contains),
            $"round {round}: rebuilds to finish with every period in the outbox");
        Assert.Equal(0u, status.EquivocationCount);

        foreach (var period in periods)
        {
            long expected = period == s_periods[0] ? 17 : 0;
            uint reported = period == s_periods[0] ? 1u : 0u;
            for (var u = 1; u <= UnitCount; u++)
            {
                try
                {
                    var stored = await reporting.GetReportAsync(new GetReportRequest { UnitId = $"370113001{u:D3}", Period = period }, deadline: Rpc.Deadline());
                    expected += stored.Report.Values.Single().Count;
                    reported++;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    // This unit has not reported this period.
                }
            }

            var totals = await query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Rpc.Deadline());
            Assert.Equal(reported, totals.Coverage.ReportedLeafCount);
            Assert.Equal(expected, totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total);
        }
    }

    private static string WriteConfig(TempFolder folder, string dataPath, FakeChild child, string unreachableParent)
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
                HostedUnits = Enumerable.Range(1, UnitCount).Select(static u => new { Id = $"370113001{u:D3}" }),
                Children = new[] { new { child.Id, PublicKey = Convert.ToBase64String(child.PublicKey) } },
            },
            Tls = new { CertificatePath = TestPki.NodeFiles("370113001").Certificate, KeyPath = TestPki.NodeFiles("370113001").Key, CaPath = TestPki.CaPath },
            // Bursts of hundreds of acknowledged writes a second: this test is about durability, not the per-caller limit.
            Access = new { RequestsPerSecond = 100_000, Burst = 100_000 },
            Outbox = new { RedeliveryBaseDelay = "00:00:01", RedeliveryMaxDelay = "00:00:05", MaxRetryAttempts = 0 },
        };
        var path = folder.Sub("node.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }
}
