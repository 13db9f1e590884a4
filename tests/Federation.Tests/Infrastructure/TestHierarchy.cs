using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Tests.Infrastructure;

/// <summary>One node of a tree to start; a node without children is a village hosting itself.</summary>
public sealed record TreeNode(string Id, string Tier, IReadOnlyList<TreeNode> Children)
{
    /// <summary>The node's display name (Node:DisplayName); none by default.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Units the node hosts, with their names; by default a node without children hosts itself.</summary>
    public IReadOnlyList<(string Id, string Name)>? HostedUnits { get; init; }

    /// <summary>Units a node with children hosts besides them (villages without a server of their own).</summary>
    public IReadOnlyList<string> HostedUnitIds { get; init; } = [];

    public IEnumerable<TreeNode> SelfAndDescendants() => Children.SelectMany(static c => c.SelfAndDescendants()).Prepend(this);

    /// <summary>Jinan: two districts, two townships each, three villages each (19 nodes, 12 villages).</summary>
    public static TreeNode Jinan() => new("3701", "city",
    [
        District("370113"),
        District("370126"),
    ]);

    private static TreeNode District(string id) => new(id, "county",
    [
        Township(id + "001"),
        Township(id + "002"),
    ]);

    private static TreeNode Township(string id) => new(id, "township",
        [.. Enumerable.Range(1, 3).Select(v => new TreeNode($"{id}{v:D3}", "village", []))]);
}

/// <summary>A whole tree of real nodes, started top-down, each enrolled at its parent through configuration.</summary>
public sealed class TestHierarchy : IAsyncDisposable
{
    private readonly Dictionary<string, TestNode> _nodes;

    private TestHierarchy(TreeNode root, Dictionary<string, TestNode> nodes)
    {
        Shape = root;
        _nodes = nodes;
    }

    public TreeNode Shape { get; }

    public TestNode Root => _nodes[Shape.Id];

    public TestNode this[string id] => _nodes[id];

    public IReadOnlyCollection<TestNode> Nodes => _nodes.Values;

    public IReadOnlyList<string> VillageIds => [.. Shape.SelfAndDescendants().Where(static n => n.Children.Count == 0).Select(static n => n.Id)];

    /// <param name="folder">Where the nodes keep their data.</param>
    /// <param name="root">The tree.</param>
    /// <param name="time">The clock every node runs on; the system clock when null.</param>
    /// <param name="settings">Settings every node gets besides its own (History:KeepReplacedFor, say).</param>
    public static async Task<TestHierarchy> StartAsync(TempFolder folder, TreeNode root, TimeProvider? time = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var all = root.SelfAndDescendants().ToList();
        var keys = all.ToDictionary(static n => n.Id, n => TestNode.CreateKey(folder.Sub(n.Id)));
        var nodes = new Dictionary<string, TestNode>();
        var wave = new List<(TreeNode Node, TestNode? Parent)> { (root, null) };
        while (wave.Count > 0)
        {
            // Parents first, so that children know the address to push to; one tier in parallel.
            var started = await Task.WhenAll(wave.Select(item => TestNode.StartAsync(
                new NodeSpec(item.Node.Id, item.Node.Tier)
                {
                    ParentAddress = item.Parent?.Address,
                    ParentId = item.Parent?.Id,
                    ParentPublicKey = item.Parent is null ? null : keys[item.Parent.Id],
                    HostedUnitIds = item.Node.HostedUnits is { } hosted ? [.. hosted.Select(static u => u.Id)] : item.Node.Children.Count == 0 ? [item.Node.Id] : item.Node.HostedUnitIds,
                    Children = [.. item.Node.Children.Select(c => (c.Id, keys[c.Id]))],
                    Settings = Names(item.Node).Concat(settings ?? new Dictionary<string, string?>()).ToDictionary(static kv => kv.Key, static kv => kv.Value),
                    Time = time,
                },
                folder.Sub(item.Node.Id))));
            foreach (var node in started)
            {
                nodes[node.Id] = node;
            }

            wave = [.. wave.SelectMany(item => item.Node.Children.Select(c => (c, (TestNode?)nodes[item.Node.Id])))];
        }

        return new TestHierarchy(root, nodes);
    }

    private static Dictionary<string, string?> Names(TreeNode node)
    {
        var settings = new Dictionary<string, string?>();
        if (node.DisplayName is not null)
        {
            settings["Node:DisplayName"] = node.DisplayName;
        }

        for (var i = 0; i < (node.HostedUnits?.Count ?? 0); i++)
        {
            settings[$"Node:HostedUnits:{i}:DisplayName"] = node.HostedUnits![i].Name;
        }

        // A village hosting itself goes by its own name, as its deployment would configure it.
        if (node.HostedUnits is null && node.Children.Count == 0 && node.DisplayName is not null)
        {
            settings["Node:HostedUnits:0:DisplayName"] = node.DisplayName;
        }

        // A parent knows its children's names from its own configuration, as a deployment's would.
        for (var i = 0; i < node.Children.Count; i++)
        {
            if (node.Children[i].DisplayName is { } name)
            {
                settings[$"Node:Children:{i}:DisplayName"] = name;
            }
        }

        return settings;
    }

    /// <summary>Submits a village's figures to its own node; returns the acknowledgement.</summary>
    public Task<SubmitReportResponse> SubmitAsync(string villageId, string period, IEnumerable<IndicatorValue> values, SubmitMode mode = SubmitMode.Unspecified)
    {
        var request = new SubmitReportRequest { UnitId = villageId, Period = period, Mode = mode };
        request.Values.AddRange(values);
        return _nodes[villageId].Reporting.SubmitReportAsync(request, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync;
    }

    /// <summary>Waits until <paramref name="node"/>'s totals for the period satisfy <paramref name="done"/>.</summary>
    public static Task<GetTotalsResponse> WaitForTotalsAsync(TestNode node, string period, Func<GetTotalsResponse, bool> done, string what) =>
        Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    return await node.Query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: DateTime.UtcNow.AddSeconds(10));
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    return null;
                }
            },
            done,
            what);

    /// <summary>Fails the test if any node logged an error it did not expect.</summary>
    public void AssertNoErrors()
    {
        foreach (var node in _nodes.Values)
        {
            Assert.True(node.Logs.Errors.Count == 0, $"node {node.Id} logged errors:\n{string.Join('\n', node.Logs.Errors)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Children first, so that none of them pushes to a parent that is already gone.
        foreach (var node in Shape.SelfAndDescendants().Reverse())
        {
            await _nodes[node.Id].DisposeAsync();
        }
    }
}
