using System.Diagnostics;
using Federation.Node.Hosting;
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

    /// <summary>The channel to the running process; kept across a kill so that callers in flight fail, not crash.</summary>
    public GrpcChannel Channel { get; private set; } = null!;

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
        Channel?.Dispose();
        Channel = GrpcChannel.ForAddress(Address);
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
        Channel?.Dispose();
    }
}
