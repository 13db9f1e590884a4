using System.Diagnostics;
using Federation.Node.Configuration;
using Federation.Node.Security;
using Microsoft.AspNetCore.Server.Kestrel.Https;
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
        var tls = builder.Configuration.GetSection(TlsOptions.SectionName).Get<TlsOptions>() ?? new TlsOptions();
        var access = builder.Configuration.GetSection(AccessOptions.SectionName).Get<AccessOptions>() ?? new AccessOptions();
        var plan = ListenerPlan.Decide(options, tls);
        OwnerOnlyFiles.Apply(options.DataPath);
        var certificates = new NodeCertificates(tls, TimeProvider.System);
        var adminSocket = AdminSocket.PathFor(access, options.DataPath);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxReceiveMessageBytes + 1024;
            KestrelLimits.Apply(kestrel, builder.Configuration);
            kestrel.Listen(plan.Address, plan.Port, l =>
            {
                // With TLS, ALPN picks the protocol: gRPC clients ask for h2, browsers get the web page over
                // h2 or HTTP/1.1. Plaintext (loopback trials) stays HTTP/2 only, with prior knowledge, for
                // gRPC: the page needs TLS (its session cookie is Secure).
                l.Protocols = plan.UseTls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http2;
                if (plan.UseTls)
                {
                    l.UseHttps(https =>
                    {
                        https.ServerCertificate = certificates.Certificate;
                        // People call without a certificate; nodes present theirs. The chain is checked by the
                        // certificate handler against the deployment CA, not by the machine's trust store.
                        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                        https.ClientCertificateValidation = static (_, _, _) => true;
                        https.HandshakeTimeout = TimeSpan.FromSeconds(10);
                    });
                }
            });
            if (adminSocket is not null)
            {
                kestrel.ListenUnixSocket(adminSocket, static l =>
                {
                    l.Protocols = HttpProtocols.Http2;
                    l.Use(static next => connection =>
                    {
                        connection.Items[Schemes.LocalSocketMarker] = true;
                        return next(connection);
                    });
                });
            }
        });

        builder.Services.AddNodeCore(builder.Configuration).AddNodeRollup().AddNodeGrpc(builder.Configuration)
            .AddNodeSecurity(builder.Configuration, certificates);
        var web = Web.WebServiceCollectionExtensions.IsEnabled(builder.Configuration);
        if (web)
        {
            Web.WebServiceCollectionExtensions.AddNodeWeb(builder.Services, builder.Configuration, options.DataPath);
        }
        var exitWith = builder.Configuration.GetValue<int?>("Host:ExitWithProcessId");
        if (exitWith is { } pid)
        {
            builder.Services.AddHostedService(sp => new ProcessWatcher(pid, sp.GetRequiredService<IHostApplicationLifetime>()));
        }

        customize?.Invoke(builder);
        if (adminSocket is not null)
        {
            AdminSocket.Prepare(adminSocket, options.DataPath);
        }

        var app = builder.Build();
        if (web)
        {
            Web.WebServiceCollectionExtensions.UseNodeWeb(app);
        }

        app.UseNodeSecurity();

        // After the caller is known and admitted: a stranger's big request is refused before it is read.
        app.UseMiddleware<Grpc.LargeRequestGate>();
        app.MapNodeGrpc();
        if (web)
        {
            Web.WebServiceCollectionExtensions.MapNodeWeb(app);
        }

        app.Lifetime.ApplicationStarted.Register(() => AnnounceEndpoint(app, options.DataPath));
        if (adminSocket is not null)
        {
            app.Lifetime.ApplicationStarted.Register(() => AdminSocket.Restrict(adminSocket));
            app.Lifetime.ApplicationStopped.Register(() => AdminSocket.Remove(adminSocket));
        }
        return app;
    }

    /// <summary>The address the started node listens on.</summary>
    public static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(static a => !a.StartsWith("http://unix:", StringComparison.Ordinal));

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
