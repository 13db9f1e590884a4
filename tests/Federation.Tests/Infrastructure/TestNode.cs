using Federation.Node.Hosting;
using Federation.Protos.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Federation.Tests.Infrastructure;

/// <summary>How to start one node in a test.</summary>
public sealed record NodeSpec(string Id, string Tier)
{
    public string? ParentAddress { get; init; }

    public byte[]? ParentPublicKey { get; init; }

    public IReadOnlyList<string> HostedUnitIds { get; init; } = [];

    public IReadOnlyList<(string Id, byte[] PublicKey)> Children { get; init; } = [];

    /// <summary>A fixed port, for a node that must come back on the address its children know.</summary>
    public int Port { get; init; }
}

/// <summary>
/// A real node: Kestrel on 127.0.0.1, a real LiteDB file in a temp folder, real gRPC. Stopping and
/// starting again reuses the data folder, as a restarted process would.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly NodeSpec _spec;
    private WebApplication? _app;

    private TestNode(NodeSpec spec, string dataPath)
    {
        _spec = spec;
        DataPath = dataPath;
    }

    public string Id => _spec.Id;

    public string DataPath { get; }

    public string Address { get; private set; } = string.Empty;

    public GrpcChannel Channel { get; private set; } = null!;

    public CapturingLoggerProvider Logs { get; } = new();

    public ReportingService.ReportingServiceClient Reporting => new(Channel);

    public QueryService.QueryServiceClient Query => new(Channel);

    public FederationService.FederationServiceClient Federation => new(Channel);

    public AdminService.AdminServiceClient Admin => new(Channel);

    public bool IsRunning => _app is not null;

    /// <summary>Creates the node's signing key without starting it, so that its parent can enrol it first.</summary>
    public static byte[] CreateKey(string dataPath)
    {
        using var key = NodeKeyFile.LoadOrCreate(dataPath);
        return key.PublicKeyBytes;
    }

    public static async Task<TestNode> StartAsync(NodeSpec spec, string dataPath)
    {
        var node = new TestNode(spec, dataPath);
        await node.StartAsync();
        return node;
    }

    public async Task StartAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Node:Id"] = _spec.Id,
            ["Node:Tier"] = _spec.Tier,
            ["Node:DataPath"] = DataPath,
            ["Node:Listen"] = $"http://127.0.0.1:{_spec.Port}",
            ["Node:Parent:Address"] = _spec.ParentAddress ?? string.Empty,
            ["Node:Parent:PublicKey"] = _spec.ParentPublicKey is null ? string.Empty : Convert.ToBase64String(_spec.ParentPublicKey),
            ["Outbox:RetryBaseDelay"] = "00:00:00.050",
            ["Outbox:MaxRetryAttempts"] = "1",
            ["Outbox:AttemptTimeout"] = "00:00:02",
            ["Outbox:RedeliveryBaseDelay"] = "00:00:00.100",
            ["Outbox:RedeliveryMaxDelay"] = "00:00:00.500",
            ["Summary:CoalesceDelay"] = "00:00:00.010",
            ["Summary:MaxCoalesceDelay"] = "00:00:00.200",
        };
        for (var i = 0; i < _spec.HostedUnitIds.Count; i++)
        {
            settings[$"Node:HostedUnits:{i}:Id"] = _spec.HostedUnitIds[i];
        }

        for (var i = 0; i < _spec.Children.Count; i++)
        {
            settings[$"Node:Children:{i}:Id"] = _spec.Children[i].Id;
            settings[$"Node:Children:{i}:PublicKey"] = Convert.ToBase64String(_spec.Children[i].PublicKey);
        }

        _app = NodeHost.Build(null, settings, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(Logs);
        });
        await _app.StartAsync();
        Address = NodeHost.ListeningAddress(_app);
        Channel = GrpcChannel.ForAddress(Address);
    }

    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }

        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
