using System.Diagnostics;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Benchmarks.Fleet;

/// <summary>
/// Measurements over real node processes on loopback (see <see cref="CountyFleet"/>), with the settings
/// a deployment gets by default (50 ms coalescing quiet time, pull margins of 20% and at least 100 ms):
/// how long a clerk's submission takes to show in the county's totals; how long a pull with refresh takes
/// through three tiers (city → county → townships) and whether it is answered inside its deadline, also
/// with one township hung (SIGSTOP). The county's totals are checked against what was submitted.
/// </summary>
internal static class FleetBenchmark
{
    /// <summary>How often a watcher asks the county whether a submission shows: well inside the per-caller limit.</summary>
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromMinutes(5);

    public static async Task<IReadOnlyList<Measurement>> RunAsync(
        string root, BenchSettings settings, BenchPki pki, SampleReports samples, CatalogueIndex catalogue, Period quarter, TextWriter log)
    {
        using var fleet = await CountyFleet.StartAsync(root, pki, settings.FleetTownshipCount, settings.FleetVillagesPerTownship, m => log.WriteLine("  " + m));
        var period = quarter.ToString();
        var clerks = new Dictionary<string, ReportingService.ReportingServiceClient>(StringComparer.Ordinal);
        foreach (var township in fleet.TownshipIds)
        {
            var token = await IngestBenchmark.IssueTokenAsync(fleet[township].DataPath, Role.Clerk, township);
            clerks[township] = new ReportingService.ReportingServiceClient(fleet.Channel(township, token));
        }

        var county = new QueryService.QueryServiceClient(fleet.Channel(CountyFleet.CountyId, await IngestBenchmark.IssueTokenAsync(fleet[CountyFleet.CountyId].DataPath, Role.Reader, CountyFleet.CountyId)));
        var city = new QueryService.QueryServiceClient(fleet.Channel(CountyFleet.CityId, await IngestBenchmark.IssueTokenAsync(fleet[CountyFleet.CityId].DataPath, Role.Reader, CountyFleet.CityId)));

        // Every village's report, a few at a time per township, as clerks would send them.
        var submitted = new SubmittedTotals();
        var villages = fleet.TownshipIds.SelectMany((t, ti) => Enumerable.Range(0, fleet.VillagesPerTownship).Select(v => (Township: t, Id: CountyFleet.VillageId(t, v), Index: (ti * fleet.VillagesPerTownship) + v))).ToList();
        var fill = Stopwatch.StartNew();
        await Task.WhenAll(villages.GroupBy(static v => v.Township).Select(async group =>
        {
            foreach (var chunk in group.Chunk(16))
            {
                await Task.WhenAll(chunk.Select(v => SubmitAsync(clerks[v.Township], samples.Request(v.Id, period, v.Index), submitted)));
            }
        }));
        await WaitForCountyAsync(county, period, submitted, fleet);
        log.WriteLine($"  {villages.Count} village reports submitted and shown at the county in {fill.Elapsed.TotalSeconds:0.0} s");

        // Submission to county-visible: one correction at a time, the county watched until its total moves.
        var acknowledged = new List<double>();
        var visible = new List<double>();
        var deltas = new int[villages.Count];
        for (var k = 0; k < settings.VisibleSampleCount; k++)
        {
            var village = villages[(k * 37) % villages.Count];
            var request = samples.Request(village.Id, period, village.Index, ++deltas[village.Index]);
            var watch = Stopwatch.StartNew();
            await SubmitAsync(clerks[village.Township], request, submitted);
            acknowledged.Add(watch.Elapsed.TotalMilliseconds);
            var expected = submitted.Sum(SampleReports.PartyMembers);
            await WaitForCountyAsync(county, period, submitted, fleet, expected);
            visible.Add(watch.Elapsed.TotalMilliseconds);
        }

        log.WriteLine($"  submit acknowledged (durable at the township): p50 {Percentiles.Of(acknowledged, 0.5):0.0} ms; shown at the county: p50 {Percentiles.Of(visible, 0.5):0.0} ms, " +
            $"p99 {Percentiles.Of(visible, 0.99):0.0} ms ({visible.Count} corrections, watched every {s_pollInterval.TotalMilliseconds:0} ms)");

        // The county's totals against the independent sum of what was submitted.
        var totals = await county.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: IngestBenchmark.Deadline());
        var differences = submitted.Compare(totals, catalogue);
        if (differences.Count > 0)
        {
            throw new BenchmarkException($"the county's totals differ from what was submitted:\n  " + string.Join("\n  ", differences));
        }

