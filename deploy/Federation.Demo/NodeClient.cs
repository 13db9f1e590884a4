using System.Collections.Concurrent;
using System.Diagnostics;
using Federation.Node.Cli;
using Federation.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Demo;

/// <summary>The launcher's gRPC calls to its nodes: one channel per address, a deadline on every call.</summary>
internal sealed class NodeClient(string caPath) : IDisposable
{
    private static readonly TimeSpan s_callBudget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public async Task<SubmitReportResponse> SubmitReportAsync(string address, string token, SubmitReportRequest request, CancellationToken cancellationToken) =>
        await new ReportingService.ReportingServiceClient(Channel(address, token))
            .SubmitReportAsync(request, deadline: Deadline(), cancellationToken: cancellationToken);

    public async Task<GetTotalsResponse> GetTotalsAsync(string address, string token, string period, CancellationToken cancellationToken) =>
        await new QueryService.QueryServiceClient(Channel(address, token))
            .GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Deadline(), cancellationToken: cancellationToken);

    /// <summary>A channel that checks the node against the deployment CA and calls with <paramref name="token"/>.</summary>
    public GrpcChannel Channel(string address, string token) =>
        _channels.GetOrAdd(address + "|" + token, _ => CliConnection.Open(address, token, caPath));

    /// <summary>
    /// Polls a node's totals until every expected leaf below it has reported. Pushes travel up three
    /// tiers through each node's outbox, so the top sees the last village a moment after it reported.
    /// </summary>
    public async Task<GetTotalsResponse> WaitForCoverageAsync(
        string address, string token, string period, int leafCount, TimeSpan timeout, Action<string> progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = string.Empty;
        GetTotalsResponse? latest = null;
        while (true)
        {
            string seen;
            try
            {
                latest = await GetTotalsAsync(address, token, period, cancellationToken);
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

    /// <summary>Polls a node's totals until <paramref name="done"/> holds: figures a moment behind their cause (the ledger) arrive too.</summary>
    public async Task<GetTotalsResponse> WaitForTotalsAsync(
        string address, string token, string period, Func<GetTotalsResponse, bool> done, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var latest = await GetTotalsAsync(address, token, period, cancellationToken);
            if (done(latest))
            {
                return latest;
            }

            if (clock.Elapsed > timeout)
            {
                throw new DemoException($"timed out after {timeout.TotalSeconds:0} s waiting for {what} at {address}.");
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

    /// <summary>gRPC has no default deadline; without one a wedged node would hang the launcher.</summary>
    private static DateTime Deadline() => DateTime.UtcNow + s_callBudget;
}
