using System.Diagnostics;
using LiteDB;

namespace Federation.Benchmarks;

/// <summary>
/// What LiteDB allows on this disk, in this process: upserts of report-sized documents (unit, period,
/// version, the report's bytes, digest, ticks) committed in batches, each commit made durable as the
/// node makes its own: LiteDB 5.0.21 writes the log on the committing thread without an fsync, so the
/// log is fsynced after every commit (see README, "Storage and recovery").
/// </summary>
internal static class LiteDbBaseline
{
    public static double DurableBatchedUpsertsPerSecond(string folder, TimeSpan duration, int batchSize, int unitCount, int reportByteCount)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "baseline.db");
        var logPath = Path.Combine(folder, "baseline-log.db");
        using var database = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        var collection = database.GetCollection("reports");
        collection.EnsureIndex("period");
        var payload = new byte[reportByteCount];
        var digest = new byte[32];
        Random.Shared.NextBytes(payload);
        using var log = new LogFlusher(logPath);
        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed < duration)
        {
            database.BeginTrans();
            for (var i = 0; i < batchSize; i++, count++)
            {
                // First reports, as the node's first-report load: a new unit and month each time.
                var unit = $"370113001{count % unitCount:D3}";
                var period = $"m{count / unitCount}";
                collection.Upsert(new BsonDocument
                {
                    ["_id"] = unit + "|" + period,
                    ["unit"] = unit,
                    ["period"] = period,
                    ["version"] = count,
                    ["bytes"] = payload,
                    ["digest"] = digest,
                    ["ticks"] = DateTime.UtcNow.Ticks,
                });
            }

            database.Commit();
            log.Flush();
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Fsyncs LiteDB's log through a descriptor of its own, as the node does after each commit.</summary>
    private sealed class LogFlusher(string logPath) : IDisposable
    {
        private Microsoft.Win32.SafeHandles.SafeFileHandle? _handle;

        public void Flush()
        {
            if (_handle is null)
            {
                if (!File.Exists(logPath))
                {
                    return;
                }

                _handle = File.OpenHandle(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }

            RandomAccess.FlushToDisk(_handle);
        }

        public void Dispose() => _handle?.Dispose();
    }
}
