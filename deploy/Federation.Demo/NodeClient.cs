using System.Collections.Concurrent;
using System.Diagnostics;
using Federation.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Demo;

/// <summary>The launcher's gRPC calls to its nodes: one channel per address, a deadline on every call.</summary>
internal sealed class NodeClient : IDisposable
{
    private static readonly TimeSpan s_callBudget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public async Task<SubmitReportResponse> SubmitReportAsync(string address, SubmitReportRequest request, CancellationToken cancellationToken) =>
        await new ReportingService.ReportingServiceClient(Channel(address))
            .SubmitReportAsync(request, deadline: Deadline(), cancellationToken: cancellationToken);

    public async Task<GetTotalsResponse> GetTotalsAsync(string address, string period, CancellationToken cancellationToken) =>
        await new QueryService.QueryServiceClient(Channel(address))
            .GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Deadline(), cancellationToken: cancellationToken);

    /// <summary>
    /// Polls a node's totals until every expected leaf below it has reported. Pushes travel up three
    /// tiers through each node's outbox, so the top sees the last village a moment after it reported.
    /// </summary>
    public async Task<GetTotalsResponse> WaitForCoverageAsync(
        string address, string period, int leafCount, TimeSpan timeout, Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = string.Empty;
        GetTotalsResponse? latest = null;
        while (true)
        {
            string seen;
            try
            {
                latest = await GetTotalsAsync(address, period, cancellationToken);
                var coverage = latest.Coverage ?? new Coverage();
                if (coverage.ReportedLeafCount == leafCount && coverage.ExpectedLeafCount == leafCount)
                {
                    progress($"{latest.DisplayName}: {coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount} villages reported ({clock.Elapsed.TotalSeconds:0.0} s)");
                    return latest;
                }

                seen = $"{latest.DisplayName}: {coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount} villages reported";
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                // NotFound: no summary for the period has reached the node yet.
                seen = $"waiting for figures ({ex.StatusCode}: {ex.Status.Detail})";
            }

            if (seen != last)
            {
                progress($"{seen} ({clock.Elapsed.TotalSeconds:0.0} s)");
                last = seen;
            }

            if (clock.Elapsed > timeout)
            {
                var coverage = latest?.Coverage;
                throw new DemoException(
                    $"timed out after {timeout.TotalSeconds:0} s waiting for {leafCount}/{leafCount} villages at {address}; last seen: {seen}" +
                    (coverage is null ? string.Empty
                        : $"; silent: [{string.Join(", ", coverage.SilentSourceIds)}], stale: [{string.Join(", ", coverage.StaleChildren.Select(static s => s.ChildId))}]"));
            }

            await Task.Delay(s_pollInterval, cancellationToken);
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        _channels.Clear();
    }

    private GrpcChannel Channel(string address) => _channels.GetOrAdd(address, static a => GrpcChannel.ForAddress(a));

    /// <summary>gRPC has no default deadline; without one a wedged node would hang the launcher.</summary>
    private static DateTime Deadline() => DateTime.UtcNow + s_callBudget;
}
