using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>
/// Promotion (晋位升级) over a generated two-year history in a city → county → two townships tree, where
/// each township hosts villages and has one village running its own node.
/// </summary>
public sealed class PromotionTests : IAsyncLifetime
{
    private const string East = "370113001";
    private const string West = "370113002";

    // Written here, not taken from the catalogue: best first, and the shares 002 sets for moving up.
    private static readonly string[] s_order = ["good", "fairly_good", "average", "poor"];
    private static readonly Dictionary<string, uint> s_targets = new() { ["good"] = 0, ["fairly_good"] = 50, ["average"] = 60, ["poor"] = 70 };

    private readonly TempFolder _folder = new();
    private readonly Dictionary<string, (string? From, string? To)> _grades = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _hostOf = new(StringComparer.Ordinal);
    private TestHierarchy _tree = null!;

    public async Task InitializeAsync()
    {
        var shape = new TreeNode("3701", "city", [new TreeNode("370113", "county",
        [
            new TreeNode(East, "township", [new TreeNode(East + "001", "village", [])]),
            new TreeNode(West, "township", [new TreeNode(West + "001", "village", [])]),
        ])]);
        _tree = await TestHierarchy.StartAsync(_folder, shape);
        var rng = new Random(20260101);
        foreach (var (township, hosted) in new[] { (East, 9), (West, 12) })
        {
            _hostOf[township + "001"] = township + "001";
            for (var i = 0; i < hosted; i++)
            {
                var unit = $"{township}{101 + i}";
                _hostOf[unit] = township;
                await _tree[township].Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = unit, DisplayName = $"村{i}" }, deadline: Rpc.Deadline());
            }
        }

        foreach (var unit in _hostOf.Keys)
        {
            // One unit in ten lacks a grade in one of the years: it is ungraded, never "not moved".
            string? Grade() => rng.Next(10) == 0 ? null : s_order[rng.Next(s_order.Length)];
            _grades[unit] = (Grade(), Grade());
            foreach (var (period, grade) in new[] { ("2025", _grades[unit].From), ("2026", _grades[unit].To) })
            {
                List<IndicatorValue> values =
                [
                    Reports.Count("party_members", 20 + rng.Next(40)), Reports.Flag("secretary_college_degree", true),
                    Reports.Measure("secretary_age", 45), Reports.Count("committee_posts", 5), Reports.Count("reserve_cadres", 5),
                ];
                if (grade is not null)
                {
                    values.Add(Reports.Category("classification_grade", grade));
                }

                var host = _tree[_hostOf[unit]];
                await host.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = unit, Period = period, Values = { values } }, deadline: Rpc.Deadline());
            }
        }

        // Every village node has announced itself by the time the city covers it.
        await TestHierarchy.WaitForTotalsAsync(_tree.Root, "2026", t => t.Coverage.ReportedLeafCount == _hostOf.Count, "the city to cover every unit");
    }

    public async Task DisposeAsync()
    {
        await _tree.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task GetPromotion_AtTheCity_EqualsAnIndependentCountOverEveryUnit()
    {
        var answer = await _tree.Root.Query.GetPromotionAsync(new GetPromotionRequest { FromPeriod = "2025", ToPeriod = "2026" }, deadline: Rpc.Deadline());

        AssertEqualsIndependentCount(answer, _grades.Keys);
        Assert.Empty(answer.UnansweredNodeIds);
        Assert.Equal(0u, answer.UnansweredNodeCount);
        Assert.Equal(_hostOf[answer.NotMoved[0].UnitId], answer.NotMoved[0].HostNodeId);

        // Asked at the city about one township, the answer is that township's units only.
        var east = await _tree.Root.Query.GetPromotionAsync(new GetPromotionRequest { NodeId = East, FromPeriod = "2025", ToPeriod = "2026" }, deadline: Rpc.Deadline());
        Assert.Equal(East, east.NodeId);
        AssertEqualsIndependentCount(east, _grades.Keys.Where(static u => u.StartsWith(East, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task GetPromotion_WithATownshipDown_ListsItAndCountsOnlyWhatAnswered()
    {
        await _tree[West].StopAsync();

        var answer = await _tree.Root.Query.GetPromotionAsync(new GetPromotionRequest { FromPeriod = "2025", ToPeriod = "2026" }, deadline: Rpc.Deadline());

        Assert.Equal([West], answer.UnansweredNodeIds);
        Assert.Equal(1u, answer.UnansweredNodeCount);
        Assert.Equal(13u, answer.UnansweredLeafCount);
        Assert.Equal([(West, 13u)], answer.UnansweredNodes.Select(static n => (n.NodeId, n.LeafCount)));
        AssertEqualsIndependentCount(answer, _grades.Keys.Where(static u => u.StartsWith(East, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task GetPromotion_BadArguments_NameTheProblem()
    {
        await Rpc.FailsAsync(
            async () => await _tree.Root.Query.GetPromotionAsync(new GetPromotionRequest { FromPeriod = "2026", ToPeriod = "2025" }, deadline: Rpc.Deadline()),
            Grpc.Core.StatusCode.InvalidArgument, "MALFORMED_PERIOD");
        await Rpc.FailsAsync(
            async () => await _tree.Root.Query.GetPromotionAsync(new GetPromotionRequest { IndicatorId = "party_members", FromPeriod = "2025", ToPeriod = "2026" }, deadline: Rpc.Deadline()),
            Grpc.Core.StatusCode.InvalidArgument, "UNKNOWN_INDICATOR");
    }

    [Fact]
    public async Task GetHistory_OfAHostedVillage_AtItsHostAndThroughTheCity_ReadsItsReports()
    {
        var unit = West + "105";
        foreach (var node in new[] { _tree[West], _tree.Root })
        {
            var history = await node.Query.GetHistoryAsync(
                new GetHistoryRequest { NodeId = unit, IndicatorId = "classification_grade", FromPeriod = "2024", ToPeriod = "2026" }, deadline: Rpc.Deadline());

            Assert.Equal(unit, history.NodeId);
            Assert.Equal(["2024", "2025", "2026"], history.Points.Select(static p => p.Period));
            Assert.False(history.Points[0].HasData);
            foreach (var (point, grade) in history.Points.Skip(1).Zip(new[] { _grades[unit].From, _grades[unit].To }))
            {
                Assert.True(point.HasData);
                Assert.Equal(1u, point.Coverage.ReportedLeafCount);
                Assert.Equal(grade is null ? 0 : 1, point.Total.Aggregate.Categories.Sum(static c => c.UnitCount));
                if (grade is not null)
                {
                    Assert.Equal(grade, Assert.Single(point.Total.Aggregate.Categories).Code);
                }
            }
        }
    }

    [Fact]
    public async Task PromotionCommand_PrintsTheSharesInChinese()
    {
        var result = await Cli.RunAsync("promotion", "--node", _tree.Root.Address, "--token", _tree.Root.Tokens.Reader, "--ca", TestPki.CaPath,
            "--from", "2025", "--to", "2026", "--lang", "zh");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("晋位升级", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("较好", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("≥ 70%", result.StandardOutput, StringComparison.Ordinal);
    }

    private void AssertEqualsIndependentCount(GetPromotionResponse answer, IEnumerable<string> units)
    {
        var graded = units.Where(u => _grades[u].From is not null && _grades[u].To is not null).ToList();
        Assert.Equal((uint)units.Count(u => _grades[u].From is null || _grades[u].To is null), answer.UngradedCount);
        Assert.Equal(s_order, answer.Grades.Select(static g => g.Code));
        foreach (var grade in answer.Grades)
        {
            var started = graded.Where(u => _grades[u].From == grade.Code).ToList();
            var up = started.Count(u => Array.IndexOf(s_order, _grades[u].To) < Array.IndexOf(s_order, grade.Code));
            var same = started.Count(u => _grades[u].To == grade.Code);
            Assert.Equal(((uint)started.Count, (uint)up, (uint)same, (uint)(started.Count - up - same)),
                (grade.StartCount, grade.MovedUpCount, grade.StayedCount, grade.MovedDownCount));
            Assert.Equal(s_targets[grade.Code], grade.TargetPercent);
            Assert.Equal(s_targets[grade.Code] > 0 && started.Count > 0 && up * 100 >= s_targets[grade.Code] * started.Count, grade.Met);
        }

        var notMoved = graded
            .Where(u => s_targets[_grades[u].From!] > 0 && Array.IndexOf(s_order, _grades[u].To) >= Array.IndexOf(s_order, _grades[u].From))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(notMoved, answer.NotMoved.Select(static u => u.UnitId));
        Assert.All(answer.NotMoved, u => Assert.Equal((_grades[u.UnitId].From, _grades[u.UnitId].To), (u.FromCode, u.ToCode)));
    }
}
