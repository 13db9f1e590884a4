using System.CommandLine;
using Federation.Node.Hosting;
using Federation.Node.Storage;

namespace Federation.Node.Cli;

/// <summary>`federation key rotate` and `federation key replace-lost`: replacing a node's key, with the node stopped.</summary>
internal static class KeyCommands
{
    public static Command Build()
    {
        var key = new Command("key", "Replace a node's signing key (the node must be stopped).");
        key.Subcommands.Add(Rotate());
        key.Subcommands.Add(ReplaceLost());
        return key;
    }

    private static Command Rotate()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder", Required = true };
        var command = new Command("rotate",
            "Create a new key; at its next start the node signs the change with the old key and delivers it to its parent, which keeps the old key for what it signed.") { data };
        command.SetAction(parse => Run(() =>
        {
            var dataPath = parse.GetValue(data)!;
            using var store = new NodeStore(dataPath);
            var (oldKeyId, newKey) = NodeKeyFile.Rotate(dataPath);
            using (newKey)
            {
                var periods = ResignPending(store);
                Console.WriteLine($"rotated key {oldKeyId} -> {newKey.KeyId}");
                Console.WriteLine($"new public key {Convert.ToBase64String(newKey.PublicKeyBytes)}");
                Console.WriteLine($"{periods} pending summaries will be signed again with the new key; start the node to deliver the rotation to its parent.");
                Console.WriteLine("Verifiers keep both keys for this node in keys.json: {\"<node id>\": [\"<new>\", \"<old>\"]}.");
            }
        }));
        return command;
    }

    private static Command ReplaceLost()
    {
        var data = new Option<string>("--data") { Description = "The node's data folder", Required = true };
        var command = new Command("replace-lost",
            "Create a new key for a data folder whose key is lost for good; the parent must enrol the new public key again.") { data };
        command.SetAction(parse => Run(() =>
        {
            var dataPath = parse.GetValue(data)!;
            if (File.Exists(Path.Combine(dataPath, NodeKeyFile.FileName)))
            {
                throw new InvalidOperationException($"{Path.Combine(dataPath, NodeKeyFile.FileName)} exists; use `federation key rotate --data {dataPath}` to replace it.");
            }

            using var store = new NodeStore(dataPath);
            using var key = NodeKeyFile.Create(dataPath);
            var periods = ResignPending(store);
            Console.WriteLine($"new key {key.KeyId}, public key {Convert.ToBase64String(key.PublicKeyBytes)}");
            Console.WriteLine($"{periods} pending summaries will be signed with it. Enrol it at the parent: federation enrol --node <parent> --child-id <id> --public-key <key>");
        }));
        return command;
    }

    /// <summary>Summaries still waiting in the outbox were signed with the old key; they are rebuilt and signed anew at the next start.</summary>
    private static int ResignPending(NodeStore store)
    {
        store.Database.BeginTrans();
        var periods = store.Outbox.FindAll().Select(static o => o.Id).ToList();
        foreach (var period in periods)
        {
            store.Dirty.Upsert(new DirtyDocument { Id = period, MarkedTicks = DateTimeOffset.UtcNow.UtcTicks });
        }

        store.Commit();
        return periods.Count;
    }

    /// <summary>Runs an offline command; a refusal is one line on standard error and exit code 1.</summary>
    internal static int Run(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception ex) when (ex is DataFolderInUseException or DataFolderDamagedException or KeyFileMissingException or InvalidOperationException)
        {
            Console.Error.WriteLine(ex is DataFolderInUseException ? ex.Message + " Stop the node first." : ex.Message);
            return 1;
        }
    }
}
