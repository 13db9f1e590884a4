using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Ratings;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// Star rating on real nodes: a county of ten towns rated over two generated years and compared with an
/// independent computation; the two-year flags; the signed histograms reaching the city; routed reads;
/// bad input refused without change; re-rating as new versions; the command line.
/// </summary>
public sealed class RatingTests
{
    private const string City = "3701";
    private const string County = "370113";
    private static readonly string[] s_towns = [.. Enumerable.Range(1, 10).Select(static i => $"{County}{i:D3}")];
    private static readonly RatingScheme s_scheme = RatingSchemeIndex.Default.Scheme;

    [Fact]
    public async Task CountyOfTenTowns_TwoGeneratedYears_TotalsStarsQuotasRanksFlagsAndTheCitysHistograms_EqualAnIndependentComputation()
    {
        using var folder = new TempFolder();
        await using var tree = await CountyTree.StartAsync(folder);
        var rng = new Random(20261126);

        // Each town rates its two villages for 2026 first: their summaries then reach the county, which learns their tier.
        var villageResults = new List<RatingOracle.UnitResult>();
        foreach (var town in s_towns)
        {
            var villages = new[] { town + "001", town + "002" }.Select(v => RatingData.Unit(rng, s_scheme, v, 2026, 0.55 + (rng.NextDouble() * 0.45), MonthsStarted(2026, 6), 2, annual: true, "village")).ToList();
            await SetScoresAsync(tree[town], "2026", villages.Select(static v => v.Entry));
            villageResults.AddRange(RatingOracle.Rate(s_scheme, villages.Select(static v => v.Input)));
        }

        await WaitForSummaryAsync(tree[County], "2026", static s => s.Contributions.Count == 10, "the county to hold all ten towns' 2026 summaries");

        // The county rates its towns: 2025 in full, 2026 with the months started so far (some towns fewer).
        double[] levels2025 = [0.97, 0.96, 0.95, 0.93, 0.92, 0.86, 0.84, 0.78, 0.72, 0.62];
        double[] levels2026 = [0.97, 0.95, 0.96, 0.86, 0.93, 0.94, 0.88, 0.87, 0.74, 0.60];
        var expected = new Dictionary<string, List<RatingOracle.UnitResult>>();
        foreach (var (year, levels) in new[] { (2025, levels2025), (2026, levels2026) })
        {
            var towns = s_towns.Select((t, i) => RatingData.Unit(rng, s_scheme, t, year, levels[i], MonthsStarted(year, i % 3 == 0 ? 9 : 12), 4, annual: true, "township")).ToList();
            await SetScoresAsync(tree[County], year.ToString(System.Globalization.CultureInfo.InvariantCulture), towns.Select(static t => t.Entry));
            expected[year.ToString(System.Globalization.CultureInfo.InvariantCulture)] = RatingOracle.Rate(s_scheme, towns.Select(static t => t.Input));
        }

        // Read at the city, routed down to the county; each statement verifies with the county's key and matches the oracle.
        var countyKey = await PublicKeyAsync(tree[County]);
        var cityRatings = new RatingService.RatingServiceClient(tree[City].Channel);
        foreach (var (year, results) in expected)
        {
            var response = await cityRatings.GetRatingsAsync(new GetRatingsRequest { NodeId = County, Year = year }, deadline: Rpc.Deadline());
            var verification = SignedMessages.VerifyRatingStatement(response.Statement, countyKey);
            Assert.True(verification.IsValid, verification.Message);
            var statement = verification.Value!;
            Assert.Equal(County, statement.NodeId);
            Assert.Empty(StarRating.Recheck(statement));
            Assert.Equal(results.Select(static r => r.UnitId), statement.Units.Select(static u => u.UnitId));
            foreach (var (want, got) in results.Zip(statement.Units))
            {
                Assert.True(RatingOracle.Same(want.Scaled, got.Total), $"{year} {want.UnitId}: total {got.Total.Display} is not {want.Scaled}/{1000 * RatingOracle.Scale}");
                Assert.Equal(((uint)want.Rank, want.Earned, want.Stars, "township"), (got.Rank, got.EarnedStars, got.Stars, got.Tier));
                Assert.Equal(want.Effect switch { "five" => QuotaEffect.FiveStarQuota, "three" => QuotaEffect.ThreeOrBelowShare, _ => QuotaEffect.None }, got.QuotaEffect);
            }
        }

        // The generated years reach both quota rules, so the comparison covers them.
        Assert.Contains(expected.Values.SelectMany(static r => r), static r => r.Effect == "five");
        Assert.Contains(expected.Values.SelectMany(static r => r), static r => r.Effect == "three");

        // Two years in a row, from the county's own statements.
        var flags = await cityRatings.ListRatingFlagsAsync(new ListRatingFlagsRequest { NodeId = County, Year = "2026" }, deadline: Rpc.Deadline());
        var expectedFlags = RatingOracle.Flags(expected["2025"], expected["2026"]);
        Assert.Equal(expectedFlags.Select(static f => (f.UnitId, f.Kind == "five" ? RatingFlagKind.FiveStarsTwoYears : RatingFlagKind.ThreeOrBelowTwoYears, f.Previous, f.Now)),
            flags.Flags.Select(static f => (f.UnitId, f.Kind, f.PreviousYearStars, f.Stars)));
        Assert.Contains(flags.Flags, static f => f.Kind == RatingFlagKind.FiveStarsTwoYears);
        Assert.Contains(flags.Flags, static f => f.Kind == RatingFlagKind.ThreeOrBelowTwoYears);

        // The city's own signed 2026 summary carries both tiers' histograms: the county's statement and the towns'.
        var cityKey = await PublicKeyAsync(tree[City]);
        var townships = Histogram("township", expected["2026"], ratingNodes: 1);
        var villagesHistogram = Histogram("village", villageResults, ratingNodes: 10);
        var totals = await TestHierarchy.WaitForTotalsAsync(tree[City], "2026",
            t => Summary.Parser.ParseFrom(t.SignedSummary.SummaryBytes).StarHistograms.SequenceEqual([townships, villagesHistogram]), "the city's 2026 histograms");
        var city = SignedMessages.VerifySummary(totals.SignedSummary, cityKey);
        Assert.True(city.IsValid, city.Message);
        Assert.Equal([townships, villagesHistogram], city.Value!.StarHistograms);
        Assert.Null(city.Value.Rating);

        // An auditor recomputes the county's histograms from its towns' summaries and its statement.
        var keys = new Dictionary<string, byte[]> { [County] = countyKey };
        foreach (var town in s_towns)
        {
            keys[town] = await PublicKeyAsync(tree[town]);
        }

        var bundle = await tree[City].Query.GetAuditBundleAsync(new GetAuditBundleRequest { NodeId = County, Period = "2026" }, deadline: Rpc.Deadline());
        var audit = Auditor.Audit(bundle.Bundle, CatalogueIndex.Default, keys);
        Assert.True(audit.IsClean, string.Join("\n", audit.Differences));
        Assert.NotNull(bundle.Bundle.RatingStatement);

        // A town's own ranking of its villages, read at the city two hops down.
        var townRating = await cityRatings.GetRatingsAsync(new GetRatingsRequest { NodeId = s_towns[4], Year = "2026" }, deadline: Rpc.Deadline());
        Assert.Equal(s_towns[4], townRating.NodeId);
        Assert.Equal([s_towns[4] + "001", s_towns[4] + "002"], RatingStatement.Parser.ParseFrom(townRating.Statement.StatementBytes).Units.Select(static u => u.UnitId).Order(StringComparer.Ordinal));
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task SetScores_BadInput_IsRefusedWithItsReasonAndChangesNothing()
    {
        using var folder = new TempFolder();
        const string township = "370113001";
        var childKey = TestNode.CreateKey(folder.Sub("child"));
        await using var node = await TestNode.StartAsync(
            new NodeSpec(township, "township") { HostedUnitIds = ["370113001001", "370113001002"], Children = [("370113001003", childKey)] }, folder.Sub(township));
        var ratings = new RatingService.RatingServiceClient(node.ChannelWith(node.Tokens.Reviewer));
        await Rpc.FailsAsync(async () => await ratings.GetRatingsAsync(new GetRatingsRequest { Year = "2026" }, deadline: Rpc.Deadline()), StatusCode.NotFound, "NO_FIGURES");

        var item = s_scheme.Parts[0].Items[0];
        UnitScoresEntry Entry(string unit, string period, string itemId, int points) =>
            new() { UnitId = unit, Assessments = { new Assessment { Period = period, Items = { new ItemScore { ItemId = itemId, PointsTenths = points } } } } };
        var first = await ratings.SetScoresAsync(new SetScoresRequest
        {
            Year = "2026",
            Units = { Entry("370113001001", "2026", item.Id, 30), Entry("370113001003", "2026-Q1", item.Id, 20) },
        }, deadline: Rpc.Deadline());
        Assert.True(first.Changed);
        var firstStatement = RatingStatement.Parser.ParseFrom(first.Statement.StatementBytes);
        Assert.Equal(["village", RatingOperationsUnknownTier], firstStatement.Units.OrderBy(static u => u.UnitId, StringComparer.Ordinal).Select(static u => u.Tier));
        Assert.Equal(["370113001002"], firstStatement.UnratedUnitIds);

        var cases = new (string What, SetScoresRequest Request, StatusCode Code, string Reason)[]
        {
            ("an unknown item", new() { Year = "2026", Units = { Entry("370113001002", "2026", "no_such_item", 10) } }, StatusCode.InvalidArgument, "UNKNOWN_RATING_ITEM"),
            ("points above the maximum", new() { Year = "2026", Units = { Entry("370113001001", "2026", item.Id, item.MaxTenths + 1) } }, StatusCode.InvalidArgument, "POINTS_ABOVE_MAXIMUM"),
            ("negative points", new() { Year = "2026", Units = { Entry("370113001001", "2026", item.Id, -5) } }, StatusCode.InvalidArgument, "NEGATIVE_VALUE"),
            ("a grandchild", new() { Year = "2026", Units = { Entry("370113001003001", "2026", item.Id, 10) } }, StatusCode.InvalidArgument, "NOT_DIRECTLY_BELOW"),
            ("a unit nobody hosts", new() { Year = "2026", Units = { Entry("370113009", "2026", item.Id, 10) } }, StatusCode.InvalidArgument, "NOT_DIRECTLY_BELOW"),
            ("a quarter as the year", new() { Year = "2026-Q1", Units = { Entry("370113001001", "2026-Q1", item.Id, 10) } }, StatusCode.InvalidArgument, "WRONG_PERIOD_TYPE"),
            ("a year not started", new() { Year = "2027", Units = { Entry("370113001001", "2027", item.Id, 10) } }, StatusCode.InvalidArgument, "PERIOD_NOT_STARTED"),
            ("a month of another year", new() { Year = "2026", Units = { Entry("370113001001", "2025-12", item.Id, 10) } }, StatusCode.InvalidArgument, "WRONG_PERIOD_TYPE"),
            ("a unit twice", new() { Year = "2026", Units = { Entry("370113001002", "2026", item.Id, 10), Entry("370113001002", "2026", item.Id, 20) } }, StatusCode.InvalidArgument, "DUPLICATE_ENTRY"),
            ("a good unit beside a bad one", new() { Year = "2026", Units = { Entry("370113001002", "2026", item.Id, 10), Entry("370113001001", "2026", item.Id, 999) } },
                StatusCode.InvalidArgument, "POINTS_ABOVE_MAXIMUM"),
            ("no units", new() { Year = "2026" }, StatusCode.InvalidArgument, "MISSING_FIELD"),
        };
        foreach (var (what, request, code, reason) in cases)
        {
            var status = await Rpc.FailsAsync(async () => await ratings.SetScoresAsync(request, deadline: Rpc.Deadline()), code, reason);
            Assert.True(status.Message.Length > 0, what);

            var now = await ratings.GetRatingsAsync(new GetRatingsRequest { Year = "2026", UnitId = "370113001001" }, deadline: Rpc.Deadline());
            Assert.True(now.Statement.StatementBytes == first.Statement.StatementBytes, $"{what} changed the statement");
            Assert.Equal(1ul, UnitScores.Parser.ParseFrom(now.UnitScoresBytes).Version);
        }

        // A change of scores is a new version; the old one stays, and the same scores again change nothing.
        var second = await ratings.SetScoresAsync(new SetScoresRequest { Year = "2026", Units = { Entry("370113001001", "2026", item.Id, 45) } }, deadline: Rpc.Deadline());
        var secondStatement = RatingStatement.Parser.ParseFrom(second.Statement.StatementBytes);
        Assert.True(second.Changed);
        Assert.True(secondStatement.Version > firstStatement.Version);
        var again = await ratings.SetScoresAsync(new SetScoresRequest { Year = "2026", Units = { Entry("370113001001", "2026", item.Id, 45) } }, deadline: Rpc.Deadline());
        Assert.False(again.Changed);
        Assert.Equal(second.Statement, again.Statement);
        var current = await ratings.GetRatingsAsync(new GetRatingsRequest { Year = "2026", UnitId = "370113001001" }, deadline: Rpc.Deadline());
        Assert.Equal(firstStatement.Version, current.PreviousVersion);
        Assert.Equal(2ul, UnitScores.Parser.ParseFrom(current.UnitScoresBytes).Version);
        var old = await ratings.GetRatingsAsync(new GetRatingsRequest { Year = "2026", Version = firstStatement.Version, UnitId = "370113001001" }, deadline: Rpc.Deadline());
        Assert.Equal(first.Statement, old.Statement);
        Assert.Equal(1ul, UnitScores.Parser.ParseFrom(old.UnitScoresBytes).Version);
        Assert.Equal(0ul, old.PreviousVersion);
        Assert.Empty(node.Logs.Errors);
    }

    [Fact]
    public async Task RatingSet_FromAnXlsxSheet_RatesExactlyAsTheSameRowsInACsv()
    {
        using var folder = new TempFolder();
        var items = s_scheme.Parts.SelectMany(static p => p.Items).ToList();
        List<object?[]> rows =
        [
            ["unit_id", "period", "item_id", "points"],
            .. items.Select(i => new object?[] { "370113001001", "2026", i.Id, (double)(i.MaxTenths / 10m) }),
            .. items.Select(i => new object?[] { "370113001002", "2026", i.Id, (double)(i.MaxTenths / 20m) }),
            ["370113001002", "2026-Q1", "duty_annual_task_list", 2.5],
        ];
        var statements = new List<RatingStatement>();
        foreach (var (name, bytes) in new[] { ("scores.csv", System.Text.Encoding.UTF8.GetBytes(Sheets.Csv(rows))), ("scores.xlsx", Sheets.Xlsx(rows)) })
        {
            await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { HostedUnitIds = ["370113001001", "370113001002"] }, folder.Sub(name));
            var path = folder.Sub(name + ".in" + Path.GetExtension(name));
            await File.WriteAllBytesAsync(path, bytes);

            var set = await Cli.RunAsync("rating", "set", "--node", node.Address, "--ca", TestPki.CaPath, "--token", node.Tokens.Reviewer, "--year", "2026", "--file", path, "--lang", "en");

            Assert.True(set.ExitCode == 0, name + ": " + set.StandardError);
            var answer = await new RatingService.RatingServiceClient(node.ChannelWith(node.Tokens.Reviewer))
                .GetRatingsAsync(new GetRatingsRequest { Year = "2026" }, deadline: Rpc.Deadline());
            var statement = RatingStatement.Parser.ParseFrom(answer.Statement.StatementBytes);
            // The stored scores record when and by whom they were entered, so their digests differ between the two nodes.
            foreach (var unit in statement.Units)
            {
                unit.ScoresDigest = Google.Protobuf.ByteString.Empty;
            }

            statements.Add(statement);
        }

        Assert.Equal(2, statements[0].Units.Count);
        Assert.Equal(statements[0].Units, statements[1].Units);
    }

