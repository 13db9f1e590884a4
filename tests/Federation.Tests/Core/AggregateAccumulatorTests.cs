using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Core;

/// <summary>
/// The one-pass accumulator against the pairwise merge it replaced (kept below as the oracle): the same
/// aggregates, field for field, for valid inputs and for odd ones a merge still accepts (ids outside the
/// catalogue, unsorted or repeated categories, empty measures, a lone aggregate with stray fields).
/// </summary>
public sealed class AggregateAccumulatorTests
{
    private const int Rounds = 300;
    private static readonly int s_baseSeed = PropertySeeds.First(1949);
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;

    [Fact]
    public void MergeAll_RandomLists_EqualsPairwiseMerge()
    {
        ForEachSeed(rng =>
        {
            var lists = Enumerable.Range(0, rng.Next(0, 8)).Select(_ => RandomList(rng)).ToList();

            Assert.Equal(PairwiseMerge.MergeAll(lists), Aggregates.MergeAll(lists));
        });
    }

    [Fact]
    public void AddReport_RandomReportsAndLists_EqualsFromReportThenPairwiseMerge()
    {
        ForEachSeed(rng =>
        {
            var accumulator = new AggregateAccumulator(s_catalogue);
            var parts = new List<IReadOnlyList<IndicatorAggregate>>();
            for (var i = rng.Next(0, 12); i > 0; i--)
            {
                if (rng.Next(3) == 0)
                {
                    var list = RandomList(rng, catalogueOnly: true);
                    parts.Add(list);
                    accumulator.Add(list);
                }
                else
                {
                    var values = Reports.Random(rng, complete: rng.Next(2) == 0);
                    parts.Add(Aggregates.FromReport(s_catalogue, values));
                    accumulator.AddReport(values);
                }
            }

            Assert.Equal(PairwiseMerge.MergeAll(parts), accumulator.ToList());
        });
    }

    [Fact]
    public void BuildSummary_ReportsTypingLedgerCounts_MergesThemWithoutThoseValues()
    {
        var computed = s_catalogue.LedgerIndicators.Values.ToList();
        Assert.NotEmpty(computed);
        ForEachSeed(rng =>
        {
            var reports = Enumerable.Range(0, rng.Next(1, 6)).Select(i =>
            {
                var values = Reports.Random(rng, complete: rng.Next(2) == 0);
                foreach (var id in computed.Where(_ => rng.Next(2) == 0))
                {
                    values.Insert(rng.Next(values.Count + 1), Reports.Count(id, rng.Next(0, 9)));
                }

                return new UnitReport { UnitId = $"u{i}", Period = "2026-Q1", Version = 1, Values = { values } };
            }).ToList();
            var expected = PairwiseMerge.MergeAll(reports.Select(static r =>
                Aggregates.FromReport(s_catalogue, Federation.Aggregator.Ledger.LedgerTallies.WithoutComputed(s_catalogue, r.Values))));

            var summary = Federation.Aggregator.Summaries.SummaryBuilder.Build(new Federation.Aggregator.Summaries.SummaryInputs(
                "370113001", "township", Federation.Aggregator.Periods.Period.Quarter(2026, 1), 1, DateTimeOffset.UnixEpoch, s_catalogue,
                [.. reports.Select(static r => new Federation.Aggregator.Summaries.HostedUnitInput(r.UnitId, r, new byte[32]))], []));

            Assert.Equal(expected, summary.Aggregates);
        });
    }

    [Fact]
    public void Clear_AfterAMerge_StartsFromTheIdentity()
    {
        var rng = new Random(s_baseSeed);
        var accumulator = new AggregateAccumulator(s_catalogue);
        accumulator.AddReport(Reports.Random(rng));
        accumulator.Add(RandomList(rng));
        accumulator.Clear();
        var values = Reports.Random(rng);

        accumulator.AddReport(values);

        Assert.Equal(Aggregates.FromReport(s_catalogue, values), accumulator.ToList());
    }

    [Fact]
    public void AddReport_RepeatedIndicator_MergesBothAndTheRatioTakesTheLast()
    {
        var values = new List<IndicatorValue>(Reports.Random(new Random(s_baseSeed)));
        var ratio = s_catalogue.Ratios[0].Ratio;
        values.Add(Reports.Count(ratio.DenominatorIndicatorId, 1_000));
        var accumulator = new AggregateAccumulator(s_catalogue);

        accumulator.AddReport(values);

        Assert.Equal(PairwiseMerge.MergeAll([Aggregates.FromReport(s_catalogue, values)]), accumulator.ToList());
    }

    [Fact]
    public void Add_KindsDiffer_ThrowsAsThePairwiseMerge()
    {
        var a = new IndicatorAggregate { IndicatorId = "party_members", Kind = ValueKind.Count, UnitCount = 1, Total = 3 };
        var b = new IndicatorAggregate { IndicatorId = "party_members", Kind = ValueKind.Measure, UnitCount = 1, Total = 3, Min = 3, Max = 3 };

        var expected = Assert.Throws<ArgumentException>(() => PairwiseMerge.MergeAll([[a], [b]]));
        var actual = Assert.Throws<ArgumentException>(() => Aggregates.MergeAll([[a], [b]]));

        Assert.Equal(expected.Message, actual.Message);
    }

