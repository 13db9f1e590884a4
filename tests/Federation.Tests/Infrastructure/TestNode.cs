using Federation.Node.Hosting;
using Federation.Protos.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Federation.Tests.Infrastructure;

/// <summary>How to start one node in a test.</summary>
public sealed record NodeSpec(string Id, string Tier)
{
    public string? ParentAddress { get; init; }

    /// <summary>The parent's node id; its certificate must name it.</summary>
    public string? ParentId { get; init; }

    public byte[]? ParentPublicKey { get; init; }

    public IReadOnlyList<string> HostedUnitIds { get; init; } = [];

    public IReadOnlyList<(string Id, byte[] PublicKey)> Children { get; init; } = [];

    /// <summary>A fixed port, for a node that must come back on the address its children know.</summary>
    public int Port { get; init; }

    /// <summary>Listen with plaintext on loopback (Tls:AllowPlaintext) instead of TLS.</summary>
    public bool Plaintext { get; init; }

    /// <summary>Further settings, applied last.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Changes to the host's services after the node's own (a test clock for one part, say).</summary>
    public Action<WebApplicationBuilder>? Customize { get; init; }

    /// <summary>The node's clock (a <see cref="TickingClock"/>'s fake time, say); the system clock when null.</summary>
    public TimeProvider? Time { get; init; }
}

/// <summary>Tokens a test node issues itself at start through its admin socket, one per role, scoped to the node.</summary>
public sealed record NodeTokens(string Admin, string Clerk, string Reviewer, string Reader);

/// <summary>
/// A real node: Kestrel on 127.0.0.1 over mutual TLS with a certificate from the test CA, a real LiteDB
/// file in a temp folder, real gRPC, and a token per role issued through its admin socket. Stopping and
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

    /// <summary>The operations listener (http://…, metrics and /healthz) when the spec's settings name Operations:Listen.</summary>
    public string? OperationsAddress { get; private set; }

    /// <summary>The running node's services, for tests that look at what it mapped.</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The node is not running.");

    /// <summary>A channel with the node's reader token.</summary>
    public GrpcChannel Channel { get; private set; } = null!;

    public NodeTokens Tokens { get; private set; } = null!;

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>As the node's clerk (all its hosted units).</summary>
    public ReportingService.ReportingServiceClient Reporting => new(_clerkChannel);

    /// <summary>Sheet imports as a clerk of every hosted unit.</summary>
    public ImportService.ImportServiceClient Import => new(_clerkChannel);

    /// <summary>As the node's reader.</summary>
    public QueryService.QueryServiceClient Query => new(Channel);

    /// <summary>As the node's reader: identity and catalogue; node-to-node calls need <see cref="FederationAs"/>.</summary>
    public FederationService.FederationServiceClient Federation => new(Channel);

    /// <summary>As the node's admin (token).</summary>
    public AdminService.AdminServiceClient Admin => new(_adminChannel);

    /// <summary>Token management as the node's admin (token).</summary>
    public AccessService.AccessServiceClient Access => new(_adminChannel);

    private GrpcChannel _clerkChannel = null!;
    private GrpcChannel _adminChannel = null!;
    private readonly List<GrpcChannel> _extraChannels = [];

    /// <summary>Node-to-node calls presenting the certificate of <paramref name="nodeId"/>.</summary>
    public FederationService.FederationServiceClient FederationAs(string nodeId) => new(Track(TestPki.Channel(Address, asNode: nodeId)));

    /// <summary>A channel calling with <paramref name="token"/> (or with nothing).</summary>
    public GrpcChannel ChannelWith(string? token) => Track(TestPki.Channel(Address, token));

    /// <summary>Issues a token through the node's admin socket.</summary>
    public async Task<string> IssueTokenAsync(Role role, string scope, TimeSpan? validFor = null, string? account = null)
    {
        using var socket = TestPki.AdminSocket(DataPath);
        var response = await new AccessService.AccessServiceClient(socket).IssueTokenAsync(new IssueTokenRequest
        {
            Account = account ?? $"{role.ToString().ToLowerInvariant()}-{scope}",
            Role = role,
            Scope = scope,
            ValidFor = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(validFor ?? TimeSpan.FromDays(1)),
        }, deadline: DateTime.UtcNow.AddSeconds(30));
        return response.Token;
    }

    private GrpcChannel Track(GrpcChannel channel)
    {
        lock (_extraChannels)
        {
            _extraChannels.Add(channel);
        }

        return channel;
    }

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
            ["Node:Listen"] = $"{(_spec.Plaintext ? "http" : "https")}://127.0.0.1:{_spec.Port}",
            ["Tls:AllowPlaintext"] = _spec.Plaintext ? "true" : "false",
            ["Tls:CertificatePath"] = TestPki.NodeFiles(_spec.Id).Certificate,
            ["Tls:KeyPath"] = TestPki.NodeFiles(_spec.Id).Key,
            ["Tls:CaPath"] = TestPki.CaPath,
            ["Node:Parent:Address"] = _spec.ParentAddress ?? string.Empty,
            ["Node:Parent:Id"] = _spec.ParentId ?? string.Empty,
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

        foreach (var (key, value) in _spec.Settings)
        {
            settings[key] = value;
        }

        _app = NodeHost.Build(null, settings, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(Logs);
            if (_spec.Time is { } time)
            {
                // The composition root registers the system clock only if none is there; this one replaces it.
                builder.Services.Replace(ServiceDescriptor.Singleton(time));
            }

            _spec.Customize?.Invoke(builder);
        });
        await _app.StartAsync();
        Address = NodeHost.ListeningAddress(_app);
        OperationsAddress = NodeHost.OperationsAddress(_app);
        Tokens ??= new NodeTokens(
            await IssueTokenAsync(Role.Admin, Id), await IssueTokenAsync(Role.Clerk, Id), await IssueTokenAsync(Role.Reviewer, Id), await IssueTokenAsync(Role.Reader, Id));
        Channel = TestPki.Channel(Address, Tokens.Reader);
        _clerkChannel = TestPki.Channel(Address, Tokens.Clerk);
        _adminChannel = TestPki.Channel(Address, Tokens.Admin);
    }

    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }

        Channel.Dispose();
        _clerkChannel.Dispose();
        _adminChannel.Dispose();
        lock (_extraChannels)
        {
            foreach (var channel in _extraChannels)
            {
                channel.Dispose();
            }

            _extraChannels.Clear();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
