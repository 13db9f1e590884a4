using System.Diagnostics;
using System.Text.Json;
using Federation.Aggregator.Periods;
using Federation.Benchmarks.Fleet;
using Federation.Protos.V1;

namespace Federation.Benchmarks;

/// <summary>
/// What a freshly started `federation serve` costs in processor time while it warms up: a township hosting
/// 245 villages, started as a separate process (TLS as deployed, its operations listener on, a new data
/// folder), takes its clerks' submissions on a fixed timetable from the process's start (first reports, then
/// corrections) and a reader's totals query every second. The user + system time of the process
/// (/proc/PID/stat) and the methods its JIT compiled (the runtime's own counter, scraped from /metrics) are read
/// at the end of a first window after start and again after a second, steady one. The published node (what the
/// container image runs) and the node as it was (the IL-only build with the runtime's default tiering) start
/// together and get the same requests at the same times, so that both see the same machine.
/// </summary>
internal static class StartupBenchmark
{
    private const string NodeId = "370113001";
    private const int VillageCount = 245;

    public static async Task<IReadOnlyList<Measurement>> RunAsync(string root, BenchSettings settings, BenchPki pki, SampleReports samples, Period quarter, TextWriter log)
    {
        if (!NodeProgram.Published.Exists)
        {
            throw new BenchmarkException($"{NodeProgram.Published.AssemblyPath} is missing: the harness's build publishes the node there (see Federation.Benchmarks.csproj).");
        }

        // Before: the program as it was, IL only and the runtime's default tiering (tiered PGO on). Now: as published.
        var before = NodeProgram.Build.With("before", ("DOTNET_TieredPGO", "1"));
        var programs = new List<NodeProgram> { before, NodeProgram.Published };
        if (settings.StartupEachChangeAlone)
        {
            // Each change alone: the build as `dotnet run` and the demo start it now (its runtimeconfig turns tiered
            // PGO off), and the published ReadyToRun program with tiered PGO turned back on.
            programs.Add(NodeProgram.Build.With("build"));
            programs.Add(NodeProgram.Published.With("published_tiered_pgo", ("DOTNET_TieredPGO", "1")));
        }

        var runs = await Task.WhenAll(programs.Select((p, i) => RunOneAsync(Path.Combine(root, $"{i}-{p.Name}"), p, settings, pki, samples, quarter)));
        foreach (var run in runs)
        {
            log.WriteLine($"  {run.Program.Name}: listening after {run.ListeningAfter.TotalSeconds:0.0} s; first {settings.StartupWindow.TotalSeconds:0} s: {run.First.Cpu.TotalSeconds:0.00} CPU s, " +
                $"{run.First.JitMethods:N0} methods compiled, {run.First.Submissions} submissions; next {settings.SteadyWindow.TotalSeconds:0} s: {run.Steady.Cpu.TotalSeconds:0.00} CPU s, " +
                $"{run.Steady.JitMethods:N0} methods, {run.Steady.Submissions} submissions; peak RSS {run.PeakRssBytes / MemoryUse.MiB:0} MiB");
        }

        var was = runs[0];
        var now = runs[1];
        var window = $"{settings.StartupWindow.TotalSeconds:0}s";
        static string Before(string name) => $"startup.{name}.before";
        List<Measurement> rows =
        [
            new($"startup.cpu_first_{window}", "CPU s", now.First.Cpu.TotalSeconds, Before($"cpu_first_{window}"), was.First.Cpu.TotalSeconds, Goal.Maximum(0.85)),
            new($"startup.jit_methods_first_{window}", "methods", now.First.JitMethods, Before($"jit_methods_first_{window}"), was.First.JitMethods, Goal.Maximum(0.6)),
            new($"startup.cpu_steady_{settings.SteadyWindow.TotalSeconds:0}s", "CPU s", now.Steady.Cpu.TotalSeconds, Before($"cpu_steady_{settings.SteadyWindow.TotalSeconds:0}s"), was.Steady.Cpu.TotalSeconds, Goal.Maximum(1.1)),
            new("startup.listening_after", "s", now.ListeningAfter.TotalSeconds, Before("listening_after"), was.ListeningAfter.TotalSeconds, null),
        ];
        foreach (var alone in runs.Skip(2))
        {
            rows.Add(new($"startup.cpu_first_{window}.{alone.Program.Name}", "CPU s", alone.First.Cpu.TotalSeconds, Before($"cpu_first_{window}"), was.First.Cpu.TotalSeconds, null));
            rows.Add(new($"startup.jit_methods_first_{window}.{alone.Program.Name}", "methods", alone.First.JitMethods, Before($"jit_methods_first_{window}"), was.First.JitMethods, null));
        }

        return rows;
    }

    /// <summary>What a process cost in one window: processor time, methods the JIT compiled, submissions acknowledged.</summary>
    private readonly record struct WindowCost(TimeSpan Cpu, double JitMethods, int Submissions);

    private sealed record StartupRun(NodeProgram Program, TimeSpan ListeningAfter, WindowCost First, WindowCost Steady, long PeakRssBytes);