    [Fact]
    public void AddReport_UnknownIndicator_ThrowsAsFromReport()
    {
        List<IndicatorValue> values = [Reports.Count("no_such_indicator", 1)];

        var expected = Assert.Throws<ArgumentException>(() => Aggregates.FromReport(s_catalogue, values));
        var actual = Assert.Throws<ArgumentException>(() => new AggregateAccumulator(s_catalogue).AddReport(values));

        Assert.Equal(expected.Message, actual.Message);
    }

    [Fact]
    public void Add_TotalsOverflow_Throws()
    {
        var a = new IndicatorAggregate { IndicatorId = "party_members", Kind = ValueKind.Count, UnitCount = 1, Total = long.MaxValue };

        Assert.Throws<OverflowException>(() => Aggregates.MergeAll([[a], [a]]));
    }

    /// <summary>Aggregates of a few random reports, then roughened: stray ids, odd categories, empty measures, stray fields.</summary>
    private static List<IndicatorAggregate> RandomList(Random rng, bool catalogueOnly = false)
    {
        var list = Aggregates.MergeAll(Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Aggregates.FromReport(s_catalogue, Reports.Random(rng, complete: false))))
            .Select(static a => a.Clone()).Where(_ => rng.Next(5) > 0).ToList();
        foreach (var a in list)
        {
            switch (rng.Next(8))
            {
                case 0 when a.Kind == ValueKind.Category && a.Categories.Count > 0:
                    a.Categories.Add(new CategoryCount { Code = a.Categories[0].Code, UnitCount = (uint)rng.Next(0, 3) });
                    a.Categories.Add(new CategoryCount { Code = "zz-" + rng.Next(3), UnitCount = 0 });
                    break;
                case 1 when a.Kind == ValueKind.Measure:
                    (a.UnitCount, a.Total, a.Min, a.Max) = (0, 0, 0, 0);
                    break;
                case 2 when a.Kind != ValueKind.Measure:
                    (a.Min, a.Max) = (rng.Next(5), rng.Next(5, 10));
                    break;
                case 3:
                    a.Categories.Add(new CategoryCount { Code = "b", UnitCount = 1 });
                    a.Categories.Add(new CategoryCount { Code = "a", UnitCount = 2 });
                    break;
            }
        }

        if (!catalogueOnly && rng.Next(3) == 0)
        {
            list.Add(new IndicatorAggregate { IndicatorId = "local_" + rng.Next(3), Kind = ValueKind.Count, UnitCount = 1, Total = rng.Next(100) });
            list.Add(new IndicatorAggregate { IndicatorId = "a_local", Kind = ValueKind.Measure, UnitCount = (uint)rng.Next(2), Min = 1, Max = rng.Next(1, 9), Total = 4 });
        }

        return list;
    }

    private static void ForEachSeed(Action<Random> property) => PropertySeeds.ForEach(s_baseSeed, Rounds, property);

    /// <summary>The merge as it was first written: a new aggregate per merge, a sorted dictionary per category merge.</summary>
    private static class PairwiseMerge
    {
        public static IReadOnlyList<IndicatorAggregate> MergeAll(IEnumerable<IReadOnlyList<IndicatorAggregate>> lists)
        {
            var merged = new SortedDictionary<string, IndicatorAggregate>(StringComparer.Ordinal);
            foreach (var list in lists)
            {
                foreach (var item in list)
                {
                    merged[item.IndicatorId] = merged.TryGetValue(item.IndicatorId, out var existing) ? MergeOne(existing, item) : item.Clone();
                }
            }

            return [.. merged.Values];
        }

        private static IndicatorAggregate MergeOne(IndicatorAggregate a, IndicatorAggregate b)
        {
            if (a.Kind != b.Kind)
            {
                throw new ArgumentException($"Indicator '{a.IndicatorId}' is {a.Kind} on one side and {b.Kind} on the other.", nameof(b));
            }

            var result = new IndicatorAggregate
            {
                IndicatorId = a.IndicatorId,
                Kind = a.Kind,
                UnitCount = checked(a.UnitCount + b.UnitCount),
                Total = checked(a.Total + b.Total),
                DenominatorTotal = checked(a.DenominatorTotal + b.DenominatorTotal),
                MeetingTargetCount = checked(a.MeetingTargetCount + b.MeetingTargetCount),
            };

            if (a.Kind == ValueKind.Measure)
            {
                (result.Min, result.Max) = (a.UnitCount, b.UnitCount) switch
                {
                    (0, _) => (b.Min, b.Max),
                    (_, 0) => (a.Min, a.Max),
                    _ => (Math.Min(a.Min, b.Min), Math.Max(a.Max, b.Max)),
                };
            }

            if (a.Categories.Count > 0 || b.Categories.Count > 0)
            {
                var counts = new SortedDictionary<string, uint>(StringComparer.Ordinal);
                foreach (var c in a.Categories.Concat(b.Categories))
                {
                    counts[c.Code] = checked(counts.GetValueOrDefault(c.Code) + c.UnitCount);
                }

                result.Categories.AddRange(counts.Select(static kv => new CategoryCount { Code = kv.Key, UnitCount = kv.Value }));
            }

            return result;
        }
    }
}
