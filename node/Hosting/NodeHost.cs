using System.Diagnostics;
using System.Net;
using Federation.Node.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Federation.Node.Hosting;

/// <summary>Builds the node's web host: the composition root shared by `serve` and the tests.</summary>
public static class NodeHost
{
    /// <summary>The file in the data folder that holds the address the node listens on, once it does.</summary>
    public const string EndpointFileName = "node.endpoint";

    /// <summary>
    /// Builds a node. Configuration comes from (later wins) the JSON file, FEDERATION_-prefixed
    /// environment variables (FEDERATION_Node__Id), then <paramref name="overrides"/>.
    /// </summary>
    public static WebApplication Build(string? configFile, IReadOnlyDictionary<string, string?> overrides, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        if (!string.IsNullOrWhiteSpace(configFile))
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }

        builder.Configuration.AddEnvironmentVariables("FEDERATION_");
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddSimpleConsole(static o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });

        var options = builder.Configuration.GetSection(NodeOptions.SectionName).Get<NodeOptions>() ?? new NodeOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxReceiveMessageBytes + 1024;
            KestrelLimits.Apply(kestrel, builder.Configuration);
            if (Uri.TryCreate(options.Listen, UriKind.Absolute, out var listen))
            {
                var address = listen.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(listen.Host);
                kestrel.Listen(address, listen.Port, static l => l.Protocols = HttpProtocols.Http2);
            }
        });

        builder.Services.AddNodeCore(builder.Configuration).AddNodeRollup().AddNodeGrpc(builder.Configuration);
        var exitWith = builder.Configuration.GetValue<int?>("Host:ExitWithProcessId");
        if (exitWith is { } pid)
        {
            builder.Services.AddHostedService(sp => new ProcessWatcher(pid, sp.GetRequiredService<IHostApplicationLifetime>()));
        }

        customize?.Invoke(builder);
        var app = builder.Build();
        app.MapNodeGrpc();
        app.Lifetime.ApplicationStarted.Register(() => AnnounceEndpoint(app, options.DataPath));
        return app;
    }

    /// <summary>The address the started node listens on.</summary>
    public static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private static void AnnounceEndpoint(WebApplication app, string dataPath)
    {
        var address = ListeningAddress(app);
        app.Services.GetRequiredService<NodeEndpoint>().SetListening(address);
        var path = Path.Combine(dataPath, EndpointFileName);
        File.WriteAllText(path + ".tmp", address);
        File.Move(path + ".tmp", path, overwrite: true);
        HostLog.Listening(app.Logger, address);
    }

    /// <summary>Stops the node when the process that started it is gone, so no orphan outlives a launcher.</summary>
    private sealed class ProcessWatcher(int processId, IHostApplicationLifetime lifetime) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                using var process = Process.GetProcessById(processId);
                await process.WaitForExitAsync(stoppingToken);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lifetime.StopApplication();
        }
    }
}

/// <summary>Source-generated log messages of the host.</summary>
internal static partial class HostLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);
}
