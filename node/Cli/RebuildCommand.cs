using System.CommandLine;
using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Signing;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using LiteDB;
using Microsoft.Extensions.Logging.Abstractions;

namespace Federation.Node.Cli;

/// <summary>
/// `federation rebuild --data DIR`: with the node stopped, rebuilds its database from what it still holds.
/// Every report and child summary whose bytes still match their digest (and, for child summaries, whose
/// signature still verifies with the child's current or retired key) is copied into a fresh database with
/// the node's own earlier summaries as history; then every period's summary is recomputed and signed again
/// as a new version. The old files are kept beside it, renamed.
/// </summary>
internal static class RebuildCommand
{
    /// <summary>Collections copied as they are; the outbox and dirty marks are made again by the rebuild.</summary>
    private static readonly string[] s_copiedAsIs =
    [
        NodeStore.Collections.Units, NodeStore.Collections.Children, NodeStore.Collections.Equivocations,
        NodeStore.Collections.Stale, NodeStore.Collections.VersionFloors,

        // What the history's retention let go: a proof asking for it is still told so.
        HistoryCollections.Pruned,

        // Signed review decisions are kept for good, and the states they left decide the locks.
        NodeStore.Collections.Decisions, NodeStore.Collections.ReviewStates,

        // Entered star-rating scores and the signed statements, kept for good; a statement's year is rebuilt below.
        RatingCollections.Scores, RatingCollections.ScoreHistory, RatingCollections.Statements,
        // The rectification ledger: signed steps kept for good, and the tallies earlier summaries cited.
        NodeStore.Collections.LedgerItems, NodeStore.Collections.LedgerSteps, NodeStore.Collections.LedgerTallies,

        // People's accounts and tokens: nothing else could recreate them.
        Security.AccessCollections.Accounts, Security.AccessCollections.Tokens, Security.AccessCollections.Passwords,
    ];

