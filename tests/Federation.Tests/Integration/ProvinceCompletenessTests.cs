using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Signing;
using Federation.Node.Application;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Tests.Integration;

/// <summary>
/// A province-sized subtree: a province node whose four cities each host 25,000 villages, 100,000 leaves in all.
/// Three fifths reported on time, one fifth late, one fifth not at all. Completeness and targets asked at the
/// province walk the whole subtree over real gRPC, following every page of each city's answer, and page their
/// own: the pages hold every node, missing and late unit exactly once, with the counts of the generated truth.
/// The units and their reports are written through a test seam (one write per city, as 100,000 enrolments and
/// sheet rows through the API would take minutes of a CI machine); everything read is read through the public API.
/// </summary>
public sealed class ProvinceCompletenessTests
{
    private const string Province = "37";
    private const int CityCount = 4;
    private const int UnitsPerCity = 25_000;
    private const int OnTimePerCity = 15_000;
    private const int LatePerCity = 5_000;
    private const int PageSize = 5_000;

    /// <summary>A quarter long past, so that both the on-time and the late receive times are in the past.</summary>
    private static readonly Period s_period = Period.Parse("2026-Q2");

    private static string CityId(int c) => $"37{c + 1:D2}";

    private static string UnitId(int c, int u) => $"{CityId(c)}{u:D8}";

    /// <summary>Every seventh unit that reports says its venue is not up to standard: it lags that target.</summary>
    private static bool VenueShort(int u) => u % 7 == 0;

