using Federation.Aggregator.Catalogues;
using Federation.Node.Cli;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Demo;

/// <summary>The shipped sample sheet: one row per village, submitted to each village's own node.</summary>
internal static class SampleReports
{
    public const string Period = "2026-Q1";

    public static string SheetPath { get; } = Path.Combine(AppContext.BaseDirectory, "sample-data", Period + ".csv");

    /// <summary>Reads the sheet as a clerk's import would and submits each row to the village it names.</summary>
    public static async Task<int> SubmitAsync(NodeFleet fleet, NodeClient client, CancellationToken cancellationToken)
    {
        var rows = ReportFile.Read(SheetPath, CatalogueIndex.Default);
        var unknown = rows.Select(static r => r.UnitId).Where(id => !fleet.Hierarchy.Contains(id) || fleet.Hierarchy.ChildrenOf(id).Any()).ToList();
        if (unknown.Count > 0)
        {
            throw new DemoException($"{SheetPath} names units that are not demo villages: {string.Join(", ", unknown)}");
        }

        await Task.WhenAll(rows.Select(async row =>
        {
            var request = new SubmitReportRequest { UnitId = row.UnitId, Period = Period };
            request.Values.AddRange(row.Values);
            try
            {
                await client.SubmitReportAsync(fleet[row.UnitId].Address, fleet.Tokens[row.UnitId], request, cancellationToken);
            }
            catch (RpcException ex)
            {
                throw new DemoException($"village {row.UnitId} refused its report: {ex.StatusCode}: {ex.Status.Detail}\n{fleet[row.UnitId].LogTail()}");
            }
        }));
        return rows.Count;
    }
}
