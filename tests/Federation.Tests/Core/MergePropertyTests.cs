using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Ratings;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;

namespace Federation.Tests.Core;

/// <summary>
/// Property tests over random reports and random tree shapes. Each round draws from its own seed, and a
/// failure names the seed so that the case can be replayed.
/// </summary>
public sealed class MergePropertyTests
{
    private const int Rounds = 300;
    private static readonly int s_baseSeed = PropertySeeds.First(1949);
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;
    private static readonly Period s_period = Period.Quarter(2026, 1);

    [Fact]
    public void Merge_RandomAggregates_IsAssociativeCommutativeWithEmptyIdentity()
    {
        ForEachSeed(rng =>
        {
            var a = RandomAggregates(rng);
            var b = RandomAggregates(rng);
            var c = RandomAggregates(rng);

            Assert.Equal(Aggregates.Merge(a, Aggregates.Merge(b, c)), Aggregates.Merge(Aggregates.Merge(a, b), c));
            Assert.Equal(Aggregates.Merge(a, b), Aggregates.Merge(b, a));
            Assert.Equal(a, Aggregates.Merge(a, []));
            Assert.Equal(a, Aggregates.Merge([], a));
        });
    }

    [Fact]
    public void BuildSummary_RandomTreeShape_EqualsFlatMergeOfTheLeaves()
    {
        ForEachSeed(rng =>
        {
            var leaves = Enumerable.Range(0, rng.Next(1, 40))
                .Select(i => (Id: $"u{i:D3}", Values: Reports.Random(rng, complete: rng.Next(2) == 0)))
                .ToList();
            var flat = Aggregates.MergeAll(leaves.Select(static l => Aggregates.FromReport(s_catalogue, l.Values)));

            var root = BuildRandomTree(rng, leaves, "root", depth: 0);

            Assert.Equal(flat, root.Aggregates);
            Assert.Equal((uint)leaves.Count, root.Coverage.ReportedLeafCount);
            Assert.Equal((uint)leaves.Count, root.Coverage.ExpectedLeafCount);
            Assert.Equal(Reports.PlainTotals(leaves.Select(static l => (IReadOnlyList<IndicatorValue>)l.Values)).Values
                .Where(static a => a.UnitCount > 0).OrderBy(static a => a.IndicatorId, StringComparer.Ordinal), root.Aggregates);
        });
    }

    [Fact]
    public void MergeStarHistograms_Random_IsAssociativeCommutativeWithEmptyIdentity()
    {
        ForEachSeed(rng =>
        {
            var a = RandomHistograms(rng);
            var b = RandomHistograms(rng);
            var c = RandomHistograms(rng);

            Assert.Equal(StarHistograms.Merge([a, StarHistograms.Merge([b, c])]), StarHistograms.Merge([StarHistograms.Merge([a, b]), c]));
            Assert.Equal(StarHistograms.Merge([a, b]), StarHistograms.Merge([b, a]));
            Assert.Equal(a, StarHistograms.Merge([a, []]));
            Assert.Equal(a, StarHistograms.Merge([[], a]));
        });
    }

    [Fact]
    public void BuildSummary_RandomTreeOfRatingNodes_TopHistogramsEqualTheFlatMergeOfEveryStatement()
    {
        var year = Period.OfYear(2026);
        ForEachSeed(rng =>
        {
            var statements = new List<IReadOnlyList<StarHistogram>>();
            var root = BuildRatingTree(rng, "root", 0, year, statements);

            Assert.Equal(StarHistograms.Merge(statements), root.StarHistograms);
            Assert.Equal((ulong)statements.Sum(static s => s.Sum(static h => h.Counts.Sum(static c => (long)c.UnitCount))), StarHistograms.UnitCount(root.StarHistograms));
            Assert.Equal((uint)statements.Sum(static s => s.Count), (uint)root.StarHistograms.Sum(static h => (long)h.RatingNodeCount));
        });
    }