    [Fact]
    public async Task GetCompleteness_HundredThousandLeaves_EveryPageFollowedAndTheCountsAreTheTruth()
    {
        using var folder = new TempFolder();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var due = Timeliness.DueInstant(CatalogueIndex.Default, s_period)!.Value;

        // The cities answer the province (their parent by id) and have no address to push to: only the walk is read.
        var provinceKey = TestNode.CreateKey(folder.Sub(Province));
        var cityKeys = Enumerable.Range(0, CityCount).Select(c => TestNode.CreateKey(folder.Sub(CityId(c)))).ToList();
        var cities = new List<TestNode>();
        try
        {
            for (var c = 0; c < CityCount; c++)
            {
                cities.Add(await TestNode.StartAsync(new NodeSpec(CityId(c), "city") { ParentId = Province, ParentPublicKey = provinceKey }, folder.Sub(CityId(c))));
            }

            // A walk of 100,000 leaves on a loaded machine may take longer than the default budget of 10 seconds.
            var settings = new Dictionary<string, string?> { ["Pull:DefaultBudget"] = "00:02:00" };
            for (var c = 0; c < CityCount; c++)
            {
                settings[$"Node:Children:{c}:Address"] = cities[c].Address;
            }

            await using var province = await TestNode.StartAsync(new NodeSpec(Province, "province")
            {
                Children = [.. Enumerable.Range(0, CityCount).Select(c => (CityId(c), cityKeys[c]))],
                Settings = settings,
            }, folder.Sub(Province));
            await Task.WhenAll(cities.Select((city, c) => HostAsync(city, c, due, guard.Token)));

            var pages = new List<GetCompletenessResponse>();
            var request = new GetCompletenessRequest { Period = s_period.ToString(), PageSize = PageSize };
            do
            {
                var page = await province.Query.GetCompletenessAsync(request, deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: guard.Token);
                pages.Add(page);
                Assert.InRange(page.Nodes.Count + page.Missing.Count + page.Late.Count, 1, PageSize);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            var nodes = pages.SelectMany(static p => p.Nodes).ToList();
            var late = pages.SelectMany(static p => p.Late).ToList();

            // 5 nodes, 20,000 missing and 20,000 late: 40,005 entries, 5,000 a page.
            Assert.Equal(9, pages.Count);
            Assert.Equal([Province, .. Enumerable.Range(0, CityCount).Select(CityId)], nodes.Select(static n => n.NodeId));
            Assert.DoesNotContain(nodes, static n => n.Stale);
            Assert.Equal((100_000u, 80_000u, 60_000u), (nodes[0].ExpectedLeafCount, nodes[0].ReportedLeafCount, nodes[0].OnTimeLeafCount));
            Assert.All(nodes.Skip(1), static n => Assert.Equal((25_000u, 20_000u, 15_000u), (n.ExpectedLeafCount, n.ReportedLeafCount, n.OnTimeLeafCount)));
            Assert.Equal(Ids(static u => u >= OnTimePerCity + LatePerCity), pages.SelectMany(static p => p.Missing).Select(static l => l.UnitId));
            Assert.Equal(Ids(static u => u >= OnTimePerCity && u < OnTimePerCity + LatePerCity), late.Select(static l => l.UnitId));
            Assert.All(late, l => Assert.True(l.Reported && !l.OnTime && l.ReceiveTime.ToDateTimeOffset() > due, l.UnitId));
            Assert.All(pages, static p => Assert.Equal((5u, 20_000u, 20_000u), (p.NodeCount, p.MissingCount, p.LateCount)));

            var targets = await AllPages.GetTargetsAsync(province.Query, new GetTargetsRequest { Period = s_period.ToString(), PageSize = PageSize },
                () => new CallOptions(deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: guard.Token));
            var venue = targets.Targets.Single(static t => t.Indicator.Id == "venue_up_to_standard");
            var lagging = Ids(static u => u < OnTimePerCity + LatePerCity && VenueShort(u));
            Assert.Equal(lagging, venue.LaggingUnitIds);
            Assert.Equal((uint)lagging.Count, venue.LaggingUnitCount);
            Assert.Equal((uint)lagging.Count, targets.LaggingUnitCount);
            Assert.All(targets.Targets.Where(static t => t.Indicator.Id != "venue_up_to_standard"), static t => Assert.Empty(t.LaggingUnitIds));
            Assert.Empty(province.Logs.Errors);
            Assert.All(cities, static c => Assert.Empty(c.Logs.Errors));
        }
        finally
        {
            foreach (var city in cities)
            {
                await city.DisposeAsync();
            }
        }
    }

    /// <summary>The truth: units of every city whose index satisfies <paramref name="which"/>, sorted by id (city ids prefix their units').</summary>
    private static List<string> Ids(Func<int, bool> which) =>
        [.. Enumerable.Range(0, CityCount).SelectMany(c => Enumerable.Range(0, UnitsPerCity).Where(which).Select(u => UnitId(c, u)))];

    /// <summary>
    /// The test seam: a city's 25,000 hosted units and the reports of the first 20,000 in one write, stored as the
    /// node stores them (the serialized UnitReport, its digest, the time it was received): the first 15,000 received
    /// before the due date, the next 5,000 after it.
    /// </summary>
    private static async Task HostAsync(TestNode city, int c, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var units = Enumerable.Range(0, UnitsPerCity).Select(u => new UnitDocument { Id = UnitId(c, u), DisplayName = $"村{u}", AddedTicks = DateTime.UtcNow.Ticks }).ToList();
        var reports = Enumerable.Range(0, OnTimePerCity + LatePerCity).Select(u =>
        {
            var received = u < OnTimePerCity ? due - TimeSpan.FromDays(20) : due + TimeSpan.FromDays(20);
            var bytes = new UnitReport
            {
                UnitId = UnitId(c, u),
                Period = s_period.ToString(),
                Version = 1,
                ReceiveTime = Timestamp.FromDateTimeOffset(received),
                Values = { Reports.Count("party_members", 10 + (u % 50)), Reports.Flag("venue_up_to_standard", !VenueShort(u)) },
            }.ToByteArray();
            return new ReportDocument
            {
                Id = ReportDocument.KeyOf(UnitId(c, u), s_period.ToString()),
                UnitId = UnitId(c, u),
                Period = s_period.ToString(),
                Version = 1,
                Bytes = bytes,
                Digest = Digests.Sha256(bytes),
                ReceiveTicks = received.UtcTicks,
            };
        }).ToList();
        await city.Services.GetRequiredService<StoreWriter>().ExecuteAsync(context => context.Store.Units.Insert(units) + context.Store.Reports.Insert(reports), cancellationToken);
    }
}
