using System.Diagnostics;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Benchmarks;
using Federation.Benchmarks.Fleet;

// Every figure beside a baseline taken in the same run; goals are reported (met: false), never enforced.
// Exit code 0 when every measurement ran, 1 on an error of the harness or of the system measured, 2 on bad arguments.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (FormatException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

// In-process nodes take the working directory as their content root, which the host watches for appsettings
// changes: run from the program's folder, as the container image does (WORKDIR /app), wherever we were started.
if (options.JsonPath is not null)
{
    options = options with { JsonPath = Path.GetFullPath(options.JsonPath) };
}

Directory.SetCurrentDirectory(AppContext.BaseDirectory);
var settings = options.Quick ? BenchSettings.Quick : BenchSettings.Full;
var log = Console.Out;
var total = Stopwatch.StartNew();
var root = Path.Combine(Path.GetTempPath(), "federation-bench", Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(root);
MachineInfo.Print(log, options.Quick, root);

// The core takes the instant from its caller: one instant for the whole run, in the last full quarter.
var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
var quarter = Period.Quarter(now.Year, ((now.Month - 1) / 3) + 1).Previous();
var catalogue = CatalogueIndex.Default;
var measurements = new List<Measurement>();
try
{
    var samples = SampleReports.Load(catalogue);
    var work = new SummaryWork(catalogue, quarter, now);
    var villages = new VillageReports(samples, quarter, now);
    using var pki = new BenchPki(Path.Combine(root, "pki"));
    foreach (var group in BenchOptions.Groups.Where(options.Runs))
    {
        if (group == "correction" && options.Runs("tree"))
        {
            continue; // measured with the tree, whose full rebuild is its baseline
        }

        var watch = Stopwatch.StartNew();
        log.WriteLine($"== {group} ==");
        measurements.AddRange(group switch
        {
            "ingest" => await IngestBenchmark.RunAsync(Path.Combine(root, "ingest"), settings, pki, samples, quarter, log),
            "merge" => [
                .. TownshipMergeBenchmark.Run(settings, work, villages, log),
                .. await TownshipMergeBenchmark.RunOnNodeAsync(Path.Combine(root, "merge"), settings, pki, work, samples, log),
            ],
            "tree" or "correction" => TreeBenchmark.Run(settings, work, villages, samples, options.Runs("tree"), options.Runs("correction"), log),
            "fleet" => await FleetBenchmark.RunAsync(Path.Combine(root, "fleet"), settings, pki, samples, catalogue, quarter, log),
            "startup" => await StartupBenchmark.RunAsync(Path.Combine(root, "startup"), settings, pki, samples, quarter, log),
            "history" => await HistoryBenchmark.RunAsync(Path.Combine(root, "history"), settings, pki, samples, quarter, log),
            _ => throw new BenchmarkException($"no measurement group '{group}'."),
        });
        log.WriteLine($"   ({watch.Elapsed.TotalSeconds:0.0} s)");
    }
}
catch (Exception ex) when (ex is BenchmarkException || ex.InnerException is BenchmarkException)
{
    Console.Error.WriteLine($"benchmark error: {(ex as BenchmarkException ?? ex.InnerException)!.Message}");
    return 1;
}
catch (Exception ex)
{
    // Anything else is an error too (a refused call, a node that died): the whole exception, to find it.
    Console.Error.WriteLine($"benchmark error: {ex}");
    return 1;
}
finally
{
    TryDelete(root);
}

log.WriteLine();
ResultReport.PrintTable(measurements, log);
log.WriteLine();
var missed = measurements.Where(static m => m.Met == false).Select(static m => m.Name).ToList();
log.WriteLine($"{measurements.Count} measurements, {measurements.Count(static m => m.Met == true)} goals met, {missed.Count} not met{(missed.Count > 0 ? ": " + string.Join(", ", missed) : "")}; " +
    $"{(options.Quick ? "quick" : "full")} run took {total.Elapsed.TotalSeconds:0} s; {MachineInfo.LoadAverage()}");
if (options.JsonPath is { } jsonPath)
{
    ResultReport.WriteJson(measurements, jsonPath);
    log.WriteLine($"wrote {jsonPath}");
}

if (Environment.GetEnvironmentVariable("FEDERATION_BENCH_MARKDOWN") == "1")
{
    log.WriteLine();
    ResultReport.PrintMarkdown(measurements, log);
}

return 0;

static void TryDelete(string folder)
{
    try
    {
        Directory.Delete(folder, recursive: true);
    }
    catch (IOException)
    {
        // A node's last write may still be closing; the OS temp cleaner takes the rest.
    }
    catch (UnauthorizedAccessException)
    {
    }
}
