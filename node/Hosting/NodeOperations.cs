using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Federation.Node.Configuration;
using Federation.Node.Operations;
using Federation.Node.Security;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Federation.Node.Hosting;

/// <summary>Where the operations listener binds, decided from the settings before the host is built; null when it is off.</summary>
internal sealed record OperationsPlan(IPAddress Address, int Port)
{
    public static OperationsPlan? Decide(OperationsOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Listen))
        {
            return null;
        }

        // Plain HTTP by design: what scrapers and HTTP probes speak, and what carries nothing but counts and a status.
        if (!Uri.TryCreate(options.Listen, UriKind.Absolute, out var listen) || listen.Scheme != Uri.UriSchemeHttp || listen.AbsolutePath != "/")
        {
            throw new TransportConfigurationException(
                $"Operations:Listen '{options.Listen}' must be an http:// address with a port, such as http://127.0.0.1:9464 (it serves /metrics and /healthz only).");
        }

        if (listen.Host == "localhost")
        {
            return new OperationsPlan(IPAddress.Loopback, listen.Port);
        }

        return IPAddress.TryParse(listen.Host.Trim('[', ']'), out var address)
            ? new OperationsPlan(address, listen.Port)
            : throw new TransportConfigurationException(
                $"Operations:Listen '{options.Listen}' must name an IP address (127.0.0.1, or 0.0.0.0 for all), not a host name.");
    }
}

/// <summary>
/// The operations surface of every node: the standard gRPC health service and server reflection on its
/// own listeners, and, when Operations:Listen names an address, a plain HTTP/1.1 listener with
/// Prometheus metrics (<c>/metrics</c>) and the same health as HTTP (<c>/healthz</c>).
/// </summary>
internal static class NodeOperations
{
    /// <summary>Set on connections accepted by the operations listener (connection items), never by a request.</summary>
    public const string ConnectionMarker = "federation.operations";

    public const string MetricsPath = "/metrics";

    public const string HealthPath = "/healthz";

    /// <summary>Meters exported besides the node's own: per-RPC request counts and durations, connections, rate-limit refusals, the runtime.</summary>
    private static readonly string[] s_platformMeters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting", "System.Runtime"];

    public static IServiceCollection AddNodeOperations(this IServiceCollection services, OperationsPlan? plan, string nodeId)
    {
        services.AddSingleton<NodeMetrics>();
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<NodeHealthCheck>(NodeHealthCheck.Name);
        if (plan is null)
        {
            // No listener, no exporter: the instruments exist, but nothing listens to them.
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("federation-node", serviceInstanceId: nodeId))
            .WithMetrics(static metrics =>
            {
                metrics.AddMeter([NodeMetrics.MeterName, .. s_platformMeters]);
                ((IDeferredMeterProviderBuilder)metrics).Configure(static (sp, builder) =>
                {
                    // A meter listener hears every meter of its name in the process. Meters made by another host's
                    // factory belong to another node (tests run several in one process): not ours to count.
                    var factory = sp.GetRequiredService<IMeterFactory>();
                    builder.AddView(instrument => instrument.Meter.Scope is { } scope && !ReferenceEquals(scope, factory)
                        ? MetricStreamConfiguration.Drop
                        : null);
                });
                metrics.AddPrometheusExporter();
            });
        return services;
    }

    /// <summary>
    /// The operations listener's whole pipeline, ahead of authentication: /metrics, /healthz, and 404 for
    /// anything else, so that no gRPC call (and no token) is ever served over its plain HTTP.
    /// </summary>
    public static WebApplication UseNodeOperationsListener(this WebApplication app)
    {
        app.MapWhen(static context => context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ConnectionMarker) == true, static operations =>
        {
            if (operations.ApplicationServices.GetService<MeterProvider>() is not null)
            {
                operations.UseOpenTelemetryPrometheusScrapingEndpoint(MetricsPath);
            }

            operations.UseHealthChecks(HealthPath, new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
            operations.Run(static context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });
        return app;
    }

    /// <summary>
    /// gRPC health for anyone, without a credential: an orchestrator's probe has none, and the answer is one
    /// status. Reflection for people only (any role's token, or the admin socket): it lists the API, which is
    /// public in protos/, but strangers and peer nodes have no use for a map of the surface.
    /// </summary>
    public static WebApplication MapNodeOperations(this WebApplication app)
    {
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcReflectionService().RequireAuthorization(Policies.Person);
        return app;
    }

    /// <summary>The gRPC health names, so that an HTTP probe and a gRPC client read the same word.</summary>
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(report.Status == HealthStatus.Unhealthy ? "NOT_SERVING\n" : "SERVING\n", Encoding.UTF8);
    }
}
