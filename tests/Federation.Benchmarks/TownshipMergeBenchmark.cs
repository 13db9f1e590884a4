using System.Diagnostics;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Benchmarks;

/// <summary>
/// A township of 245 villages, each a node of its own: the township verifies, parses and checks each
/// village's signed summary, keeping it parsed, then merges what it holds and signs its own, through the
/// aggregator's public API as the node does it, on one core. Baseline in the same run, on the same core:
/// raw NSec verification of the same 245 messages (domain prefix and summary bytes, their signatures),
/// keys imported beforehand. The two alternate in rounds so that a noisy neighbour hits both.
/// </summary>
internal static class TownshipMergeBenchmark
{
    private const string TownshipId = "370113001";
    private const int Rounds = 3;

    public static IReadOnlyList<Measurement> Run(BenchSettings settings, SummaryWork work, VillageReports reports, TextWriter log)
    {
        const int villageCount = BenchSettings.TownshipVillageCount;
        var keys = Keys(villageCount);
        try
        {
            var township = keys[villageCount];
            var signed = Enumerable.Range(0, villageCount).Select(v =>
            {
                var id = $"{TownshipId}{v + 1:D3}";
                var report = reports.Bytes(v, id);
                return work.Rebuild(id, "village", 0, [SummaryWork.Hosted(id, report, Digests.Sha256(report))], [], keys[v]);
            }).ToList();
            var messages = signed.Select((s, v) => (keys[v].PublicKeyBytes, SignatureDomain.Summary.Prefix(s.SummaryBytes.Span), s.Signature.ToByteArray())).ToList();

            // One merge first: JIT, and the check that the township's figures are the villages' sum.
            var first = Merge(work, signed, keys, township);
            var (members, reported) = NationalTree.Totals(first);
            var expected = Enumerable.Range(0, villageCount).Sum(v => reports.PartyMembersOf(v));
            if (members != expected || reported != villageCount)
            {
                throw new BenchmarkException($"the township merged {members} party members from {reported} villages; the villages hold {expected} from {villageCount}.");
            }

            // Long enough for tiered JIT to settle on optimized code, as in a node that has run a while.
            for (var warm = Stopwatch.StartNew(); warm.Elapsed < settings.RateDuration / 5;)
            {
                Merge(work, signed, keys, township);
            }

            var slice = settings.RateDuration / Rounds;
            double verifySeconds = 0, verifyCount = 0, mergeSeconds = 0, mergeCount = 0;
            for (var round = 0; round < Rounds; round++)
            {
                var rate = Ed25519Rates.VerifyPerSecond(messages, slice);
                verifyCount += rate * slice.TotalSeconds;
                verifySeconds += slice.TotalSeconds;

                var watch = Stopwatch.StartNew();
                var merges = 0;
                while (watch.Elapsed < slice)
                {
                    Merge(work, signed, keys, township);
                    merges++;
                }

                mergeSeconds += watch.Elapsed.TotalSeconds;
                mergeCount += merges * (double)villageCount;
            }

            var verifyRate = verifyCount / verifySeconds;
            var mergeRate = mergeCount / mergeSeconds;
            log.WriteLine($"  raw verify, one core: {verifyRate:N0}/s of {messages.Average(static m => m.Item2.Length):N0}-byte messages; " +
                $"township merge: {mergeRate:N0} village summaries/s, one merge of {villageCount} in {villageCount / mergeRate * 1000:0.0} ms; " +
                $"the township's own summary is {first.SummaryBytes.Length:N0} bytes");
            return [new($"merge.township_{villageCount}_villages", "summaries/s", mergeRate, "ed25519.verify_1_core_same_messages", verifyRate, Goal.Minimum(0.7))];
        }
        finally
        {
            keys.ForEach(static k => k.Dispose());
        }
    }

