using System.Diagnostics;
using LiteDB;

namespace Federation.Benchmarks;

/// <summary>What LiteDB allows: its commits in direct mode, measured on this machine now (5.0.21 does not fsync a commit; the node does).</summary>
internal static class LiteDbBaseline
{
    public static double SingleDocumentCommits(string path, TimeSpan duration)
    {
        using var database = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        var collection = database.GetCollection("reports");
        var payload = new byte[200];
        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed < duration)
        {
            collection.Upsert(new BsonDocument { ["_id"] = $"u{count % 5000}", ["bytes"] = payload, ["n"] = count });
            count++;
        }

        return Clock.PerSecond(count, watch);
    }

    public static double BatchedCommits(string path, TimeSpan duration, int batchSize)
    {
        using var database = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        var collection = database.GetCollection("reports");
        var payload = new byte[200];
        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed < duration)
        {
            database.BeginTrans();
            for (var i = 0; i < batchSize; i++, count++)
            {
                collection.Upsert(new BsonDocument { ["_id"] = $"u{count % 5000}", ["bytes"] = payload, ["n"] = count });
            }

            database.Commit();
        }

        return Clock.PerSecond(count, watch);
    }
}
