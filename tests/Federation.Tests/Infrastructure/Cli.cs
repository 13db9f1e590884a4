using System.Diagnostics;

namespace Federation.Tests.Infrastructure;

/// <summary>What a finished `federation` process printed, and its exit code.</summary>
public sealed record CliResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>Runs the built `federation` command line as a separate process to completion, under the hang guard.</summary>
public static class Cli
{
    public static Task<CliResult> RunAsync(params string[] arguments) => RunWithInputAsync(null, arguments);

    /// <summary>Runs the command with <paramref name="input"/> on its standard input (then closed), as a script piping a password would.</summary>
    public static async Task<CliResult> RunWithInputAsync(string? input, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "federation.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(Eventually.HangGuard);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"federation {string.Join(' ', arguments)} did not finish; it printed:\n{await output}\n{await error}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }
}
