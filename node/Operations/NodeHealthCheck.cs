using Federation.Node.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Federation.Node.Operations;

/// <summary>
/// The node's health, as the gRPC health service (<c>grpc.health.v1.Health</c>, service "") and
/// <c>/healthz</c> report it: SERVING from the moment the node has started until it begins to stop, and
/// NOT_SERVING once the store halted (a full disk: nothing more can be acknowledged, and the node is
/// stopping). It reads two flags, so a probe costs nothing and reveals nothing.
/// </summary>
internal sealed class NodeHealthCheck(StoreWriter writer, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public const string Name = "node";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            writer.ExitCode != 0 ? HealthCheckResult.Unhealthy("the store halted; the node is stopping.")
            : lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("the node is stopping.")
            : !lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Unhealthy("the node is starting.")
            : HealthCheckResult.Healthy());
}