    /// <summary>A node that rates some random units itself (or nobody) and has 0–3 random children, each checked as its parent would.</summary>
    private static Summary BuildRatingTree(Random rng, string id, int depth, Period year, List<IReadOnlyList<StarHistogram>> statements)
    {
        var children = new List<ChildInput>();
        for (var c = depth >= 3 ? 0 : rng.Next(0, 4); c > 0; c--)
        {
            var child = BuildRatingTree(rng, $"{id}.{c}", depth + 1, year, statements);
            Assert.Null(SummaryChecks.Check(child, s_catalogue, year.EndInstant));
            children.Add(new ChildInput(child.NodeId, child, Digests.Sha256(child.ToByteArray()), DateTimeOffset.UnixEpoch, 1));
        }

        OwnRating? own = null;
        if (rng.Next(3) > 0)
        {
            var tiers = new[] { "village", "township", "county" };
            var units = Enumerable.Range(0, rng.Next(1, 12)).Select(i => new UnitRating { UnitId = $"{id}-u{i}", Tier = tiers[rng.Next(tiers.Length)], Stars = (uint)rng.Next(0, 6) }).ToList();
            var histograms = StarHistograms.Of(units);
            statements.Add(histograms);
            own = new OwnRating(new RatingCitation { Version = 1, Digest = Google.Protobuf.ByteString.CopyFrom(new byte[32]), RatedUnitCount = (uint)units.Count }, histograms);
        }

        return SummaryBuilder.Build(new SummaryInputs(id, "tier" + depth, year, 1, DateTimeOffset.UnixEpoch, s_catalogue, [], children) { Rating = own });
    }

    private static IReadOnlyList<StarHistogram> RandomHistograms(Random rng) =>
        StarHistograms.Merge(Enumerable.Range(0, rng.Next(0, 4)).Select(_ => StarHistograms.Of(Enumerable.Range(0, rng.Next(1, 8))
            .Select(i => new UnitRating { UnitId = $"u{i}", Tier = rng.Next(2) == 0 ? "village" : "township", Stars = (uint)rng.Next(0, 6) }))));

    private static void ForEachSeed(Action<Random> property) => PropertySeeds.ForEach(s_baseSeed, Rounds, property);

    private static IReadOnlyList<IndicatorAggregate> RandomAggregates(Random rng) =>
        Aggregates.MergeAll(Enumerable.Range(0, rng.Next(0, 5)).Select(_ => Aggregates.FromReport(s_catalogue, Reports.Random(rng, complete: false))));

    /// <summary>A node hosting some leaves itself and passing the rest to 0–3 random child subtrees.</summary>
    private static Summary BuildRandomTree(Random rng, List<(string Id, List<IndicatorValue> Values)> leaves, string id, int depth)
    {
        var hostedCount = depth >= 4 || leaves.Count <= 1 ? leaves.Count : rng.Next(0, leaves.Count + 1);
        var hosted = leaves.Take(hostedCount).Select(l =>
        {
            var report = new UnitReport { UnitId = l.Id, Period = s_period.ToString(), Version = 1, Values = { l.Values } };
            return new HostedUnitInput(l.Id, report, Digests.Sha256(report.ToByteArray()));
        }).ToList();
        var rest = leaves.Skip(hostedCount).ToList();
        var children = new List<ChildInput>();
        var groupCount = rest.Count == 0 ? 0 : rng.Next(1, Math.Min(3, rest.Count) + 1);
        for (var g = 0; g < groupCount; g++)
        {
            var group = rest.Where((_, i) => i % groupCount == g).ToList();
            var child = BuildRandomTree(rng, group, $"{id}.{g}", depth + 1);
            children.Add(new ChildInput(child.NodeId, child, Digests.Sha256(child.ToByteArray()), DateTimeOffset.UnixEpoch, 0));
        }

        return SummaryBuilder.Build(new SummaryInputs(id, "tier" + depth, s_period, 1, DateTimeOffset.UnixEpoch, s_catalogue, hosted, children));
    }
}
