using System.Diagnostics;

namespace Federation.Demo;

/// <summary>
/// Starts the demo tree as separate node processes, one data folder each, and stops them all.
/// Keys are generated first so that every config can pin its parent's and children's keys; nodes then
/// start top-down in waves, because a child needs its parent's address, which port 0 only reveals once
/// the parent listens.
/// </summary>
internal sealed class NodeFleet(DemoHierarchy hierarchy, string dataRoot) : IDisposable
{
    private static readonly TimeSpan s_listenTimeout = TimeSpan.FromSeconds(60);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NodeProcess> _running = new(StringComparer.Ordinal);
    private bool _stopping;

    public DemoHierarchy Hierarchy { get; } = hierarchy;

    public string DataRoot { get; } = dataRoot;

    /// <summary>The base64 public key of every node, known once <see cref="StartAsync"/> has run keygen.</summary>
    public IReadOnlyDictionary<string, string> PublicKeys { get; private set; } = new Dictionary<string, string>();

    /// <summary>Raised from a thread-pool thread when a started node dies on its own.</summary>
    public event Action<NodeProcess, int>? NodeCrashed;

    public NodeProcess this[string id]
    {
        get
        {
            lock (_gate)
            {
                return _running[id];
            }
        }
    }

    public string DataPathOf(string id) => Path.Combine(DataRoot, id);

    public async Task StartAsync(Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        PublicKeys = await GenerateKeysAsync(cancellationToken);
        progress($"keys: {PublicKeys.Count} signing keys ready ({clock.Elapsed.TotalSeconds:0.0} s)");

        foreach (var wave in Hierarchy.Waves)
        {
            var started = new List<NodeProcess>();
            foreach (var node in wave)
            {
                var parentAddress = node.ParentId is { } parentId ? this[parentId].Address : string.Empty;
                var config = NodeConfigFile.Write(Hierarchy, node, DataPathOf(node.Id), PublicKeys, parentAddress);
                started.Add(Track(NodeProcess.Start(node, DataPathOf(node.Id), config, Environment.ProcessId)));
            }

            await Task.WhenAll(started.Select(p => p.WaitForAddressAsync(s_listenTimeout, cancellationToken)));
            progress($"{wave[0].Tier}: {wave.Count} node{(wave.Count == 1 ? "" : "s")} listening ({clock.Elapsed.TotalSeconds:0.0} s)");
        }

        lock (_gate)
        {
            foreach (var process in _running.Values)
            {
                process.Crashed += (p, code) => NodeCrashed?.Invoke(p, code);
            }
        }
    }

    /// <summary>Kills every node process (whole process trees). Idempotent and safe from signal handlers.</summary>
    public void StopAll()
    {
        List<NodeProcess> processes;
        lock (_gate)
        {
            _stopping = true;
            processes = [.. _running.Values];
        }

        Parallel.ForEach(processes, static p => p.Stop());
    }

    public void Dispose()
    {
        StopAll();
        lock (_gate)
        {
            foreach (var process in _running.Values)
            {
                process.Dispose();
            }

            _running.Clear();
        }
    }

    private async Task<IReadOnlyDictionary<string, string>> GenerateKeysAsync(CancellationToken cancellationToken)
    {
        // Each keygen is a short-lived process; a few at a time keeps a small machine responsive.
        using var slots = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount * 2));
        var keys = await Task.WhenAll(Hierarchy.Nodes.Select(async node =>
        {
            await slots.WaitAsync(cancellationToken);
            try
            {
                return (node.Id, Key: await FederationCommand.KeygenAsync(DataPathOf(node.Id), cancellationToken));
            }
            finally
            {
                slots.Release();
            }
        }));
        return keys.ToDictionary(static k => k.Id, static k => k.Key, StringComparer.Ordinal);
    }

    private NodeProcess Track(NodeProcess process)
    {
        lock (_gate)
        {
            _running[process.Node.Id] = process;
            if (!_stopping)
            {
                return process;
            }
        }

        // StopAll ran while this node was starting (Ctrl-C, launcher exit): it must not outlive us.
        process.Stop();
        throw new OperationCanceledException("The launcher is stopping.");
    }
}
