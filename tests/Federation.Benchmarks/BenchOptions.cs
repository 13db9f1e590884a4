namespace Federation.Benchmarks;

/// <summary>The command line: <c>[--quick] [--json PATH] [--only NAME…]</c>.</summary>
internal sealed record BenchOptions(bool Quick, string? JsonPath, IReadOnlySet<string> Only)
{
    /// <summary>The groups a run can be narrowed to, in the order they run.</summary>
    public static IReadOnlyList<string> Groups { get; } = ["ingest", "merge", "tree", "correction", "fleet", "startup", "history"];

    public bool Runs(string group) => Only.Count == 0 || Only.Contains(group);

    /// <summary>Parses the arguments; throws <see cref="FormatException"/> with a usage line on anything else.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var quick = false;
        string? json = null;
        var only = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--json" when i + 1 < args.Count:
                    json = args[++i];
                    break;
                case "--only":
                    while (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        var name = args[++i];
                        if (!Groups.Contains(name, StringComparer.Ordinal))
                        {
                            throw new FormatException($"--only {name}: not a measurement group; the groups are {string.Join(", ", Groups)}.\n{Usage}");
                        }

                        only.Add(name);
                    }

                    if (only.Count == 0)
                    {
                        throw new FormatException($"--only needs at least one of {string.Join(", ", Groups)}.\n{Usage}");
                    }

                    break;
                default:
                    throw new FormatException($"unknown argument '{args[i]}'.\n{Usage}");
            }
        }

        return new BenchOptions(quick, json, only);
    }

    public const string Usage = "usage: dotnet run -c Release --project tests/Federation.Benchmarks -- [--quick] [--json PATH] [--only ingest|merge|tree|correction|fleet|startup|history …]";
}

/// <summary>How big and how long each measurement is: the full run, or the small one (<c>--quick</c>) that checks the harness.</summary>
internal sealed record BenchSettings(
    TimeSpan RateDuration,
    int MergeNodeRoundCount,
    int IngestClientCount,
    int IngestUnitCount,
    TreeShape Tree,
    int CorrectionRepeatCount,
    int FleetTownshipCount,
    int FleetVillagesPerTownship,
    int VisibleSampleCount,
    int PullSampleCount,
    int HungPullSampleCount,
    TimeSpan PullDeadline,
    TimeSpan StartupWindow,
    TimeSpan SteadyWindow,
    double StartupSubmissionsPerSecond,
    bool StartupEachChangeAlone,
    int HistoryUnitCount,
    int HistoryMonthCount,
    int HistoryClientCount,
    TimeSpan HistorySimulatedMonth,
    TimeSpan HistoryPruneInterval)
{
    /// <summary>Villages a township merges in the township measurement (a large township).</summary>
    public const int TownshipVillageCount = 245;

    public static BenchSettings Full { get; } = new(
        RateDuration: TimeSpan.FromSeconds(10),
        MergeNodeRoundCount: 10,
        IngestClientCount: 64,
        IngestUnitCount: 500,
        Tree: TreeShape.National,
        CorrectionRepeatCount: 50,
        FleetTownshipCount: 10,
        FleetVillagesPerTownship: 245,
        VisibleSampleCount: 100,
        PullSampleCount: 100,
        HungPullSampleCount: 30,
        PullDeadline: TimeSpan.FromSeconds(2),
        StartupWindow: TimeSpan.FromSeconds(60),
        SteadyWindow: TimeSpan.FromSeconds(120),
        StartupSubmissionsPerSecond: 10,
        StartupEachChangeAlone: true,
        HistoryUnitCount: TownshipVillageCount,
        HistoryMonthCount: 60,
        HistoryClientCount: 4,
        HistorySimulatedMonth: TimeSpan.FromSeconds(4),
        HistoryPruneInterval: TimeSpan.FromMilliseconds(500));

    public static BenchSettings Quick { get; } = new(
        RateDuration: TimeSpan.FromSeconds(1),
        MergeNodeRoundCount: 1,
        IngestClientCount: 64,
        IngestUnitCount: 500,
        Tree: TreeShape.National.Scaled(100),
        CorrectionRepeatCount: 10,
        FleetTownshipCount: 2,
        FleetVillagesPerTownship: 20,
        VisibleSampleCount: 10,
        PullSampleCount: 10,
        HungPullSampleCount: 4,
        PullDeadline: TimeSpan.FromSeconds(2),
        StartupWindow: TimeSpan.FromSeconds(20),
        SteadyWindow: TimeSpan.FromSeconds(10),
        StartupSubmissionsPerSecond: 10,
        StartupEachChangeAlone: false,
        HistoryUnitCount: 24,
        HistoryMonthCount: 6,
        HistoryClientCount: 4,
        HistorySimulatedMonth: TimeSpan.FromSeconds(1),
        HistoryPruneInterval: TimeSpan.FromMilliseconds(200));
}
