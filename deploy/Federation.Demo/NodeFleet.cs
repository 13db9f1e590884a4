using System.Diagnostics;
using Federation.Node.Cli;
using Federation.Node.Security;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;

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

    /// <summary>The deployment CA every node and client trusts.</summary>
    public string CaPath => Path.Combine(DataRoot, "pki", Pki.CaCertificateFileName);

    /// <summary>A clerk token for each village and a reader token for each node above, known once started.</summary>
    public IReadOnlyDictionary<string, string> Tokens => _tokens;

    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

    /// <summary>A reviewer token for each node above the villages: the organiser who reviews the tier below and accepts its ledger items.</summary>
    public IReadOnlyDictionary<string, string> ReviewerTokens => _reviewerTokens;

    private readonly Dictionary<string, string> _reviewerTokens = new(StringComparer.Ordinal);

    public async Task StartAsync(Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        PublicKeys = await GenerateKeysAsync(cancellationToken);
        progress($"keys: {PublicKeys.Count} signing keys ready ({clock.Elapsed.TotalSeconds:0.0} s)");
        await IssueCertificatesAsync(cancellationToken);
        progress($"certificates: a private CA and {Hierarchy.Nodes.Count} node certificates for mutual TLS ({clock.Elapsed.TotalSeconds:0.0} s)");

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

        await IssueTokensAsync(cancellationToken);
        progress($"tokens: a clerk for each village, a reader and a reviewer for each node above, issued on each node's admin socket ({clock.Elapsed.TotalSeconds:0.0} s)");
    }

    /// <summary>`federation ca init`, then `federation cert issue` for every node, as an operator would.</summary>
    private async Task IssueCertificatesAsync(CancellationToken cancellationToken)
    {
        var pki = Path.GetDirectoryName(CaPath)!;
        if (!File.Exists(CaPath))
        {
            await FederationCommand.RunAsync(cancellationToken, "ca", "init", "--out", pki, "--name", "Federation demo CA");
        }

        using var slots = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount * 2));
        await Task.WhenAll(Hierarchy.Nodes.Select(async node =>
        {
            var tls = Path.Combine(DataPathOf(node.Id), "tls");
            if (File.Exists(Path.Combine(tls, "node.crt")))
            {
                return;
            }

            await slots.WaitAsync(cancellationToken);
            try
            {
                await FederationCommand.RunAsync(cancellationToken, "cert", "issue", "--ca-dir", pki, "--node-id", node.Id, "--out", tls, "--host", "localhost", "--host", "127.0.0.1");
            }
            finally
            {
                slots.Release();
            }
        }));
    }

    /// <summary>Issues the launcher's tokens through each node's admin socket (no token needed there).</summary>
    private async Task IssueTokensAsync(CancellationToken cancellationToken)
    {
        foreach (var node in Hierarchy.Nodes)
        {
            var isVillage = !Hierarchy.ChildrenOf(node.Id).Any();
            using var socket = CliConnection.Open("unix:" + Path.Combine(DataPathOf(node.Id), AdminSocket.FileName), null, null);
            var issued = await new AccessService.AccessServiceClient(socket).IssueTokenAsync(new IssueTokenRequest
            {
                Account = isVillage ? $"demo-clerk-{node.Id}" : $"demo-reader-{node.Id}",
                Role = isVillage ? Role.Clerk : Role.Reader,
                Scope = node.Id,
                ValidFor = Duration.FromTimeSpan(TimeSpan.FromDays(1)),
                Note = "issued by the demo launcher",
            }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
            _tokens[node.Id] = issued.Token;
            if (!isVillage)
            {
                var reviewer = await new AccessService.AccessServiceClient(socket).IssueTokenAsync(new IssueTokenRequest
                {
                    Account = $"demo-reviewer-{node.Id}",
                    Role = Role.Reviewer,
                    Scope = node.Id,
                    ValidFor = Duration.FromTimeSpan(TimeSpan.FromDays(1)),
                    Note = "issued by the demo launcher",
                }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
                _reviewerTokens[node.Id] = reviewer.Token;
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