        log.WriteLine($"  county totals equal the independent sums of the {submitted.UnitCount} reports submitted");

        // Pulls with refresh through three tiers, beside plain queries at the city (no refresh).
        await WaitForFreshPullAsync(city, county, period, settings.PullDeadline, fleet);
        var deadline = settings.PullDeadline;
        var queries = new List<double>();
        var pulls = new List<Pull>();
        for (var k = 0; k < settings.PullSampleCount; k++)
        {
            queries.Add((await TimedAsync(city, period, refresh: false, deadline)).Milliseconds);
            pulls.Add(await TimedAsync(city, period, refresh: true, deadline));
        }

        // One township hung: the process is stopped, its connections open, answering nothing.
        var hungId = fleet.TownshipIds[^1];
        var hung = new List<Pull>();
        var staleAtCounty = 0;
        fleet[hungId].Suspend();
        try
        {
            for (var k = 0; k < settings.HungPullSampleCount; k++)
            {
                hung.Add(await TimedAsync(city, period, refresh: true, deadline));
                var atCounty = await county.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: IngestBenchmark.Deadline());
                staleAtCounty += atCounty.Coverage.StaleChildren.Any(c => c.ChildId == hungId) ? 1 : 0;
            }
        }
        finally
        {
            fleet[hungId].Resume();
        }

        fleet.CheckAlive();
        log.WriteLine($"  pulls with refresh (deadline {deadline.TotalMilliseconds:N0} ms): p50 {Percentiles.Of(Times(pulls), 0.5):0.0} ms, p99 {Percentiles.Of(Times(pulls), 0.99):0.0} ms, " +
            $"{pulls.Count(static p => p.InDeadline)}/{pulls.Count} in time; plain queries p50 {Percentiles.Of(queries, 0.5):0.0} ms");
        log.WriteLine($"  with township {hungId} stopped: p50 {Percentiles.Of(Times(hung), 0.5):0.0} ms, p99 {Percentiles.Of(Times(hung), 0.99):0.0} ms, " +
            $"{hung.Count(static p => p.InDeadline)}/{hung.Count} in time; the county marked it stale after {staleAtCounty} of {hung.Count} pulls");

        var deadlineMs = deadline.TotalMilliseconds;
        return
        [
            new("fleet.county_visible.p50", "ms", Percentiles.Of(visible, 0.5), "fleet.submit_acknowledged.p50", Percentiles.Of(acknowledged, 0.5), null),
            new("fleet.county_visible.p99", "ms", Percentiles.Of(visible, 0.99), "fleet.submit_acknowledged.p99", Percentiles.Of(acknowledged, 0.99), null),
            new("fleet.pull_refresh.p50", "ms", Percentiles.Of(Times(pulls), 0.5), "fleet.query_city.p50", Percentiles.Of(queries, 0.5), null),
            new("fleet.pull_refresh.p99", "ms", Percentiles.Of(Times(pulls), 0.99), "fleet.query_city.p99", Percentiles.Of(queries, 0.99), null),
            new("fleet.pull_refresh.in_deadline", "pulls", pulls.Count(static p => p.InDeadline), "fleet.pulls_made", pulls.Count, Goal.Minimum(1)),
            new("fleet.pull_hung_township.p50", "ms", Percentiles.Of(Times(hung), 0.5), "fleet.pull_deadline", deadlineMs, Goal.Maximum(1)),
            new("fleet.pull_hung_township.p99", "ms", Percentiles.Of(Times(hung), 0.99), "fleet.pull_deadline", deadlineMs, Goal.Maximum(1)),
            new("fleet.pull_hung_township.in_deadline", "pulls", hung.Count(static p => p.InDeadline), "fleet.pulls_made", hung.Count, Goal.Minimum(1)),

            // Freshness is visible: once the city has its answer, the county's own figures name the hung township stale.
            new("fleet.pull_hung_township.marked_stale", "pulls", staleAtCounty, "fleet.pulls_made", hung.Count, Goal.Minimum(1)),
        ];
    }

    private sealed record Pull(double Milliseconds, bool InDeadline);

    private static List<double> Times(IEnumerable<Pull> pulls) => [.. pulls.Select(static p => p.Milliseconds)];

    private static async Task SubmitAsync(ReportingService.ReportingServiceClient clerk, SubmitReportRequest request, SubmittedTotals submitted)
    {
        await clerk.SubmitReportAsync(request, deadline: IngestBenchmark.Deadline());
        submitted.Record(request.UnitId, [.. request.Values]);
    }

    /// <summary>One GetTotals at the city, timed; in the deadline when answered OK before it.</summary>
    private static async Task<Pull> TimedAsync(QueryService.QueryServiceClient city, string period, bool refresh, TimeSpan deadline)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await city.GetTotalsAsync(new GetTotalsRequest { Period = period, Refresh = refresh }, deadline: DateTime.UtcNow + deadline);
            watch.Stop();
            return new Pull(watch.Elapsed.TotalMilliseconds, watch.Elapsed <= deadline);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.DeadlineExceeded)
        {
            return new Pull(watch.Elapsed.TotalMilliseconds, false);
        }
    }

    /// <summary>Polls the county until it covers every submitted report with the party members total expected.</summary>
    private static async Task WaitForCountyAsync(QueryService.QueryServiceClient county, string period, SubmittedTotals submitted, CountyFleet fleet, long? partyMembers = null)
    {
        var expected = partyMembers ?? submitted.Sum(SampleReports.PartyMembers);
        var guard = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var totals = await county.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: IngestBenchmark.Deadline());
                var members = totals.Totals.FirstOrDefault(static t => t.Indicator.Id == SampleReports.PartyMembers)?.Aggregate?.Total;
                if (totals.Coverage?.ReportedLeafCount == submitted.UnitCount && members == expected)
                {
                    return;
                }
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
            {
                // No figures for the period yet.
            }

            if (guard.Elapsed > s_hangGuard)
            {
                fleet.CheckAlive();
                throw new BenchmarkException($"the county did not show {submitted.UnitCount} reports with {expected} party members within {s_hangGuard.TotalMinutes:0} min.\n{fleet[CountyFleet.CountyId].LogTail()}");
            }

            await Task.Delay(s_pollInterval);
        }
    }

    /// <summary>
    /// Waits until every child has announced where it answers pulls: a pull with refresh leaves no child
    /// stale at the city or the county.
    /// </summary>
    private static async Task WaitForFreshPullAsync(QueryService.QueryServiceClient city, QueryService.QueryServiceClient county, string period, TimeSpan deadline, CountyFleet fleet)
    {
        var guard = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var atCity = await city.GetTotalsAsync(new GetTotalsRequest { Period = period, Refresh = true }, deadline: DateTime.UtcNow + deadline);
                var atCounty = await county.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: IngestBenchmark.Deadline());
                if (atCity.Coverage.StaleChildren.Count == 0 && atCounty.Coverage.StaleChildren.Count == 0)
                {
                    return;
                }
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.DeadlineExceeded or StatusCode.NotFound or StatusCode.FailedPrecondition)
            {
                // Not yet.
            }

            if (guard.Elapsed > s_hangGuard)
            {
                fleet.CheckAlive();
                throw new BenchmarkException($"pulls with refresh still left children stale after {s_hangGuard.TotalMinutes:0} min.\n{fleet[CountyFleet.CountyId].LogTail()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}
