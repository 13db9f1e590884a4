using Federation.Node.Application;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Tests.Integration;

/// <summary>
/// A parent reads a child's subtree page after page, under the caller's deadline. A township whose answer is longer
/// than one page (its units' names pass the 1 MiB a page may hold) is listed whole at the county; when it gives its
/// first page but not the next in time, the county lists it stale with the counts it last received, and none of its
/// units: never a part of them.
/// </summary>
public sealed class ChildPagesTests
{
    private const string County = "370113";
    private const string Township = "370113001";
    private const string Quarter = "2026-Q1";
    private const int UnitCount = 12;

    /// <summary>Names of 40,000 Chinese characters (120 KB in UTF-8): twelve units take about 1.4 MiB, more than one page.</summary>
    private static string NameOf(int i) => $"{i:D2}" + new string((char)('甲' + i), 40_000);

    private static string Unit(int i) => $"{Township}{i:D3}";

    [Fact]
    public async Task GetCompleteness_ChildAnswerLongerThanAPage_ListedWholeOrStaleNeverInPart()
    {
        using var folder = new TempFolder();
        var stall = new StallLaterPages();
        var countyKey = TestNode.CreateKey(folder.Sub(County));
        var townshipKey = TestNode.CreateKey(folder.Sub(Township));
        await using var county = await TestNode.StartAsync(new NodeSpec(County, "county") { Children = [(Township, townshipKey)] }, folder.Sub(County));
        var names = new Dictionary<string, string?>();
        for (var i = 0; i < UnitCount; i++)
        {
            names[$"Node:HostedUnits:{i}:DisplayName"] = NameOf(i + 1);
        }

        await using var township = await TestNode.StartAsync(new NodeSpec(Township, "township")
        {
            ParentAddress = county.Address,
            ParentId = County,
            ParentPublicKey = countyKey,
            HostedUnitIds = [.. Enumerable.Range(1, UnitCount).Select(Unit)],
            Settings = names,
            Customize = builder =>
            {
                builder.Services.AddSingleton(stall);
                builder.Services.Configure<GrpcServiceOptions>(static o => o.Interceptors.Add<StallingInterceptor>());
            },
        }, folder.Sub(Township));
        await township.Reporting.SubmitReportAsync(new SubmitReportRequest
        {
            UnitId = Unit(1), Period = Quarter, Values = { Reports.Count("party_members", 30) },
        }, deadline: Rpc.Deadline());
        await TestHierarchy.WaitForTotalsAsync(county, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the county to hold the township's summary");

        var own = await AllPages.GetSubtreeStatusAsync(township.FederationAs(County), new GetSubtreeStatusRequest { Period = Quarter, PageSize = 10_000 },
            static () => new CallOptions(deadline: Rpc.Deadline()));
        var first = await township.FederationAs(County).GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = Quarter, PageSize = 10_000 }, deadline: Rpc.Deadline());
        Assert.NotEqual(string.Empty, first.NextPageToken);
        Assert.True(first.Leaves.Count < UnitCount, "the township's answer takes more than one page");

        var whole = await AllPages.GetCompletenessAsync(county.Query, new GetCompletenessRequest { Period = Quarter }, static () => new CallOptions(deadline: Rpc.Deadline()));

        Assert.Equal([County, Township], whole.Nodes.Select(static n => n.NodeId));
        Assert.DoesNotContain(whole.Nodes, static n => n.Stale);
        Assert.Equal(Enumerable.Range(2, UnitCount - 1).Select(Unit), whole.Missing.Select(static l => l.UnitId));
        Assert.Equal(Enumerable.Range(2, UnitCount - 1).Select(NameOf), whole.Missing.Select(static l => l.DisplayName));
        Assert.Equal(own.Leaves.Where(static l => !l.Reported), whole.Missing);
        Assert.Equal((12u, 1u), (whole.Nodes[0].ExpectedLeafCount, whole.Nodes[0].ReportedLeafCount));

        stall.Enabled = true;
        var cut = await AllPages.GetCompletenessAsync(county.Query, new GetCompletenessRequest { Period = Quarter },
            static () => new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)));

        var stale = cut.Nodes.Single(static n => n.NodeId == Township);
        Assert.True(stale.Stale);
        Assert.NotNull(stale.AsOfTime);
        Assert.Equal((12u, 1u), (stale.ExpectedLeafCount, stale.ReportedLeafCount));
        Assert.Empty(cut.Missing);
        Assert.Empty(cut.Late);
        Assert.Equal((12u, 1u), (cut.Nodes[0].ExpectedLeafCount, cut.Nodes[0].ReportedLeafCount));
        Assert.True(stall.Stalled > 0, "the township was asked for a later page and did not give it");
        Assert.Empty(county.Logs.Errors);
        Assert.Empty(township.Logs.Errors);
    }

    /// <summary>Whether the township stalls every page of its subtree after the first.</summary>
    private sealed class StallLaterPages
    {
        private int _stalled;

        public volatile bool Enabled;

        public int Stalled => Volatile.Read(ref _stalled);

        public void Count() => Interlocked.Increment(ref _stalled);
    }

    /// <summary>Holds a GetSubtreeStatus call with a page token until the caller gives up, while stalling is on.</summary>
    private sealed class StallingInterceptor(StallLaterPages stall) : Interceptor
    {
        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            if (stall.Enabled && request is GetSubtreeStatusRequest { PageToken.Length: > 0 })
            {
                stall.Count();
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }

            return await continuation(request, context);
        }
    }
}
