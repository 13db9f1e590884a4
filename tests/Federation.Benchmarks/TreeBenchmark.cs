namespace Federation.Benchmarks;

/// <summary>
/// The national tree in one process, two shapes, against Ed25519 bounds measured in the same run on every
/// core; and one village's correction carried to the nation against the full rebuild.
/// </summary>
internal static class TreeBenchmark
{
    /// <summary>A tree the size of one county, built again and again first, so that tiered JIT settles before the timings.</summary>
    private static readonly TreeShape s_warmUp = new([1, 1, 1, 13, 170]);

    /// <summary>Sizes to calibrate at before a build tells the mean (the build's own mean is used after it): a village's summary, a small township's.</summary>
    private const int VillageSummaryBytes = 1_250;
    private const int TownshipSummaryBytes = 2_100;

    public static IReadOnlyList<Measurement> Run(BenchSettings settings, SummaryWork work, VillageReports villageReports, SampleReports samples, bool treeRows, bool correctionRows, TextWriter log)
    {
        using var keys = new KeyPool();
        var warmUp = new NationalTree(s_warmUp, work, villageReports, keys);
        for (var watch = System.Diagnostics.Stopwatch.StartNew(); watch.Elapsed < settings.RateDuration / 5;)
        {
            var warmPath = warmUp.NewPath();
            warmUp.Build(villagesAsNodes: true, warmPath);
            warmUp.CorrectPath(warmPath, samples, 1);
            warmUp.Build(villagesAsNodes: false, null);
        }

        var tree = new NationalTree(settings.Tree, work, villageReports, keys);
        var expected = tree.ExpectedPartyMembers();
        var calibration = settings.RateDuration / 3;
        var measurements = new List<Measurement>();
        log.WriteLine($"  tree: {settings.Tree} under one nation; {KeyPool.Size} signing keys shared round-robin; {Environment.ProcessorCount} cores");

        // Each bound's rates are measured just before and just after the build and averaged, so that a
        // neighbour's load drifting during the run weighs on both sides alike.
        var path = tree.NewPath();
        var verifyBefore = Ed25519Rates.ParallelVerifyPerSecond(VillageSummaryBytes, calibration / 2);
        var asNodes = tree.Build(villagesAsNodes: true, path);
        Check(asNodes, tree, expected, "villages as nodes");
        var verifyRate = (verifyBefore + Ed25519Rates.ParallelVerifyPerSecond(asNodes.MeanVerifiedBytes, calibration / 2)) / 2;
        var verifyBound = asNodes.VerifyCount / verifyRate;

        // For reading beside it: the same bound with the villages' own signatures, which the goal's bound leaves out.
        var villageSignRate = Ed25519Rates.ParallelSignPerSecond(asNodes.MeanSignedBytes, calibration / 2);
        var verifySignBound = verifyBound + (asNodes.SignCount / villageSignRate);
        log.WriteLine($"  (a) every village a node: {asNodes.Elapsed.TotalSeconds:0.00} s; {asNodes.VerifyCount:N0} verifications (mean {asNodes.MeanVerifiedBytes:N0} bytes) " +
            $"at {verifyRate:N0}/s on {Environment.ProcessorCount} cores = {verifyBound:0.00} s; {asNodes.SignCount:N0} signatures (mean {asNodes.MeanSignedBytes:N0} bytes) " +
            $"at {villageSignRate:N0}/s, with them {verifySignBound:0.00} s; {Describe(asNodes.Memory)}");
        if (treeRows)
        {
            measurements.AddRange(
            [
                new("tree.villages_as_nodes", "s", asNodes.Elapsed.TotalSeconds, "ed25519.verify_bound_all_cores", verifyBound, Goal.Maximum(1.5)),
                new("tree.villages_as_nodes.vs_verify_sign", "s", asNodes.Elapsed.TotalSeconds, "ed25519.verify_sign_bound_all_cores", verifySignBound, null),
                new("tree.villages_as_nodes.peak_working_set", "MiB", asNodes.Memory.PeakWorkingSetBytes / MemoryUse.MiB, "working_set_before", asNodes.Memory.StartWorkingSetBytes / MemoryUse.MiB, null),
                new("tree.villages_as_nodes.allocated", "MiB", asNodes.Memory.AllocatedBytes / MemoryUse.MiB, "summary_bytes_signed", asNodes.SignedBytes / MemoryUse.MiB, null),
            ]);
        }

        if (correctionRows)
        {
            var times = new List<double>();
            var root = asNodes.Root;
            for (var delta = 1; delta <= settings.CorrectionRepeatCount; delta++)
            {
                (var elapsed, root) = tree.CorrectPath(path, samples, delta);
                times.Add(elapsed.TotalMilliseconds);
            }

            var (members, reported) = NationalTree.Totals(root);
            if (members != expected + settings.CorrectionRepeatCount || reported != settings.Tree.VillageCount)
            {
                throw new BenchmarkException($"after the corrections the nation holds {members} party members from {reported} villages; expected {expected + settings.CorrectionRepeatCount} from {settings.Tree.VillageCount}.");
            }

            var median = Percentiles.Of(times, 0.5);
            log.WriteLine($"  one village corrected to the nation ({settings.CorrectionRepeatCount} times, {path.Held.Sum(static h => h?.Count ?? 0)} held summaries merged on the path): " +
                $"median {median:0.000} ms, p99 {Percentiles.Of(times, 0.99):0.000} ms; the full rebuild {asNodes.Elapsed.TotalMilliseconds:N0} ms ({asNodes.Elapsed.TotalMilliseconds / median:N0}x)");
            measurements.Add(new("correction.village_to_nation", "ms", median, "tree.villages_as_nodes_full_rebuild", asNodes.Elapsed.TotalMilliseconds, Goal.Maximum(0.01)));
        }

        if (treeRows)
        {
            var verifyBeforeHosted = Ed25519Rates.ParallelVerifyPerSecond(TownshipSummaryBytes, calibration / 2);
            var signBefore = Ed25519Rates.ParallelSignPerSecond(TownshipSummaryBytes, calibration / 2);
            var hosted = tree.Build(villagesAsNodes: false, null);
            Check(hosted, tree, expected, "townships hosting villages");
            var hostedVerifyRate = (verifyBeforeHosted + Ed25519Rates.ParallelVerifyPerSecond(hosted.MeanVerifiedBytes, calibration / 2)) / 2;
            var signRate = (signBefore + Ed25519Rates.ParallelSignPerSecond(hosted.MeanSignedBytes, calibration / 2)) / 2;
            var bound = (hosted.VerifyCount / hostedVerifyRate) + (hosted.SignCount / signRate);
            log.WriteLine($"  (b) townships hosting their villages: {hosted.Elapsed.TotalSeconds:0.00} s; {hosted.VerifyCount:N0} verifications (mean {hosted.MeanVerifiedBytes:N0} bytes) at {hostedVerifyRate:N0}/s " +
                $"+ {hosted.SignCount:N0} signatures (mean {hosted.MeanSignedBytes:N0} bytes) at {signRate:N0}/s = {bound:0.00} s; {Describe(hosted.Memory)}");
            measurements.AddRange(
            [
                new("tree.townships_hosting", "s", hosted.Elapsed.TotalSeconds, "ed25519.verify_sign_bound_all_cores", bound, Goal.Maximum(1.5)),
                new("tree.townships_hosting.peak_working_set", "MiB", hosted.Memory.PeakWorkingSetBytes / MemoryUse.MiB, "working_set_before", hosted.Memory.StartWorkingSetBytes / MemoryUse.MiB, null),
                new("tree.townships_hosting.allocated", "MiB", hosted.Memory.AllocatedBytes / MemoryUse.MiB, "summary_bytes_signed", hosted.SignedBytes / MemoryUse.MiB, null),
            ]);
        }

        return measurements;
    }

    private static void Check(TreeRun run, NationalTree tree, long expected, string shape)
    {
        var (members, reported) = NationalTree.Totals(run.Root);
        if (members != expected || reported != tree.Shape.VillageCount)
        {
            throw new BenchmarkException($"{shape}: the nation holds {members} party members from {reported} villages; the villages hold {expected} from {tree.Shape.VillageCount}.");
        }
    }

    private static string Describe(MemoryUse memory) =>
        $"working set {memory.StartWorkingSetBytes / MemoryUse.MiB:N0} → peak {memory.PeakWorkingSetBytes / MemoryUse.MiB:N0} MiB, peak heap {memory.PeakHeapBytes / MemoryUse.MiB:N0} MiB, " +
        $"allocated {memory.AllocatedBytes / MemoryUse.MiB:N0} MiB, GCs {memory.Gen0Count}/{memory.Gen1Count}/{memory.Gen2Count} (gen 0/1/2), paused {memory.PauseTime.TotalMilliseconds:N0} ms";
}

/// <summary>Percentiles by the nearest-rank method.</summary>
internal static class Percentiles
{
    public static double Of(IReadOnlyCollection<double> values, double fraction)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}