    [Fact]
    public async Task RatingCommands_SetShowFlagsAndScheme_InChineseAndEnglish_ErrorsInOneLine()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { HostedUnitIds = ["370113001001", "370113001002"] }, folder.Sub("n"));
        var connection = new[] { "--node", node.Address, "--ca", TestPki.CaPath, "--token", node.Tokens.Reviewer };
        var items = s_scheme.Parts.SelectMany(static p => p.Items).ToList();
        var csv = folder.Sub("scores.csv");
        await File.WriteAllTextAsync(csv, "unit_id,period,item_id,points\n" +
            string.Concat(items.Select(i => $"370113001001,2026,{i.Id},{i.MaxTenths / 10m:0.0}\n")) +
            string.Concat(items.Select(i => $"370113001002,2026,{i.Id},{i.MaxTenths / 20m:0.0}\n")) +
            "370113001002,2026-Q1,duty_annual_task_list,2.5\n370113001002,,penalty_petition,2\n");

        var set = await Cli.RunAsync(["rating", "set", .. connection, "--year", "2026", "--file", csv, "--lang", "en"]);
        var show = await Cli.RunAsync(["rating", "show", .. connection, "--year", "2026", "--unit", "370113001002", "--lang", "zh"]);
        var json = await Cli.RunAsync(["rating", "show", .. connection, "--year", "2026", "--json"]);
        var flags = await Cli.RunAsync(["rating", "flags", .. connection, "--year", "2026", "--lang", "en"]);
        var scheme = await Cli.RunAsync(["rating", "scheme", .. connection, "--lang", "zh"]);

        Assert.True(set.ExitCode == 0, set.StandardError);
        Assert.Contains("signed version", set.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("370113001001", set.StandardOutput, StringComparison.Ordinal);
        Assert.True(show.ExitCode == 0, show.StandardError);
        Assert.Contains("排名", show.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("年述职(30%)", show.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("duty_annual_task_list", show.StandardOutput, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.StandardError);
        Assert.Contains("\"fiveStarAllowedCount\"", json.StandardOutput, StringComparison.Ordinal);
        Assert.True(flags.ExitCode == 0, flags.StandardError);
        Assert.Contains("no star rating for the year before 2026", flags.StandardOutput, StringComparison.Ordinal);
        Assert.True(scheme.ExitCode == 0, scheme.StandardError);
        Assert.Contains("涉组信访", scheme.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("不封顶", scheme.StandardOutput, StringComparison.Ordinal);

        // The node's refusal, and a file the command cannot read, are one line each; nothing changes.
        await File.WriteAllTextAsync(csv, $"370113001001,2026,{items[0].Id},99\n");
        var refused = await Cli.RunAsync(["rating", "set", .. connection, "--year", "2026", "--file", csv, "--lang", "en"]);
        await File.WriteAllTextAsync(csv, $"370113001001,2026,{items[0].Id},4.55\n");
        var unreadable = await Cli.RunAsync(["rating", "set", .. connection, "--year", "2026", "--file", csv, "--lang", "zh"]);

        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error InvalidArgument POINTS_ABOVE_MAXIMUM: ", refused.StandardError, StringComparison.Ordinal);
        Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(1, unreadable.ExitCode);
        Assert.StartsWith("错误 CSV 第 1 行", unreadable.StandardError, StringComparison.Ordinal);
        var after = await Cli.RunAsync(["rating", "show", .. connection, "--year", "2026", "--json"]);
        Assert.Equal(json.StandardOutput, after.StandardOutput);
    }

    [Fact]
    public async Task Rebuild_AfterTwoRatings_KeepsEveryStatementAndTheYearSummaryStillCitesTheCurrent()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        var spec = new NodeSpec("370113001", "township") { HostedUnitIds = ["370113001001", "370113001002"] };
        var rng = new Random(7);
        GetRatingsResponse before;
        RatingStatement first;
        GetTotalsResponse totalsBefore;
        await using (var node = await TestNode.StartAsync(spec, dataPath))
        {
            await SetScoresAsync(node, "2026", [RatingData.Unit(rng, s_scheme, "370113001001", 2026, 0.9, 0, 0, annual: true).Entry]);
            first = RatingStatement.Parser.ParseFrom((await new RatingService.RatingServiceClient(node.Channel)
                .GetRatingsAsync(new GetRatingsRequest { Year = "2026" }, deadline: Rpc.Deadline())).Statement.StatementBytes);
            await SetScoresAsync(node, "2026", [RatingData.Unit(rng, s_scheme, "370113001002", 2026, 0.7, 0, 0, annual: true).Entry]);
            before = await new RatingService.RatingServiceClient(node.Channel).GetRatingsAsync(new GetRatingsRequest { Year = "2026" }, deadline: Rpc.Deadline());
            totalsBefore = await WaitForSummaryAsync(node, "2026", static s => s.Rating?.RatedUnitCount == 2, "the second statement in the year summary");
        }

        var rebuilt = await Cli.RunAsync("rebuild", "--data", dataPath);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.StandardError);

        await using var again = await TestNode.StartAsync(spec, dataPath);
        var ratings = new RatingService.RatingServiceClient(again.Channel);
        Assert.Equal(before, await ratings.GetRatingsAsync(new GetRatingsRequest { Year = "2026" }, deadline: Rpc.Deadline()));
        var old = await ratings.GetRatingsAsync(new GetRatingsRequest { Year = "2026", Version = first.Version }, deadline: Rpc.Deadline());
        Assert.Equal(first, RatingStatement.Parser.ParseFrom(old.Statement.StatementBytes));
        var totals = await again.Query.GetTotalsAsync(new GetTotalsRequest { Period = "2026" }, deadline: Rpc.Deadline());
        Assert.Equal(totalsBefore.SignedSummary, totals.SignedSummary);
        Assert.Empty(again.Logs.Errors);
    }

    private const string RatingOperationsUnknownTier = Federation.Node.Ratings.RatingOperations.UnknownTier;

    private static int MonthsStarted(int year, int wanted) =>
        Enumerable.Range(1, wanted).Count(m => Period.Month(year, m).StartInstant <= DateTimeOffset.UtcNow);

    private static StarHistogram Histogram(string tier, IEnumerable<RatingOracle.UnitResult> results, uint ratingNodes)
    {
        var histogram = new StarHistogram { Tier = tier, RatingNodeCount = ratingNodes };
        histogram.Counts.AddRange(results.GroupBy(static r => r.Stars).OrderBy(static g => g.Key).Select(static g => new StarCount { Stars = g.Key, UnitCount = (uint)g.Count() }));
        return histogram;
    }

    private static async Task SetScoresAsync(TestNode node, string year, IEnumerable<UnitScoresEntry> entries)
    {
        var request = new SetScoresRequest { Year = year };
        request.Units.AddRange(entries);
        var response = await new RatingService.RatingServiceClient(node.ChannelWith(node.Tokens.Reviewer)).SetScoresAsync(request, deadline: Rpc.Deadline());
        Assert.True(response.Changed);
    }

    private static async Task<byte[]> PublicKeyAsync(TestNode node) =>
        (await node.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();

    private static Task<GetTotalsResponse> WaitForSummaryAsync(TestNode node, string period, Func<Summary, bool> done, string what) =>
        TestHierarchy.WaitForTotalsAsync(node, period, t => done(Summary.Parser.ParseFrom(t.SignedSummary.SummaryBytes)), what);

    /// <summary>A city, its county, and ten towns each hosting two villages (no village nodes): twelve real nodes.</summary>
    private sealed class CountyTree : IAsyncDisposable
    {
        private readonly Dictionary<string, TestNode> _nodes = new(StringComparer.Ordinal);

        public TestNode this[string id] => _nodes[id];

        public static async Task<CountyTree> StartAsync(TempFolder folder)
        {
            var tree = new CountyTree();
            var keys = new[] { City, County }.Concat(s_towns).ToDictionary(static id => id, id => TestNode.CreateKey(folder.Sub(id)));
            tree._nodes[City] = await TestNode.StartAsync(new NodeSpec(City, "city") { Children = [(County, keys[County])] }, folder.Sub(City));
            tree._nodes[County] = await TestNode.StartAsync(new NodeSpec(County, "county")
            {
                ParentAddress = tree[City].Address,
                ParentId = City,
                ParentPublicKey = keys[City],
                Children = [.. s_towns.Select(t => (t, keys[t]))],
            }, folder.Sub(County));
            var towns = await Task.WhenAll(s_towns.Select(town => TestNode.StartAsync(new NodeSpec(town, "township")
            {
                ParentAddress = tree[County].Address,
                ParentId = County,
                ParentPublicKey = keys[County],
                HostedUnitIds = [town + "001", town + "002"],
            }, folder.Sub(town))));
            foreach (var town in towns)
            {
                tree._nodes[town.Id] = town;
            }

            return tree;
        }

        public void AssertNoErrors()
        {
            foreach (var node in _nodes.Values)
            {
                Assert.True(node.Logs.Errors.Count == 0, $"node {node.Id} logged errors:\n{string.Join('\n', node.Logs.Errors)}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var id in s_towns.Append(County).Append(City))
            {
                await _nodes[id].DisposeAsync();
            }
        }
    }
}
