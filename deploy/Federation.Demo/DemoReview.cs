using Federation.Protos.V1;
using Grpc.Core;
using Spectre.Console;

namespace Federation.Demo;

/// <summary>
/// The organisers' review (三级联审) on the running tree: the township returns the lagging village's
/// report with a reason, the village clerk reads it and corrects one figure, the township approves its
/// villages, the district approves the township, and the locked report then refuses another correction.
/// Every decision is signed by the node that made it; the correction reaches the city.
/// </summary>
internal sealed class DemoReview(NodeFleet fleet, NodeClient client, string period)
{
    private const string Reason = "满意度测评：满意人数与测评表不符，请核实后重报";
    private const string Corrected = "satisfaction_satisfied";
    private static readonly TimeSpan s_approvalTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs the review of <paramref name="village"/>'s township; returns false when a step does not behave as it must.</summary>
    public async Task<bool> RunAsync(string village, CancellationToken cancellationToken)
    {
        var hierarchy = fleet.Hierarchy;
        var township = hierarchy[village].ParentId!;
        var district = hierarchy[township].ParentId!;
        var city = hierarchy.Root.Id;
        var organiser = new ReviewService.ReviewServiceClient(client.Channel(fleet[township].Address, fleet.ReviewerTokens[township]));
        var clerkChannel = client.Channel(fleet[village].Address, fleet.Tokens[village]);
        AnsiConsole.MarkupLine($"[bold]Review (三级联审)[/] at township {Markup.Escape(township)}, reviewer demo-reviewer-{Markup.Escape(township)}:");

        var returned = await organiser.ReturnReportAsync(new ReturnReportRequest { UnitId = village, Period = period, Reason = Reason },
            deadline: Deadline(), cancellationToken: cancellationToken);
        var status = await new ReviewService.ReviewServiceClient(clerkChannel).GetReviewStatusAsync(
            new GetReviewStatusRequest { UnitId = village, Period = period }, deadline: Deadline(), cancellationToken: cancellationToken);
        AnsiConsole.MarkupLine($"  returned {Markup.Escape(village)} (signed decision, key {Markup.Escape(returned.Decision.KeyId)}); the clerk sees: " +
                               $"{status.Status} — {Markup.Escape(status.Reason)}");
        if (status.Status != ReviewStatus.Returned || status.Reason != Reason)
        {
            return Fail("the village clerk does not see the return and its reason");
        }

        var before = await CityTotalAsync(city, cancellationToken);
        var reporting = new ReportingService.ReportingServiceClient(clerkChannel);
        var report = (await reporting.GetReportAsync(new GetReportRequest { UnitId = village, Period = period },
            deadline: Deadline(), cancellationToken: cancellationToken)).Report;
        var satisfied = report.Values.Single(static v => v.IndicatorId == Corrected).Count;
        var surveyed = report.Values.Single(static v => v.IndicatorId == "satisfaction_surveyed").Count;
        var recount = satisfied + 2 <= surveyed ? satisfied + 2 : satisfied - 1;
        var correction = await reporting.SubmitReportAsync(new SubmitReportRequest
        {
            UnitId = village, Period = period, Mode = SubmitMode.Update,
            Values = { new IndicatorValue { IndicatorId = Corrected, Count = recount } },
        }, deadline: Deadline(), cancellationToken: cancellationToken);
        AnsiConsole.MarkupLine($"  the clerk corrects with --update: 满意人数 {satisfied} → {recount}, version {correction.Version}");

        foreach (var each in hierarchy.ChildrenOf(township))
        {
            await ApproveVillageAsync(organiser, each.Id, cancellationToken);
        }

        AnsiConsole.MarkupLine($"  approved the {hierarchy.ChildrenOf(township).Count()} villages of {Markup.Escape(township)}");
        await ApproveTownshipAsync(district, township, cancellationToken);
        AnsiConsole.MarkupLine($"  district {Markup.Escape(district)} approved township {Markup.Escape(township)} once all " +
                               $"{hierarchy.LeafCountUnder(township)} villages below it were approved (signed, delivered to the township)");

        try
        {
            await reporting.SubmitReportAsync(new SubmitReportRequest
            {
                UnitId = village, Period = period, Mode = SubmitMode.Update,
                Values = { new IndicatorValue { IndicatorId = Corrected, Count = satisfied } },
            }, deadline: Deadline(), cancellationToken: cancellationToken);
            return Fail("a correction after approval was accepted");
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            AnsiConsole.MarkupLine($"  another correction is refused: {Markup.Escape(ex.Status.Detail)}");
        }

        var expected = before + (recount - satisfied);
        var after = await WaitForCityTotalAsync(city, expected, cancellationToken);
        if (after != expected)
        {
            return Fail($"the city's 满意人数 is {after}, not {expected}");
        }

        AnsiConsole.MarkupLine($"  the city's 满意人数 moved {before} → {after}, exactly the correction");
        return true;
    }

    // A village running its own node sends its correction up in its next summary; until that arrives the township holds
    // the report it returned, which may not be approved.
    private Task ApproveVillageAsync(ReviewService.ReviewServiceClient organiser, string village, CancellationToken cancellationToken) =>
        UntilAcceptedAsync(async () => await organiser.ApproveReportAsync(new ApproveReportRequest { UnitId = village, Period = period },
            deadline: Deadline(), cancellationToken: cancellationToken), TimeSpan.FromMilliseconds(200), cancellationToken);

    // The villages' approvals travel up in their next summaries; until they arrive the district may not approve.
    private Task ApproveTownshipAsync(string district, string township, CancellationToken cancellationToken)
    {
        var reviewer = new ReviewService.ReviewServiceClient(client.Channel(fleet[district].Address, fleet.ReviewerTokens[district]));
        return UntilAcceptedAsync(async () => await reviewer.ApproveChildAsync(new ApproveChildRequest { NodeId = township, Period = period },
            deadline: Deadline(), cancellationToken: cancellationToken), TimeSpan.FromMilliseconds(500), cancellationToken);
    }

    /// <summary>Makes <paramref name="call"/> until it is not refused as premature (FailedPrecondition), for at most a minute.</summary>
    private static async Task UntilAcceptedAsync(Func<Task> call, TimeSpan pause, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && clock.Elapsed < s_approvalTimeout)
            {
                await Task.Delay(pause, cancellationToken);
            }
        }
    }

    private async Task<long> CityTotalAsync(string city, CancellationToken cancellationToken)
    {
        var totals = await client.GetTotalsAsync(fleet[city].Address, fleet.Tokens[city], period, cancellationToken);
        return totals.Totals.Single(static t => t.Indicator.Id == Corrected).Aggregate.Total;
    }

    private async Task<long> WaitForCityTotalAsync(string city, long expected, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var total = await CityTotalAsync(city, cancellationToken);
            if (total == expected || clock.Elapsed > s_approvalTimeout)
            {
                return total;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
        }
    }

    private static bool Fail(string what)
    {
        AnsiConsole.MarkupLine($"[red]review: {Markup.Escape(what)}[/]");
        return false;
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);
}
