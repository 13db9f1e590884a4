using System.Diagnostics;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Security;

/// <summary>`federation serve` with an unsafe listener stops at once: one line, no stack trace, a non-zero exit.</summary>
public sealed class ServeRefusalTests
{
    [Fact]
    public async Task Serve_PlaintextOnAPublicAddress_ExitsNonZeroWithOneLine()
    {
        using var folder = new TempFolder();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "federation.dll"), "serve", "--id", "370113", "--tier", "county",
            "--data", folder.Sub("node"), "--listen", "http://0.0.0.0:0",
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var standard = process.StandardOutput.ReadToEndAsync();
        using var guard = new CancellationTokenSource(Eventually.HangGuard);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var lines = (await error).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single(lines);
        Assert.Contains("plaintext on a non-loopback address", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", (await standard) + line, StringComparison.Ordinal);
    }
}
