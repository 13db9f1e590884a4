using System.Diagnostics;
using LiteDB;

namespace Federation.Benchmarks;

/// <summary>What the disk allows: LiteDB 5.0.20 commits in direct mode, measured on this machine now.</summary>
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
