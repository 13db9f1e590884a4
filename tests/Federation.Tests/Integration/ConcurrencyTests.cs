using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>Reads racing the writer must never corrupt the store (LiteDB 5.0.20 does, without the store's gate).</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task ReadsAndWrites_ManyAtOnce_AllSucceedAndNothingIsLogged()
    {
        using var folder = new TempFolder();
        var units = Enumerable.Range(1, 20).Select(static u => $"370113001{u:D3}").ToList();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { HostedUnitIds = units }, folder.Sub("node"));
        var periods = new[] { "2026-01", "2026-02", "2026-03" };

        var writers = Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                var request = new SubmitReportRequest { UnitId = units[(w + i) % units.Count], Period = periods[i % periods.Length], Values = { Reports.Count("party_members", i) } };
                await node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline());
            }
        }));
        var readers = Enumerable.Range(0, 12).Select(r => Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                await node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
                await node.Query.GetDrillDownAsync(new GetDrillDownRequest { Period = periods[(r + i) % periods.Length] }, deadline: Rpc.Deadline());
            }
        }));
        await Task.WhenAll(writers.Concat(readers));

        var status = await node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Equal(20u, status.HostedUnitCount);
        Assert.True(node.Logs.Errors.Count == 0, string.Join("\n", node.Logs.Errors));
    }
}
