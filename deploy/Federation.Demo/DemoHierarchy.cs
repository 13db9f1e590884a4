namespace Federation.Demo;

/// <summary>One node of the demo tree; <see cref="ParentId"/> is null at the top.</summary>
internal sealed record DemoNode(string Id, string Tier, string DisplayName, string? ParentId);

/// <summary>
/// The demo tree: Jinan city, two districts, two townships under each and three villages under each
/// township. Ids follow the statistical division codes (2+2+2+3+3 digits) so a subtree is a prefix;
/// township and village names are illustrative.
/// </summary>
internal sealed class DemoHierarchy
{
    private readonly Dictionary<string, DemoNode> _byId;

    private DemoHierarchy(IReadOnlyList<DemoNode> nodes)
    {
        Nodes = nodes;
        _byId = nodes.ToDictionary(static n => n.Id, StringComparer.Ordinal);
        Root = nodes.Single(static n => n.ParentId is null);
        var waves = new List<IReadOnlyList<DemoNode>>();
        for (IReadOnlyList<DemoNode> wave = [Root]; wave.Count > 0; wave = [.. wave.SelectMany(n => ChildrenOf(n.Id))])
        {
            waves.Add(wave);
        }

        Waves = waves;
    }

    /// <summary>Every node, parents before their children.</summary>
    public IReadOnlyList<DemoNode> Nodes { get; }

    public DemoNode Root { get; }

    /// <summary>The nodes by depth: a wave can start once the wave before it is listening.</summary>
    public IReadOnlyList<IReadOnlyList<DemoNode>> Waves { get; }

    /// <summary>The leaves: each runs its own node hosting exactly one unit, itself.</summary>
    public IReadOnlyList<DemoNode> Leaves => [.. Nodes.Where(n => !ChildrenOf(n.Id).Any())];

    public DemoNode this[string id] => _byId[id];

    public bool Contains(string id) => _byId.ContainsKey(id);

    public IEnumerable<DemoNode> ChildrenOf(string id) => Nodes.Where(n => n.ParentId == id);

    public int LeafCountUnder(string id)
    {
        var children = ChildrenOf(id).ToList();
        return children.Count == 0 ? 1 : children.Sum(c => LeafCountUnder(c.Id));
    }

    public static DemoHierarchy Jinan()
    {
        var nodes = new List<DemoNode> { new("3701", "city", "济南市", null) };
        var districts = new (string Id, string Name, (string Id, string Name, string[] Villages)[] Townships)[]
        {
            ("370113", "长清区",
            [
                ("370113001", "文昌街道", ["长兴社区", "西关村", "东王村"]),
                ("370113002", "崮云湖街道", ["崮山村", "潘村", "石岭村"]),
            ]),
            ("370126", "商河县",
            [
                ("370126001", "许商街道", ["城关社区", "前刘村", "孙家村"]),
                ("370126002", "殷巷镇", ["殷巷村", "赵家村", "马庄村"]),
            ]),
        };
        foreach (var district in districts)
        {
            nodes.Add(new(district.Id, "county", district.Name, "3701"));
            foreach (var township in district.Townships)
            {
                nodes.Add(new(township.Id, "township", township.Name, district.Id));
                nodes.AddRange(township.Villages.Select((name, i) => new DemoNode($"{township.Id}{i + 1:000}", "village", name, township.Id)));
            }
        }

        return new DemoHierarchy(nodes);
    }
}
