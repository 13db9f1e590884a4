using System.Diagnostics;
using System.Globalization;
using Federation.Node.Hosting;

namespace Federation.Demo;

/// <summary>One running `federation serve` process; its stdout and stderr go to <see cref="LogFileName"/> in its data folder.</summary>
internal sealed class NodeProcess : IDisposable
{
    public const string LogFileName = "node.log";

    private readonly Process _process;
    private readonly TextWriter _log;
    private int _stopped;

    private NodeProcess(DemoNode node, string dataPath, Process process, TextWriter log)
    {
        Node = node;
        DataPath = dataPath;
        _process = process;
        _log = log;
    }

    public DemoNode Node { get; }

    public string DataPath { get; }

    public string LogPath => Path.Combine(DataPath, LogFileName);

    /// <summary>The address the node announced in its endpoint file; empty until it did.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>Raised when the process ends without <see cref="Stop"/> having been called.</summary>
    public event Action<NodeProcess, int>? Crashed;

    public static NodeProcess Start(DemoNode node, string dataPath, string configPath, int launcherProcessId)
    {
        // A leftover endpoint file from an earlier run in the same folder would hand out a dead address.
        File.Delete(Path.Combine(dataPath, NodeHost.EndpointFileName));
        var startInfo = FederationCommand.StartInfo(
            dataPath, "serve", "--config", configPath, "--exit-with-pid", launcherProcessId.ToString(CultureInfo.InvariantCulture));
        var log = TextWriter.Synchronized(new StreamWriter(Path.Combine(dataPath, LogFileName), append: true) { AutoFlush = true });
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var started = new NodeProcess(node, dataPath, process, log);
        process.OutputDataReceived += (_, e) => started.WriteLog(e.Data);
        process.ErrorDataReceived += (_, e) => started.WriteLog(e.Data);
        process.Exited += (_, _) => started.OnExited();
        try
        {
            process.Start();
        }
        catch
        {
            started.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Waits until the node writes its endpoint file; fails early, with its log, if it exits first.</summary>
    public async Task<string> WaitForAddressAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = Path.Combine(DataPath, NodeHost.EndpointFileName);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.Exists(path) && (await File.ReadAllTextAsync(path, cancellationToken)).Trim() is { Length: > 0 } address)
            {
                Address = address;
                return address;
            }

            if (_process.HasExited)
            {
                throw new DemoException($"node {Node.Id} ({Node.DisplayName}) exited with code {_process.ExitCode} before listening.\n{LogTail()}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new DemoException($"node {Node.Id} ({Node.DisplayName}) wrote no {NodeHost.EndpointFileName} within {timeout.TotalSeconds:0} s.\n{LogTail()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>
    /// The last lines of the node's log for error messages, without stack frames (which would push the
    /// exception's message out of view) and with long lines cut.
    /// </summary>
    public string LogTail(int lineCount = 15)
    {
        const int MaxLineLength = 400;
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var lines = reader.ReadToEnd()
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(static l => !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("--- End of", StringComparison.Ordinal))
                .Select(static l => l.Length > MaxLineLength ? l[..MaxLineLength] + " ..." : l);
            return $"--- last lines of {LogPath} (stack frames left out) ---\n" + string.Join('\n', lines.TakeLast(lineCount));
        }
        catch (IOException ex)
        {
            return $"(cannot read {LogPath}: {ex.Message})";
        }
    }

    /// <summary>Kills the process and anything it started. Safe to call more than once, from any thread.</summary>
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

            _process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Never started, or already gone: nothing left to stop.
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
        _log.Dispose();
    }

    private void WriteLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        try
        {
            _log.WriteLine(line);
        }
        catch (ObjectDisposedException)
        {
            // The last lines of a killed node may arrive after the launcher closed its log.
        }
    }

    private void OnExited()
    {
        if (Volatile.Read(ref _stopped) == 0)
        {
            Crashed?.Invoke(this, _process.ExitCode);
        }
    }
}
