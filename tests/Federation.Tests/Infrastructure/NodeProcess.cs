using System.Diagnostics;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Grpc.Net.Client;

namespace Federation.Tests.Infrastructure;

/// <summary>
/// A node as a separate OS process (`dotnet federation.dll serve`), for tests that kill it. It is told
/// to exit with the test process, and killed on dispose, so none outlives a failing test.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly string _configPath;
    private readonly string _dataPath;
    private Process? _process;

    public NodeProcess(string configPath, string dataPath)
    {
        _configPath = configPath;
        _dataPath = dataPath;
    }

    public string Address { get; private set; } = string.Empty;

    /// <summary>Channels to the running process as its clerk, reader and admin, and as a child node; kept across a kill so that callers in flight fail, not crash.</summary>
    public GrpcChannel Clerk { get; private set; } = null!;

    public GrpcChannel Reader { get; private set; } = null!;

    public GrpcChannel Admin { get; private set; } = null!;

    private NodeTokens? _tokens;
    private readonly Dictionary<string, GrpcChannel> _asNode = new(StringComparer.Ordinal);

    /// <summary>A channel presenting the certificate of node <paramref name="nodeId"/>.</summary>
    public GrpcChannel AsNode(string nodeId)
    {
        if (!_asNode.TryGetValue(nodeId, out var channel))
        {
            _asNode[nodeId] = channel = TestPki.Channel(Address, asNode: nodeId);
        }

        return channel;
    }

    public string LogPath => Path.Combine(_dataPath, "process.log");

    public async Task StartAsync()
    {
        Directory.CreateDirectory(_dataPath);
        var endpointFile = Path.Combine(_dataPath, NodeHost.EndpointFileName);
        File.Delete(endpointFile);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "federation.dll"), "serve", "--config", _configPath,
            "--exit-with-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        _process.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + Eventually.HangGuard;
        while (!File.Exists(endpointFile))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The node did not start; its log:\n{await ReadLogAsync()}");
            }

            await Task.Delay(25);
        }

        Address = await File.ReadAllTextAsync(endpointFile);
        DisposeChannels();
        _tokens ??= new NodeTokens(await IssueAsync(Role.Admin), await IssueAsync(Role.Clerk), await IssueAsync(Role.Reviewer), await IssueAsync(Role.Reader));
        Clerk = TestPki.Channel(Address, _tokens.Clerk);
        Reader = TestPki.Channel(Address, _tokens.Reader);
        Admin = TestPki.Channel(Address, _tokens.Admin);
    }

    /// <summary>The tokens issued at first start, one per role, scoped to the node.</summary>
    public NodeTokens Tokens => _tokens ?? throw new InvalidOperationException("The node has not started.");

    /// <summary>The OS process id while it runs.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The node is not running.");

    /// <summary>True once the process has ended on its own (a crash) or was killed.</summary>
    public bool HasExited => _process is null || _process.HasExited;

    private Task<string> IssueAsync(Role role) => IssueTokenAsync(role, null, TimeSpan.FromDays(1), $"{role.ToString().ToLowerInvariant()}-test");

    /// <summary>Issues a token through the node's admin socket; the scope defaults to the node itself.</summary>
    public async Task<string> IssueTokenAsync(Role role, string? scope, TimeSpan validFor, string account)
    {
        using var socket = TestPki.AdminSocket(_dataPath);
        var access = new AccessService.AccessServiceClient(socket);
        var me = await access.WhoAmIAsync(new WhoAmIRequest(), deadline: Rpc.Deadline());
        var response = await access.IssueTokenAsync(new IssueTokenRequest
        {
            Account = account,
            Role = role,
            Scope = scope ?? me.Scope,
            ValidFor = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(validFor),
        }, deadline: Rpc.Deadline());
        return response.Token;
    }

    private void DisposeChannels()
    {
        Clerk?.Dispose();
        Reader?.Dispose();
        Admin?.Dispose();
        foreach (var channel in _asNode.Values)
        {
            channel.Dispose();
        }

        _asNode.Clear();
    }

    /// <summary>SIGKILL: no shutdown code runs, as when the power goes.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async Task<string> ReadLogAsync()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        DisposeChannels();
    }
}