    public static Command Build()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder", Required = true };
        var config = new Option<string?>("--config") { Description = "The node's configuration file (id, tier, catalogue, parent); otherwise read from its stored summaries" };
        var command = new Command("rebuild",
            "Rebuild a stopped node's database from its stored reports and child summaries, signing every period's summary again; keeps history and the old files.") { data, config };
        command.SetAction(parse => KeyCommands.Run(() =>
        {
            var result = Rebuild(parse.GetValue(data)!, parse.GetValue(config));
            Console.WriteLine(result);
        }));
        return command;
    }

    /// <summary>Rebuilds in place; returns a one-line account of what was kept and dropped.</summary>
    public static string Rebuild(string dataPath, string? configFile)
    {
        var databasePath = Path.Combine(dataPath, NodeStore.DatabaseFileName);
        if (!File.Exists(databasePath) || new FileInfo(databasePath).Length == 0)
        {
            throw new InvalidOperationException($"{databasePath} is missing or empty: there is nothing to rebuild from. Restore the data folder from a backup.");
        }

        // The lock file keeps a running node (or a second rebuild) off the folder throughout.
        using var folderLock = new FileStream(Path.Combine(dataPath, NodeStore.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddTHHmmssZ", CultureInfo.InvariantCulture);
        var source = Path.Combine(dataPath, $"rebuild-{stamp}-source");
        var target = Path.Combine(dataPath, $"rebuild-{stamp}-target");
        Directory.CreateDirectory(source);
        foreach (var name in new[] { NodeStore.DatabaseFileName, NodeStore.LogFileName })
        {
            if (File.Exists(Path.Combine(dataPath, name)))
            {
                File.Copy(Path.Combine(dataPath, name), Path.Combine(source, name));
            }
        }

        using var key = NodeKeyFile.LoadOrCreate(dataPath);
        string account;
        using (var old = OpenReadable(source))
        using (var fresh = new NodeStore(target))
        {
            var options = Options(configFile, old, dataPath);
            var catalogue = string.IsNullOrWhiteSpace(options.CataloguePath) ? CatalogueIndex.Default : CatalogueIndex.ParseJson(File.ReadAllText(options.CataloguePath));
            using var identity = new NodeIdentity(options, NodeSigningKey.FromPrivateKeyBytes(key.ExportPrivateKeyBytes()));
            var rebuilder = new SummaryRebuilder(identity, catalogue, Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System, NullLogger<SummaryRebuilder>.Instance);
            account = Copy(old, fresh, rebuilder);
        }

        // Swap: the old files are kept, renamed, so nothing is lost by rebuilding.
        foreach (var name in new[] { NodeStore.DatabaseFileName, NodeStore.LogFileName, StoreManifest.FileName })
        {
            var path = Path.Combine(dataPath, name);
            if (File.Exists(path))
            {
                File.Move(path, Path.Combine(dataPath, $"{name}.before-rebuild-{stamp}"));
            }
        }

        File.Move(Path.Combine(target, NodeStore.DatabaseFileName), databasePath);
        File.Move(Path.Combine(target, StoreManifest.FileName), Path.Combine(dataPath, StoreManifest.FileName));
        Directory.Delete(target, recursive: true);
        Directory.Delete(source, recursive: true);
        return account + $"; the previous files are kept as *.before-rebuild-{stamp}";
    }

    /// <summary>Opens the copied files; a log LiteDB cannot replay is left out, keeping what the data file holds.</summary>
    private static NodeStore OpenReadable(string source)
    {
        try
        {
            var store = new NodeStore(source);
            ReadAll(store);
            return store;
        }
        catch (Exception ex) when (ex is LiteException or InvalidOperationException or InvalidCastException or IOException or FormatException)
        {
            File.Delete(Path.Combine(source, NodeStore.LogFileName));
            File.Delete(Path.Combine(source, StoreManifest.FileName));
            return new NodeStore(source);
        }
    }

    private static void ReadAll(NodeStore store)
    {
        foreach (var name in store.Database.GetCollectionNames().ToList())
        {
            _ = store.Database.GetCollection(name).FindAll().Count();
        }
    }

    private static string Copy(NodeStore old, NodeStore fresh, SummaryRebuilder rebuilder)
    {
        var dropped = 0;
        fresh.Database.BeginTrans();
        foreach (var name in s_copiedAsIs)
        {
            var documents = old.Database.GetCollection(name).FindAll().ToList();
            if (documents.Count > 0)
            {
                fresh.Database.GetCollection(name).Upsert(documents);
            }
        }

        foreach (var report in old.Reports.FindAll().Concat(old.ReportHistory.FindAll()))
        {
            if (!Digests.Sha256(report.Bytes).AsSpan().SequenceEqual(report.Digest))
            {
                dropped++;
                continue;
            }

            (report.Id.Contains('|', StringComparison.Ordinal) ? fresh.Reports : fresh.ReportHistory).Upsert(report);
        }

        var children = fresh.Children.FindAll().ToDictionary(static c => c.Id, StringComparer.Ordinal);
        foreach (var summary in old.ChildSummaries.FindAll().Concat(old.ChildSummaryHistory.FindAll()))
        {
            if (!children.TryGetValue(summary.ChildId, out var child) || !VerifiesWithAKeyOf(child, summary))
            {
                dropped++;
                continue;
            }

            (summary.Id.Contains('|', StringComparison.Ordinal) ? fresh.ChildSummaries : fresh.ChildSummaryHistory).Upsert(summary);
        }

        // This node's earlier summaries stay as history, so that proofs of what its parent holds can still be built.
        var own = old.Summaries.FindAll().ToList();
        fresh.SummaryHistory.Upsert(old.SummaryHistory.FindAll().Where(static s => Digests.Sha256(s.SummaryBytes).AsSpan().SequenceEqual(s.Digest)));
        fresh.Summaries.Upsert(own.Where(static s => Digests.Sha256(s.SummaryBytes).AsSpan().SequenceEqual(s.Digest)));
        fresh.Commit();

        var periods = fresh.Reports.FindAll().Select(static r => r.Period)
            .Concat(fresh.ChildSummaries.FindAll().Select(static s => s.Period))
            .Concat(fresh.LedgerItems.FindAll().Select(static i => i.Period))
            .Concat(own.Select(static s => s.Id))
            .Concat(fresh.RatingStatements().FindAll().Select(static s => s.Year))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var period in periods)
        {
            fresh.Database.BeginTrans();
            rebuilder.Rebuild(fresh, period);
            fresh.Commit();
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"rebuilt {periods.Count} periods from {fresh.Reports.Count()} reports and {fresh.ChildSummaries.Count()} child summaries; dropped {dropped} that no longer verify");
    }

    private static bool VerifiesWithAKeyOf(ChildDocument child, ChildSummaryDocument summary)
    {
        var key = summary.KeyId == child.KeyId ? child.PublicKey : child.RetiredKeys.FirstOrDefault(k => k.KeyId == summary.KeyId)?.PublicKey;
        return key is not null && SignedMessages.VerifySummary(summary.ToSigned(), key) is { IsValid: true } verification &&
               verification.Digest.AsSpan().SequenceEqual(summary.Digest);
    }

    /// <summary>The node's options from its configuration file, or its id and tier from its newest stored summary.</summary>
    private static NodeOptions Options(string? configFile, NodeStore old, string dataPath)
    {
        if (!string.IsNullOrWhiteSpace(configFile))
        {
            var configuration = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(configFile), optional: false).Build();
            var configured = configuration.GetSection(NodeOptions.SectionName).Get<NodeOptions>() ?? new NodeOptions();
            configured.DataPath = dataPath;
            return configured;
        }

        var newest = old.Summaries.FindAll().Concat(old.SummaryHistory.FindAll()).MaxBy(static s => s.Version)
            ?? throw new InvalidOperationException("The folder holds no summary of this node to learn its id and tier from; pass --config.");
        var summary = Summary.Parser.ParseFrom(newest.SummaryBytes);
        return new NodeOptions
        {
            Id = summary.NodeId,
            Tier = summary.Tier,
            DataPath = dataPath,

            // Without the configuration, assume a parent so that the rebuilt summaries are queued for it; the address
            // itself comes from the configuration at the next start (a node at the top of the tree passes --config).
            Parent = new ParentOptions { Address = "http://127.0.0.1" },
        };
    }
}