    /// <summary>
    /// The same township as a real node (in this process, TLS as deployed, its 245 villages enrolled as
    /// children): each village pushes its signed summary over mutual TLS with a certificate naming it, all
    /// at once; timed until the township's own summary covers the round's figures (its coalescing quiet
    /// time, 50 ms by default, included). A first round opens the connections and is not timed. Baseline:
    /// raw verification of messages of the same size on every core, as the node uses them.
    /// </summary>
    public static async Task<IReadOnlyList<Measurement>> RunOnNodeAsync(
        string root, BenchSettings settings, BenchPki pki, SummaryWork work, SampleReports samples, TextWriter log)
    {
        const int villageCount = BenchSettings.TownshipVillageCount;
        var keys = Keys(villageCount);
        var channels = new List<Grpc.Net.Client.GrpcChannel>();
        try
        {
            var ids = Enumerable.Range(0, villageCount).Select(static v => $"{TownshipId}{v + 1:D3}").ToList();
            var nodeSettings = new Dictionary<string, string?>();
            for (var v = 0; v < villageCount; v++)
            {
                nodeSettings[$"Node:Children:{v}:Id"] = ids[v];
                nodeSettings[$"Node:Children:{v}:PublicKey"] = Convert.ToBase64String(keys[v].PublicKeyBytes);
            }

            var dataPath = Path.Combine(root, TownshipId);
            await using var node = await InProcessNode.StartAsync(dataPath, pki, TownshipId, "township", nodeSettings);
            var reader = await IngestBenchmark.IssueTokenAsync(dataPath, Role.Reader, TownshipId);
            var query = new QueryService.QueryServiceClient(pki.Channel(node.Address, reader));
            channels.AddRange(ids.Select(id => pki.NodeChannel(node.Address, id, Path.Combine(root, "villages", id))));
            var pushers = channels.Select(static c => new FederationService.FederationServiceClient(c)).ToList();
            var versions = new ulong[villageCount];
            var times = new List<double>();
            var acknowledged = new List<double>();
            var messageBytes = 0L;
            for (var round = 0; round <= settings.MergeNodeRoundCount; round++)
            {
                // Each village's corrected report and its own signed summary: the villages' work, not timed.
                var signed = new SignedSummary[villageCount];
                long expected = 0;
                for (var v = 0; v < villageCount; v++)
                {
                    var values = samples.ValuesFor(v, round);
                    expected += values.Single(static x => x.IndicatorId == SampleReports.PartyMembers).Count;
                    var report = new UnitReport
                    {
                        UnitId = ids[v], Period = work.PeriodText, Version = (ulong)round + 1,
                        ReceiveTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(work.Now), Values = { values },
                    }.ToByteArray();
                    signed[v] = work.Rebuild(ids[v], "village", versions[v], [SummaryWork.Hosted(ids[v], report, Digests.Sha256(report))], [], keys[v]);
                    versions[v] = SummaryWork.VersionOf(signed[v]);
                    messageBytes += SummaryWork.PrefixByteCount + signed[v].SummaryBytes.Length;
                }

                var watch = Stopwatch.StartNew();
                var outcomes = await Task.WhenAll(signed.Select((s, v) => pushers[v].PushSummaryAsync(new PushSummaryRequest { SignedSummary = s }, deadline: IngestBenchmark.Deadline()).ResponseAsync));
                if (outcomes.FirstOrDefault(static o => o.Outcome != PushOutcome.Stored) is { } odd)
                {
                    throw new BenchmarkException($"the township answered a push with {odd.Outcome}.");
                }

                var allAcknowledged = watch.Elapsed.TotalMilliseconds;
                await WaitForTownshipAsync(query, work.PeriodText, villageCount, expected);
                if (round > 0)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                    acknowledged.Add(allAcknowledged);
                }
            }

            var meanBytes = (int)(messageBytes / (villageCount * (settings.MergeNodeRoundCount + 1L)));
            var verifyRate = Ed25519Rates.ParallelVerifyPerSecond(meanBytes, settings.RateDuration / 3);
            var rate = villageCount / (times.Average() / 1000);
            log.WriteLine($"  real township node, {villageCount} villages pushing at once over mutual TLS: {times.Average():0} ms a round " +
                $"(the last push acknowledged after {acknowledged.Average():0} ms; median round {Percentiles.Of(times, 0.5):0} ms of {times.Count}) = {rate:N0} summaries/s; " +
                $"raw verify on {Environment.ProcessorCount} cores {verifyRate:N0}/s");
            return [new($"merge.township_{villageCount}_villages.pushed_to_node", "summaries/s", rate, "ed25519.verify_all_cores_same_size", verifyRate, Goal.Minimum(0.7))];
        }
        finally
        {
            channels.ForEach(static c => c.Dispose());
            keys.ForEach(static k => k.Dispose());
        }
    }

    private static List<NodeSigningKey> Keys(int villageCount) =>
        [.. Enumerable.Range(0, villageCount + 1).Select(static i => NodeSigningKey.FromPrivateKeyBytes(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(-1 - i))))];

    /// <summary>Polls the township until its summary covers every village with the party members expected.</summary>
    private static async Task WaitForTownshipAsync(QueryService.QueryServiceClient query, string period, int villageCount, long expected)
    {
        var guard = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var totals = await query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: IngestBenchmark.Deadline());
                if (totals.Coverage?.ReportedLeafCount == villageCount &&
                    totals.Totals.FirstOrDefault(static t => t.Indicator.Id == SampleReports.PartyMembers)?.Aggregate?.Total == expected)
                {
                    return;
                }
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode is Grpc.Core.StatusCode.NotFound or Grpc.Core.StatusCode.FailedPrecondition)
            {
                // No summary yet.
            }

            if (guard.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new BenchmarkException($"the township did not show {villageCount} villages with {expected} party members within 2 min.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }
    }

    private static SignedSummary Merge(SummaryWork work, List<SignedSummary> signed, List<NodeSigningKey> keys, NodeSigningKey township)
    {
        var held = new List<HeldSummary>(signed.Count);
        for (var v = 0; v < signed.Count; v++)
        {
            held.Add(work.Receive(signed[v], keys[v].PublicKeyBytes));
        }

        return work.Rebuild(TownshipId, "township", 0, [], held, township);
    }
}
