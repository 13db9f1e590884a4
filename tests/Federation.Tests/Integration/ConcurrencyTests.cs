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
        await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township")
        {
            HostedUnitIds = units,

            // A burst far above the per-caller limit: this test is about the store, not the limit.
            Settings = new Dictionary<string, string?> { ["Access:RequestsPerSecond"] = "100000", ["Access:Burst"] = "100000" },
        }, folder.Sub("node"));
        var periods = new[] { "2026-01", "2026-02", "2026-03" };

        var acks = new System.Collections.Concurrent.ConcurrentBag<(string Unit, string Period, ulong Version)>();
        var writers = Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 60; i++)
            {
                var request = new SubmitReportRequest { UnitId = units[(w + i) % units.Count], Period = periods[i % periods.Length], Values = { Reports.Count("party_members", i) } };
                var ack = await node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline());
                acks.Add((request.UnitId, request.Period, ack.Version));
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

        // Every unit and period holds as many versions as submissions were acknowledged, each version once.
        foreach (var group in acks.GroupBy(static a => (a.Unit, a.Period)))
        {
            Assert.Equal(Enumerable.Range(1, group.Count()).Select(static v => (ulong)v), group.Select(static a => a.Version).Order());
            var stored = await node.Reporting.GetReportAsync(new GetReportRequest { UnitId = group.Key.Unit, Period = group.Key.Period }, deadline: Rpc.Deadline());
            Assert.Equal((ulong)group.Count(), stored.Report.Version);
        }

        Assert.Equal(720, acks.Count);
        Assert.True(node.Logs.Errors.Count == 0, string.Join("\n", node.Logs.Errors));
    }
}
