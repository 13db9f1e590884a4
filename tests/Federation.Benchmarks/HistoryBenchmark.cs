using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Federation.Aggregator.Periods;
using Federation.Benchmarks.Fleet;
using Federation.Protos.V1;
using LiteDB;

namespace Federation.Benchmarks;

/// <summary>
/// How big a township's data grows over years of monthly reporting, with the history's retention and without.
/// Two `federation serve` processes (TLS as deployed), each a township hosting 245 villages, get the same
/// submissions: for each of 60 months in turn, every village's first report, then corrections so that each
/// report has 1 to 3 versions (village i gets i mod 3 corrections). One keeps every replaced version, as nodes
/// did before the rule (History:Prune false); the other runs the rule with its defaults scaled to the run:
/// a simulated month lasts a few seconds of the run, KeepReplacedFor is three such months (the default's 90
/// days), a pass runs about daily. Both sign a summary after every group commit (no coalescing quiet time), as
/// reports trickling in over a month would each be summarised, so own summary versions pile up as in service.
/// At the end: the processes' resident and peak resident memory; then, once each is stopped with SIGTERM (which
/// checkpoints its log into node.db), the data file's bytes and the replaced versions it kept. The growth of the
/// second half compares the data files as they stand (node.db and its log, which holds up to 8 MB not yet
/// checkpointed) halfway and at the end, before the stop.
/// </summary>
internal static class HistoryBenchmark
{
    private const string NodeId = "370113001";

    public static async Task<IReadOnlyList<Measurement>> RunAsync(string root, BenchSettings settings, BenchPki pki, SampleReports samples, Period quarter, TextWriter log)
    {
        var month = settings.HistorySimulatedMonth;
        var keepAll = await StartAsync(Path.Combine(root, "keep-all"), pki, settings, prune: false);
        using var keepAllNode = keepAll.Node;
        var bounded = await StartAsync(Path.Combine(root, "bounded"), pki, settings, prune: true);
        using var boundedNode = bounded.Node;
        log.WriteLine($"  two townships of {settings.HistoryUnitCount} villages: every version kept / History:KeepReplacedFor {month * 3} (3 simulated months of {month.TotalSeconds:0.#} s)");

        // The months run up to the quarter before the run's, oldest first.
        var last = Period.Month(quarter.Year, quarter.Index * 3);
        var months = Enumerable.Range(0, settings.HistoryMonthCount).Select(m => Shift(last, m - settings.HistoryMonthCount + 1)).ToList();
        var watch = Stopwatch.StartNew();
        var submissions = 0;
        (long KeepAll, long Bounded) half = default;
        for (var m = 0; m < months.Count; m++)
        {
            var start = watch.Elapsed;
            var requests = MonthRequests(samples, months[m].ToString(), settings.HistoryUnitCount);
            await Task.WhenAll(
                SubmitAllAsync(keepAll.Clerk, requests, settings.HistoryClientCount),
                SubmitAllAsync(bounded.Clerk, requests, settings.HistoryClientCount));
            submissions += requests.Count;
            CheckAlive(keepAllNode);
            CheckAlive(boundedNode);
            if (m == (months.Count / 2) - 1)
            {
                half = (DataBytes(keepAllNode.DataPath), DataBytes(boundedNode.DataPath));
            }

            if ((m + 1) % 12 == 0)
            {
                log.WriteLine($"  {m + 1} months in {watch.Elapsed.TotalSeconds:0} s: data files {DataBytes(keepAllNode.DataPath) / MemoryUse.MiB:0.0} MiB every version kept, {DataBytes(boundedNode.DataPath) / MemoryUse.MiB:0.0} MiB bounded");
            }

            // A month takes at least its simulated length, so that the bounded node's age rule sees months go by.
            var rest = month - (watch.Elapsed - start);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }
        }

        // One more pass after the last month, as the next day's would.
        await Task.Delay(settings.HistoryPruneInterval * 2);
        var wallMonth = watch.Elapsed / months.Count;
        var memory = new[] { Memory(keepAllNode), Memory(boundedNode) };
        var running = (KeepAll: DataBytes(keepAllNode.DataPath), Bounded: DataBytes(boundedNode.DataPath));

        // Stopped as a supervisor stops them: each checkpoints its log into node.db, whose size is then the data's.
        await Task.WhenAll(keepAllNode.StopGracefullyAsync(TimeSpan.FromSeconds(60)), boundedNode.StopGracefullyAsync(TimeSpan.FromSeconds(60)));
        var ends = memory.Select((m, i) => m with { DataBytes = DataBytes(i == 0 ? keepAllNode.DataPath : boundedNode.DataPath) }).ToArray();
        var kept = new[] { CountVersions(keepAllNode.DataPath), CountVersions(boundedNode.DataPath) };
        log.WriteLine($"  {months.Count} months ({months[0]} to {months[^1]}), {submissions:N0} submissions to each, {wallMonth.TotalSeconds:0.0} s a month " +
            $"(the bounded node kept about {month * 3 / wallMonth:0.0} months of replaced versions)");
        for (var i = 0; i < 2; i++)
        {
            log.WriteLine($"  {(i == 0 ? "every version kept" : "bounded")}: {ends[i].DataBytes / MemoryUse.MiB:0.0} MiB of data files ({(i == 0 ? half.KeepAll : half.Bounded) / MemoryUse.MiB:0.0} MiB halfway), " +
                $"RSS {ends[i].RssBytes / MemoryUse.MiB:0} MiB, peak {ends[i].PeakRssBytes / MemoryUse.MiB:0} MiB; current: {kept[i].Reports:N0} reports, {kept[i].Summaries:N0} summaries; " +
                $"replaced: {kept[i].ReplacedReports:N0} reports, {kept[i].ReplacedSummaries:N0} own summaries");
        }

