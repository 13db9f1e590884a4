using System.Diagnostics;
using System.Globalization;
using Federation.Benchmarks;

// Submission throughput of a real node against raw LiteDB commit rates on the same disk, same run.
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5;
var duration = TimeSpan.FromSeconds(seconds);
var root = Path.Combine(Path.GetTempPath(), "federation-bench", Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(root);
try
{
    Console.WriteLine($"Each measurement runs {duration.TotalSeconds:0.#} s; data under {root}");
    var single = LiteDbBaseline.SingleDocumentCommits(Path.Combine(root, "single.db"), duration);
    var batched = LiteDbBaseline.BatchedCommits(Path.Combine(root, "batched.db"), duration, batchSize: 100);
    var sequential = await NodeLoad.SubmitAsync(Path.Combine(root, "node-1"), clients: 1, duration, corrections: false);
    var concurrent = await NodeLoad.SubmitAsync(Path.Combine(root, "node-32"), clients: 32, duration, corrections: false);
    var corrections = await NodeLoad.SubmitAsync(Path.Combine(root, "node-32c"), clients: 32, duration, corrections: true);

    Console.WriteLine();
    Console.WriteLine($"{"measurement",-52} {"per second",12} {"ratio",8}");
    Row("LiteDB, one document per commit (baseline)", single, single);
    Row("LiteDB, 100 documents per commit", batched, single);
    Row("node first reports over gRPC, 1 client", sequential, single);
    Row("node first reports over gRPC, 32 concurrent clients", concurrent, single);
    Row("node corrections over gRPC, 32 concurrent clients", corrections, single);
    Console.WriteLine();
    Console.WriteLine($"group commit: 32 clients reach {concurrent / sequential:0.0}x one client, {concurrent / single:0.0}x single-document commits");
}
finally
{
    Directory.Delete(root, recursive: true);
}

static void Row(string name, double perSecond, double baseline) =>
    Console.WriteLine($"{name,-52} {perSecond,12:N0} {perSecond / baseline,7:0.00}x");

namespace Federation.Benchmarks
{
    internal static class Clock
    {
        public static double PerSecond(long count, Stopwatch watch) => count / watch.Elapsed.TotalSeconds;
    }
}
