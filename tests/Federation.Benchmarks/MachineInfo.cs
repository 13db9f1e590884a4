using System.Runtime.InteropServices;

namespace Federation.Benchmarks;

/// <summary>What the figures were taken on: cores, processor, runtime, and how busy the machine was.</summary>
internal static class MachineInfo
{
    public static void Print(TextWriter log, bool quick, string root)
    {
        log.WriteLine($"Federation benchmarks ({(quick ? "quick" : "full")} run), {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        log.WriteLine($"  {Environment.ProcessorCount} cores, {Processor()}; {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}; " +
            $"server GC {System.Runtime.GCSettings.IsServerGC}; {LoadAverage()}");
        log.WriteLine($"  data under {root}");
    }

    /// <summary>The 1, 5 and 15 minute load averages: above the core count, other work shared the machine.</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"load average {parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "load average unknown";
        }
    }

    private static string Processor()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "processor unknown";
        }
        catch (IOException)
        {
            return "processor unknown";
        }
    }
}