        var name = $"history.township_{settings.HistoryUnitCount}_units_{months.Count}_months";
        return
        [
            new($"{name}.data_files", "MiB", ends[1].DataBytes / MemoryUse.MiB, $"{name}.data_files.every_version_kept", ends[0].DataBytes / MemoryUse.MiB, Goal.Maximum(0.5)),
            new($"{name}.data_files_second_half", "MiB", (running.Bounded - half.Bounded) / MemoryUse.MiB, $"{name}.data_files_second_half.every_version_kept", (running.KeepAll - half.KeepAll) / MemoryUse.MiB, null),
            new($"{name}.replaced_versions_kept", "documents", kept[1].ReplacedTotal, $"{name}.replaced_versions.every_version_kept", kept[0].ReplacedTotal, Goal.Maximum(0.2)),
            new($"{name}.rss", "MiB", ends[1].RssBytes / MemoryUse.MiB, $"{name}.rss.every_version_kept", ends[0].RssBytes / MemoryUse.MiB, null),
            new($"{name}.peak_rss", "MiB", ends[1].PeakRssBytes / MemoryUse.MiB, $"{name}.peak_rss.every_version_kept", ends[0].PeakRssBytes / MemoryUse.MiB, null),
        ];
    }

    private sealed record Township(FleetNode Node, ReportingService.ReportingServiceClient Clerk);

    private readonly record struct End(long DataBytes, long RssBytes, long PeakRssBytes);

    private readonly record struct Versions(long Reports, long Summaries, long ReplacedReports, long ReplacedSummaries)
    {
        public long ReplacedTotal => ReplacedReports + ReplacedSummaries;
    }

    private static async Task<Township> StartAsync(string dataPath, BenchPki pki, BenchSettings settings, bool prune)
    {
        await FleetNode.KeygenAsync(dataPath);
        var month = settings.HistorySimulatedMonth;
        var config = TownshipConfig.Write(NodeId, dataPath, pki, Enumerable.Range(0, settings.HistoryUnitCount).Select(UnitId), new Dictionary<string, object>
        {
            ["Summary"] = new { CoalesceDelay = "00:00:00", MaxCoalesceDelay = "00:00:00" },
            ["History"] = new { Prune = prune, KeepReplacedFor = (month * 3).ToString("c", CultureInfo.InvariantCulture), PruneInterval = settings.HistoryPruneInterval.ToString("c", CultureInfo.InvariantCulture) },
            ["Access"] = new { RequestsPerSecond = 100000, Burst = 100000 },
        });
        var node = FleetNode.Start(NodeId, dataPath, config);
        try
        {
            await node.WaitForAddressAsync(TimeSpan.FromSeconds(120));
            var token = await IngestBenchmark.IssueTokenAsync(dataPath, Role.Clerk, NodeId);
            return new Township(node, new ReportingService.ReportingServiceClient(pki.Channel(node.Address, token)));
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    /// <summary>A month's submissions: every village's first report, then village i's i mod 3 corrections.</summary>
    private static List<SubmitReportRequest> MonthRequests(SampleReports samples, string month, int unitCount)
    {
        var requests = Enumerable.Range(0, unitCount).Select(u => samples.Request(UnitId(u), month, u)).ToList();
        for (var round = 1; round <= 2; round++)
        {
            requests.AddRange(Enumerable.Range(0, unitCount).Where(u => u % 3 >= round).Select(u => samples.Request(UnitId(u), month, u, delta: round)));
        }

        return requests;
    }

    /// <summary>Sends the requests in order from a few clerks at once, as a township's villages report over a month.</summary>
    private static async Task SubmitAllAsync(ReportingService.ReportingServiceClient clerk, List<SubmitReportRequest> requests, int clientCount)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, clientCount).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < requests.Count; i = Interlocked.Increment(ref next))
            {
                await clerk.SubmitReportAsync(requests[i], deadline: IngestBenchmark.Deadline());
            }
        })));
    }

    private static void CheckAlive(FleetNode node)
    {
        if (node.HasExited)
        {
            throw new BenchmarkException($"the township in {node.DataPath} exited during the run.\n{node.LogTail()}");
        }
    }

    private static Period Shift(Period month, int by)
    {
        var index = (month.Year * 12) + month.Index - 1 + by;
        return Period.Month(index / 12, (index % 12) + 1);
    }

    private static string UnitId(int index) => $"{NodeId}{index + 1:D3}";

    /// <summary>node.db and its log, as they stand.</summary>
    private static long DataBytes(string dataPath) =>
        new[] { "node.db", "node-log.db" }.Select(f => new FileInfo(Path.Combine(dataPath, f))).Where(static f => f.Exists).Sum(static f => f.Length);

    private static End Memory(FleetNode node)
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{node.ProcessId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) * 1024;
            }
        }

        return new End(0, rss, peak);
    }

    private static long Kilobytes(string statusLine) => long.Parse(statusLine.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    /// <summary>Counts the documents of a stopped node's file (its log replayed by the open).</summary>
    private static Versions CountVersions(string dataPath)
    {
        using var database = new LiteDatabase(new ConnectionString
        {
            Filename = Path.Combine(dataPath, "node.db"),
            Connection = ConnectionType.Direct,
            Collation = new Collation(CultureInfo.InvariantCulture.LCID, CompareOptions.Ordinal),
        });
        return new Versions(
            database.GetCollection("reports").Count(),
            database.GetCollection("summaries").Count(),
            database.GetCollection("report_history").Count(),
            database.GetCollection("summary_history").Count());
    }
}
