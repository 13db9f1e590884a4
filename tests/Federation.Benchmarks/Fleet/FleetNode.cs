using System.Diagnostics;
using System.Globalization;
using Federation.Node.Hosting;

namespace Federation.Benchmarks.Fleet;

/// <summary>
/// One `federation serve` process (the node program the build copies next to the harness), its output in
/// <c>node.log</c> in its data folder. It is told to exit with the harness (<c>--exit-with-pid</c>) and is
/// killed, with anything it started, by <see cref="Stop"/>.
/// </summary>
internal sealed class FleetNode : IDisposable
{
    private const string LogFileName = "node.log";
    private readonly Process _process;
    private readonly StreamWriter _log;
    private int _stopped;

    private FleetNode(string id, string dataPath, Process process, StreamWriter log)
    {
        Id = id;
        DataPath = dataPath;
        _process = process;
        _log = log;
    }

    public string Id { get; }

    public string DataPath { get; }

    /// <summary>The address from the node's endpoint file; empty until it listens.</summary>
    public string Address { get; private set; } = string.Empty;

    public bool HasExited => _process.HasExited;

    /// <summary>True while stopped with SIGSTOP.</summary>
    public bool IsSuspended { get; private set; }

    /// <summary>The path of the node program: federation.dll beside the harness.</summary>
    public static string AssemblyPath => NodeProgram.Build.AssemblyPath;

    /// <summary>The process id, for reading what it cost (<see cref="TotalProcessorTime"/>).</summary>
    public int ProcessId => _process.Id;

    /// <summary>When the process started (local time, as <see cref="Process.StartTime"/> gives it).</summary>
    public DateTime StartTime => _process.StartTime;

    /// <summary>User and system processor time the process has used so far (utime + stime of /proc/PID/stat).</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts `serve` from the build beside the harness, with the runtime's default settings.</summary>
    public static FleetNode Start(string id, string dataPath, string configPath) => Start(id, dataPath, configPath, NodeProgram.Build);

    /// <summary>Starts `serve` from <paramref name="program"/>'s folder, with its runtime settings.</summary>
    public static FleetNode Start(string id, string dataPath, string configPath, NodeProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        File.Delete(Path.Combine(dataPath, NodeHost.EndpointFileName));
        var process = new Process
        {
            StartInfo = StartInfo(program, "serve", "--config", configPath, "--exit-with-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
        };
        var log = new StreamWriter(Path.Combine(dataPath, LogFileName), append: true) { AutoFlush = true };
        var node = new FleetNode(id, dataPath, process, log);
        process.OutputDataReceived += (_, e) => node.WriteLog(e.Data);
        process.ErrorDataReceived += (_, e) => node.WriteLog(e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            node.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Waits for the endpoint file; fails with the node's log if it exits first or takes too long.</summary>
    public async Task WaitForAddressAsync(TimeSpan timeout)
    {
        var path = Path.Combine(DataPath, NodeHost.EndpointFileName);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(path) && (await File.ReadAllTextAsync(path)).Trim() is { Length: > 0 } address)
            {
                Address = address;
                return;
            }

            if (_process.HasExited || watch.Elapsed > timeout)
            {
                throw new BenchmarkException($"node {Id} did not start listening ({(_process.HasExited ? $"exit code {_process.ExitCode}" : $"{timeout.TotalSeconds:0} s")}).\n{LogTail()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGSTOP: the process stays, holding its sockets, and answers nothing: a hung node.</summary>
    public void Suspend()
    {
        Signal("-STOP");
        IsSuspended = true;
    }

    /// <summary>SIGCONT.</summary>
    public void Resume()
    {
        if (IsSuspended && !_process.HasExited)
        {
            Signal("-CONT");
        }

        IsSuspended = false;
    }

    /// <summary>SIGTERM, as a supervisor stops a node: it finishes its writes and checkpoints its database. Killed if it takes longer than <paramref name="timeout"/>.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            Signal("-TERM");
            using var wait = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Killed below.
            }
        }

        Stop();
    }

    /// <summary>Kills the process and anything it started (SIGKILL also ends a stopped process). Safe to call twice, from any thread.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Never started or already gone.
        }
    }

    public string LogTail(int lineCount = 12)
    {
        try
        {
            using var stream = new FileStream(Path.Combine(DataPath, LogFileName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(static l => !l.StartsWith("at ", StringComparison.Ordinal));
            return $"--- last lines of {DataPath}/{LogFileName} ---\n" + string.Join('\n', lines.TakeLast(lineCount));
        }
        catch (IOException ex)
        {
            return $"(no log: {ex.Message})";
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    /// <summary>`federation keygen --data DIR`: creates the node's key and returns its base64 public key.</summary>
    public static async Task<string> KeygenAsync(string dataPath)
    {
        Directory.CreateDirectory(dataPath);
        using var process = Process.Start(StartInfo(NodeProgram.Build, "keygen", "--data", dataPath)) ?? throw new BenchmarkException("could not start the node program.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new BenchmarkException($"`federation keygen --data {dataPath}` did not finish in 120 s.");
        }

        var key = (await output).Trim();
        return process.ExitCode == 0 && key.Length > 0
            ? key
            : throw new BenchmarkException($"`federation keygen --data {dataPath}` failed ({process.ExitCode}): {(await error).Trim()}");
    }

    private static ProcessStartInfo StartInfo(NodeProgram program, params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,

            // The program's folder, as the container image's WORKDIR /app: the host watches its working
            // directory (the content root) for appsettings changes, and a data folder there would feed it
            // an event for every database write.
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(program.AssemblyPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // A FEDERATION_ variable left in the shell would configure every node alike.
        foreach (var name in start.Environment.Keys.Where(static k => k.StartsWith("FEDERATION_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        // A dozen servers share two cores: workstation GC keeps each heap small (as the demo runs its nodes).
        start.Environment["DOTNET_gcServer"] = "0";

        // Runtime settings a measurement compares; a DOTNET_ variable left in the shell would blur the comparison.
        foreach (var name in start.Environment.Keys.Where(static k => k.StartsWith("DOTNET_Tiered", StringComparison.OrdinalIgnoreCase) ||
            k.StartsWith("DOTNET_TC_", StringComparison.OrdinalIgnoreCase) || k.Equals("DOTNET_ReadyToRun", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in program.Environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { signal, _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
            ?? throw new BenchmarkException("could not run kill.");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new BenchmarkException($"kill {signal} {_process.Id} failed with exit code {kill.ExitCode}.");
        }
    }

    private void WriteLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Lines of a killed node may arrive after its log closed.
            }
        }
    }

    private static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        var sdkHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(sdkHost) && File.Exists(sdkHost) ? sdkHost : "dotnet";
    }
}
