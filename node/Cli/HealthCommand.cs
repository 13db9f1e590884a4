using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;

namespace Federation.Node.Cli;

/// <summary>
/// `federation health`: the standard gRPC health check (grpc.health.v1.Health/Check), needing no token,
/// for a probe that runs inside the node's container or on an operator's machine. Exit 0 only on SERVING.
/// </summary>
internal static class HealthCommand
{
    public static Command Build()
    {
        var node = NodeCommandLine.NodeOption();
        var service = new Option<string?>("--service") { Description = "A service name; empty (the default) asks about the node as a whole" };
        var seconds = new Option<double>("--timeout") { Description = "Seconds to wait for the answer (default 5)", DefaultValueFactory = static _ => 5 };
        var command = new Command("health", "Ask a node whether it is serving (gRPC health; no token needed). Exit 0 on SERVING, 1 otherwise.")
        {
            node, service, seconds,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var status = HealthCheckResponse.Types.ServingStatus.Unknown;
            var exit = await NodeCommandLine.CallAsync(async () =>
            {
                using var channel = CliConnection.Open(parse, node);
                try
                {
                    var response = await new Health.HealthClient(channel).CheckAsync(
                        new HealthCheckRequest { Service = parse.GetValue(service) ?? string.Empty },
                        deadline: DateTime.UtcNow.AddSeconds(Math.Max(0.1, parse.GetValue(seconds))),
                        cancellationToken: cancellationToken);
                    status = response.Status;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    // The health protocol's answer for a service name the node does not know.
                    status = HealthCheckResponse.Types.ServingStatus.ServiceUnknown;
                }

                Console.WriteLine(Name(status));
            });
            return exit == 0 && status == HealthCheckResponse.Types.ServingStatus.Serving ? 0 : 1;
        });
        return command;
    }

    /// <summary>The status as grpc_health_probe and the health proto spell it.</summary>
    private static string Name(HealthCheckResponse.Types.ServingStatus status) => status switch
    {
        HealthCheckResponse.Types.ServingStatus.Serving => "SERVING",
        HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
        HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => "UNKNOWN",
    };
}