    private static async Task<StartupRun> RunOneAsync(string dataPath, NodeProgram program, BenchSettings settings, BenchPki pki, SampleReports samples, Period quarter)
    {
        await FleetNode.KeygenAsync(dataPath);
        var operationsPort = FreePort();
        var config = WriteConfig(dataPath, pki, operationsPort);
        using var node = FleetNode.Start(NodeId, dataPath, config, program);
        var started = node.StartTime;
        await node.WaitForAddressAsync(TimeSpan.FromSeconds(120));
        var listeningAfter = DateTime.Now - started;
        var clerkToken = await IngestBenchmark.IssueTokenAsync(dataPath, Role.Clerk, NodeId);
        var readerToken = await IngestBenchmark.IssueTokenAsync(dataPath, Role.Reader, NodeId);
        using var clerkChannel = pki.Channel(node.Address, clerkToken);
        using var readerChannel = pki.Channel(node.Address, readerToken);
        var clerk = new ReportingService.ReportingServiceClient(clerkChannel);
        var reader = new QueryService.QueryServiceClient(readerChannel);

        var firstEnd = started + settings.StartupWindow;
        var steadyEnd = firstEnd + settings.SteadyWindow;
        var load = LoadAsync(clerk, reader, samples, quarter, started, steadyEnd, settings.StartupSubmissionsPerSecond);
        await DelayUntilAsync(firstEnd);
        var firstCpu = node.TotalProcessorTime;
        var firstCount = load.Completed;
        var firstJit = await JitMethodsAsync(operationsPort);
        await DelayUntilAsync(steadyEnd);
        var totalCpu = node.TotalProcessorTime;
        var totalJit = await JitMethodsAsync(operationsPort);
        var peak = PeakRss(node.ProcessId);
        await load.Task;
        if (node.HasExited)
        {
            throw new BenchmarkException($"node {program.Name} exited during the startup measurement.\n{node.LogTail()}");
        }

        return new StartupRun(program, listeningAfter, new WindowCost(firstCpu, firstJit, firstCount), new WindowCost(totalCpu - firstCpu, totalJit - firstJit, load.Completed - firstCount), peak);
    }

    private sealed class Load
    {
        private int _completed;

        public Task Task { get; set; } = Task.CompletedTask;

        public int Completed => Volatile.Read(ref _completed);

        public void Count() => Interlocked.Increment(ref _completed);
    }

    /// <summary>
    /// Submissions on a fixed timetable from the process's start (those due before it listened go at once), the
    /// villages' first reports for the quarter's last month, then corrections; a totals query every second.
    /// </summary>
    private static Load LoadAsync(ReportingService.ReportingServiceClient clerk, QueryService.QueryServiceClient reader, SampleReports samples, Period quarter,
        DateTime started, DateTime end, double perSecond)
    {
        var load = new Load();
        var month = Period.Month(quarter.Year, quarter.Index * 3).ToString();
        load.Task = Task.Run(async () =>
        {
            var calls = new List<Task>();
            var interval = TimeSpan.FromSeconds(1 / perSecond);
            var queryEvery = Math.Max(1, (int)Math.Round(perSecond));
            for (var n = 0; started + (interval * n) < end; n++)
            {
                await DelayUntilAsync(started + (interval * n));
                var unit = n % VillageCount;
                var request = samples.Request(UnitId(unit), month, unit, delta: n / VillageCount);
                calls.Add(SubmitAsync(clerk, request, load));
                if (n % queryEvery == 0)
                {
                    calls.Add(QueryAsync(reader, month));
                }
            }

            await Task.WhenAll(calls);
        });
        return load;
    }

    private static async Task SubmitAsync(ReportingService.ReportingServiceClient clerk, SubmitReportRequest request, Load load)
    {
        await clerk.SubmitReportAsync(request, deadline: IngestBenchmark.Deadline());
        load.Count();
    }

    private static async Task QueryAsync(QueryService.QueryServiceClient reader, string month)
    {
        try
        {
            await reader.GetTotalsAsync(new GetTotalsRequest { Period = month }, deadline: IngestBenchmark.Deadline());
        }
        catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            // Before the first summary of the month is built.
        }
    }

    private static async Task DelayUntilAsync(DateTime when)
    {
        var wait = when - DateTime.Now;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    private static string UnitId(int index) => $"{NodeId}{index + 1:D3}";

    /// <summary>VmHWM from /proc/PID/status: the peak resident set.</summary>
    private static long PeakRss(int processId)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>
    /// A port for the operations listener, which (unlike Node:Listen) takes no port 0: below Linux's ephemeral
    /// range (32768 and up), where no other node's port 0 can land, and free when we looked.
    /// </summary>
    private static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 50)
            {
            }
        }
    }

    /// <summary>The runtime's own count of methods the JIT compiled (the System.Runtime meter's dotnet.jit.compiled_methods), from /metrics.</summary>
    private static async Task<double> JitMethodsAsync(int port)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        return text.Split('\n')
            .Where(static l => l.StartsWith("dotnet_jit_compiled_methods_total", StringComparison.Ordinal))
            .Sum(static l => double.Parse(l.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string WriteConfig(string dataPath, BenchPki pki, int operationsPort) =>
        TownshipConfig.Write(NodeId, dataPath, pki, Enumerable.Range(0, VillageCount).Select(UnitId), new Dictionary<string, object>
        {
            ["Operations"] = new { Listen = $"http://127.0.0.1:{operationsPort}" },
        });
}
