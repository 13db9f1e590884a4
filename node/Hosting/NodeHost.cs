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
        // The content root is the program's folder, never the working directory: a node started from its data
        // folder would otherwise have the settings watcher woken by every write to its database.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });

        // First, so that every other source (the file, FEDERATION_Logging__LogLevel__…, overrides) can change them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = s_logLevels });
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
        var operations = OperationsPlan.Decide(builder.Configuration.GetSection(OperationsOptions.SectionName).Get<OperationsOptions>() ?? new OperationsOptions());
        var listeners = new Listeners();
        builder.Services.AddSingleton(listeners);
        OwnerOnlyFiles.Apply(options.DataPath);
        var certificates = new NodeCertificates(tls, TimeProvider.System);
        var adminSocket = AdminSocket.PathFor(access, options.DataPath);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxReceiveMessageBytes + 1024;
            KestrelLimits.Apply(kestrel, builder.Configuration);
            kestrel.Listen(plan.Address, plan.Port, l =>
            {
                listeners.Main = l;
                listeners.MainScheme = plan.UseTls ? "https" : "http";

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

            if (operations is not null)
            {
                kestrel.Listen(operations.Address, operations.Port, l =>
                {
                    listeners.Operations = l;

                    // HTTP/1.1 for scrapers and HTTP probes. Kestrel does not take prior-knowledge HTTP/2 (h2c) on a
                    // cleartext port that also speaks HTTP/1.1 (dotnet/aspnetcore#56984), so gRPC health stays on the TLS listener.
                    l.Protocols = HttpProtocols.Http1;
                    l.Use(static next => connection =>
                    {
                        connection.Items[NodeOperations.ConnectionMarker] = true;
                        return next(connection);
                    });
                });
            }
        });

        builder.Services.AddNodeCore(builder.Configuration).AddNodeRollup().AddNodeHistory(builder.Configuration).AddNodeRatings(builder.Configuration).AddNodeGrpc(builder.Configuration)
            .AddNodeSecurity(builder.Configuration, certificates).AddNodeOperations(operations, options.Id);
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

        // The rating scheme is configuration: a bad one stops the node here, in one line, not at the first rating.
        app.Services.GetRequiredService<Aggregator.Ratings.RatingSchemeIndex>();

        // The operations listener answers /metrics and /healthz and nothing else, before any credential is read.
        app.UseNodeOperationsListener();
        if (web)
        {
            Web.WebServiceCollectionExtensions.UseNodeWeb(app);
        }

        app.UseNodeSecurity();

        // After the caller is known and admitted: a stranger's big request is refused before it is read.
        app.UseMiddleware<Grpc.LargeRequestGate>();
        app.MapNodeGrpc();
        app.MapNodeOperations();
        if (web)
        {
            Web.WebServiceCollectionExtensions.MapNodeWeb(app);
        }

        app.Lifetime.ApplicationStarted.Register(() => AnnounceEndpoint(app, options, adminSocket));
        app.Lifetime.ApplicationStopping.Register(() => HostLog.Stopping(app.Logger, options.Id));
        if (adminSocket is not null)
        {
            app.Lifetime.ApplicationStarted.Register(() => AdminSocket.Restrict(adminSocket));
            app.Lifetime.ApplicationStopped.Register(() => AdminSocket.Remove(adminSocket));
        }
        return app;
    }

    /// <summary>
    /// Default log levels. A node logs what happened to it (start, stop, failures, refusals by its parent),
    /// not every call: the framework's per-request lines (hosting, routing, authorization, gRPC, outgoing
    /// HTTP) are Warning, and the metrics count the calls. The host's own start lines give way to the
    /// node's one line. Health checks are Critical: a halted store is logged once by the node, not again at
    /// every probe.
    /// </summary>
    private static readonly Dictionary<string, string?> s_logLevels = new(StringComparer.Ordinal)
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Critical",
        ["Logging:LogLevel:Grpc"] = "Warning",
        ["Logging:LogLevel:System.Net.Http"] = "Warning",
        ["Logging:LogLevel:Polly"] = "Warning",
    };

    /// <summary>The address the started node listens on for nodes and people.</summary>
    public static string ListeningAddress(WebApplication app) => app.Services.GetRequiredService<Listeners>().MainAddress;

    /// <summary>The operations listener's address (http://…), or null when Operations:Listen is empty.</summary>
    public static string? OperationsAddress(WebApplication app) => app.Services.GetRequiredService<Listeners>().OperationsAddress;

    private static void AnnounceEndpoint(WebApplication app, NodeOptions options, string? adminSocket)
    {
        var listeners = app.Services.GetRequiredService<Listeners>();
        var address = listeners.MainAddress;
        app.Services.GetRequiredService<NodeEndpoint>().SetListening(address);
        var path = Path.Combine(options.DataPath, EndpointFileName);
        File.WriteAllText(path + ".tmp", address);
        File.Move(path + ".tmp", path, overwrite: true);

        var listening = new List<string> { address + " (nodes and people)" };
        if (adminSocket is not null)
        {
            listening.Add($"unix:{adminSocket} (admin)");
        }

        if (listeners.OperationsAddress is { } operations)
        {
            listening.Add($"{operations} (metrics, health)");
        }

        var parent = options.Parent.IsConfigured ? $"{(options.Parent.Id.Length > 0 ? options.Parent.Id : "(no id)")} at {options.Parent.Address}" : "none";
        var keyId = app.Services.GetRequiredService<NodeIdentity>().Key.KeyId;
        var addresses = string.Join(", ", listening);
        var dataPath = Path.GetFullPath(options.DataPath);
        HostLog.Started(app.Logger, options.Id, options.Tier, parent, keyId, addresses, dataPath);
    }

    /// <summary>The listeners Kestrel bound, read once it has: port 0 becomes the port it picked.</summary>
    private sealed class Listeners
    {
        public ListenOptions? Main { get; set; }

        public string MainScheme { get; set; } = "https";

        public ListenOptions? Operations { get; set; }

        public string MainAddress => Main?.IPEndPoint is { } endpoint
            ? $"{MainScheme}://{endpoint}"
            : throw new InvalidOperationException("The node has not started listening.");

        public string? OperationsAddress => Operations?.IPEndPoint is { } endpoint ? $"http://{endpoint}" : null;
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
    /// <summary>The one line a node writes when it starts: who it is, where it stands, where it listens, where its data is.</summary>
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Node {NodeId} ({Tier}) started: parent {Parent}; key {KeyId}; listening on {Listening}; data {DataPath}")]
    public static partial void Started(ILogger logger, string nodeId, string tier, string parent, string keyId, string listening, string dataPath);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Node {NodeId} stopping")]
    public static partial void Stopping(ILogger logger, string nodeId);
}
