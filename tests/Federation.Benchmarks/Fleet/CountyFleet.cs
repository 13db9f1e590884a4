using System.Text.Json;
using Grpc.Net.Client;

namespace Federation.Benchmarks.Fleet;

/// <summary>
/// A city above one county of townships, each township hosting its villages: separate `federation serve`
/// processes on 127.0.0.1 over mutual TLS, as the demo starts its tree. Keys come from `federation keygen`,
/// certificates from the run's CA; nodes start top-down, since a child needs its parent's address. Every
/// process is killed by <see cref="Dispose"/>, and also when the harness exits or is interrupted.
/// </summary>
internal sealed class CountyFleet : IDisposable
{
    public const string CityId = "3701";
    public const string CountyId = "370113";
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(120);
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    private readonly Lock _gate = new();
    private readonly List<FleetNode> _nodes = [];
    private readonly Dictionary<string, FleetNode> _byId = new(StringComparer.Ordinal);
    private readonly List<GrpcChannel> _channels = [];
    private bool _stopped;
    private Action? _unregister;

    private CountyFleet(string root, BenchPki pki, int townshipCount, int villagesPerTownship)
    {
        Root = root;
        Pki = pki;
        TownshipIds = [.. Enumerable.Range(1, townshipCount).Select(static t => $"{CountyId}{t:D3}")];
        VillagesPerTownship = villagesPerTownship;
    }

    public string Root { get; }

    public BenchPki Pki { get; }

    public IReadOnlyList<string> TownshipIds { get; }

    public int VillagesPerTownship { get; }

    public int VillageCount => TownshipIds.Count * VillagesPerTownship;

    public FleetNode this[string id]
    {
        get
        {
            lock (_gate)
            {
                return _byId[id];
            }
        }
    }

    public static string VillageId(string townshipId, int village) => $"{townshipId}{village + 1:D3}";

    public static async Task<CountyFleet> StartAsync(string root, BenchPki pki, int townshipCount, int villagesPerTownship, Action<string> progress)
    {
        var fleet = new CountyFleet(root, pki, townshipCount, villagesPerTownship);
        void StopOnExit(object? sender, EventArgs e) => fleet.StopAll();
        void StopOnCancel(object? sender, ConsoleCancelEventArgs e) => fleet.StopAll();
        AppDomain.CurrentDomain.ProcessExit += StopOnExit;
        Console.CancelKeyPress += StopOnCancel;
        fleet._unregister = () =>
        {
            AppDomain.CurrentDomain.ProcessExit -= StopOnExit;
            Console.CancelKeyPress -= StopOnCancel;
        };
        try
        {
            await fleet.StartNodesAsync(progress);
            return fleet;
        }
        catch
        {
            fleet.Dispose();
            throw;
        }
    }

    /// <summary>A channel to a node as a person with <paramref name="token"/>, disposed with the fleet.</summary>
    public GrpcChannel Channel(string nodeId, string token)
    {
        var channel = Pki.Channel(this[nodeId].Address, token);
        lock (_gate)
        {
            _channels.Add(channel);
        }

        return channel;
    }

    /// <summary>Throws, with its log, when a node ended on its own.</summary>
    public void CheckAlive()
    {
        lock (_gate)
        {
            if (_nodes.FirstOrDefault(static n => n.HasExited) is { } dead)
            {
                throw new BenchmarkException($"node {dead.Id} exited during the run.\n{dead.LogTail()}");
            }
        }
    }

    public void StopAll()
    {
        List<FleetNode> nodes;
        lock (_gate)
        {
            _stopped = true;
            nodes = [.. _nodes];
        }

        Parallel.ForEach(nodes, static n => n.Stop());
    }

    public void Dispose()
    {
        StopAll();
        _unregister?.Invoke();
        lock (_gate)
        {
            _channels.ForEach(static c => c.Dispose());
            _nodes.ForEach(static n => n.Dispose());
            _nodes.Clear();
        }
    }

    private async Task StartNodesAsync(Action<string> progress)
    {
        var ids = new List<string> { CityId, CountyId };
        ids.AddRange(TownshipIds);
        using var slots = new SemaphoreSlim(2);
        var keys = (await Task.WhenAll(ids.Select(async id =>
        {
            await slots.WaitAsync();
            try
            {
                return (id, Key: await FleetNode.KeygenAsync(DataPath(id)));
            }
            finally
            {
                slots.Release();
            }
        }))).ToDictionary(static k => k.id, static k => k.Key, StringComparer.Ordinal);
        progress($"{ids.Count} signing keys from `federation keygen`");

        var city = await StartWaveAsync([CityId], keys, parentId: null);
        var county = await StartWaveAsync([CountyId], keys, parentId: CityId);
        await StartWaveAsync(TownshipIds, keys, parentId: CountyId);
        progress($"city {city[0].Address}, county {county[0].Address}, {TownshipIds.Count} townships listening (mutual TLS)");
    }

    private string DataPath(string id) => Path.Combine(Root, id);

    private async Task<List<FleetNode>> StartWaveAsync(IReadOnlyList<string> ids, IReadOnlyDictionary<string, string> keys, string? parentId)
    {
        var started = new List<FleetNode>();
        foreach (var id in ids)
        {
            var config = WriteConfig(id, keys, parentId);
            var node = FleetNode.Start(id, DataPath(id), config);
            lock (_gate)
            {
                _nodes.Add(node);
                _byId[id] = node;
                if (_stopped)
                {
                    node.Stop();
                    throw new OperationCanceledException("the harness is stopping.");
                }
            }

            started.Add(node);
        }

        await Task.WhenAll(started.Select(static n => n.WaitForAddressAsync(s_startTimeout)));
        return started;
    }

    private string WriteConfig(string id, IReadOnlyDictionary<string, string> keys, string? parentId)
    {
        var dataPath = DataPath(id);
        var (certificate, key) = Pki.IssueNode(id, Path.Combine(dataPath, "tls"));
        var node = new Dictionary<string, object>
        {
            ["Id"] = id,
            ["Tier"] = id == CityId ? "city" : id == CountyId ? "county" : "township",
            ["Listen"] = "https://127.0.0.1:0",
            ["DataPath"] = dataPath,
        };
        if (parentId is not null)
        {
            node["Parent"] = new { Id = parentId, this[parentId].Address, PublicKey = keys[parentId] };
        }

        if (id == CityId)
        {
            node["Children"] = new[] { new { Id = CountyId, PublicKey = keys[CountyId], ExpectedLeafCount = VillageCount } };
        }
        else if (id == CountyId)
        {
            node["Children"] = TownshipIds.Select(t => new { Id = t, PublicKey = keys[t], ExpectedLeafCount = VillagesPerTownship }).ToArray();
        }
        else
        {
            node["HostedUnits"] = Enumerable.Range(0, VillagesPerTownship).Select(v => new { Id = VillageId(id, v) }).ToArray();
        }

        var document = new Dictionary<string, object>
        {
            ["Node"] = node,
            ["Tls"] = new { CertificatePath = certificate, KeyPath = key, Pki.CaPath },
            ["Logging"] = new { LogLevel = new Dictionary<string, string> { ["Default"] = "Warning" } },
        };
        var path = Path.Combine(dataPath, "node.json");
        File.WriteAllText(path, JsonSerializer.Serialize(document, s_json));
        return path;
    }
}
