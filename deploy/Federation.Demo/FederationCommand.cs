using System.Diagnostics;

namespace Federation.Demo;

/// <summary>Runs the node program (`dotnet federation.dll ...`) that the build copies next to the launcher.</summary>
internal static class FederationCommand
{
    private static readonly TimeSpan s_keygenTimeout = TimeSpan.FromSeconds(60);

    public static string AssemblyPath { get; } = Path.Combine(AppContext.BaseDirectory, "federation.dll");

    /// <summary>A process running the node program in <paramref name="workingDirectory"/>, its output redirected.</summary>
    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        startInfo.ArgumentList.Add(AssemblyPath);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The node reads FEDERATION_-prefixed variables over its config file; one left in the
        // operator's shell would give all nineteen nodes the same id.
        foreach (var name in startInfo.Environment.Keys.Where(static k => k.StartsWith("FEDERATION_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        // Nineteen servers share a small machine: workstation GC keeps each one's heap small.
        startInfo.Environment["DOTNET_gcServer"] = "0";
        return startInfo;
    }

    /// <summary>`federation keygen --data DIR`: creates the key if missing and returns the base64 public key.</summary>
    public static async Task<string> KeygenAsync(string dataPath, CancellationToken cancellationToken)
    {
        var publicKey = (await RunAsync(cancellationToken, "keygen", "--data", dataPath)).Trim();
        return publicKey.Length > 0 ? publicKey : throw new DemoException($"keygen for {dataPath} printed no key.");
    }

    /// <summary>Runs one `federation` command to completion and returns what it printed; fails with its error output.</summary>
    public static async Task<string> RunAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(AppContext.BaseDirectory, arguments))
            ?? throw new DemoException($"could not start {AssemblyPath}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(s_keygenTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new DemoException($"`federation {arguments[0]}` did not finish within {s_keygenTimeout.TotalSeconds:0} s.");
        }

        var printed = await output;
        if (process.ExitCode != 0)
        {
            throw new DemoException($"`federation {string.Join(' ', arguments)}` failed with exit code {process.ExitCode}: {(await error).Trim()}");
        }

        return printed;
    }

    /// <summary>The dotnet host running this launcher, so nodes use the same runtime.</summary>
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

/// <summary>A launcher failure with a message meant for the operator (no stack trace needed).</summary>
internal sealed class DemoException(string message) : Exception(message);
