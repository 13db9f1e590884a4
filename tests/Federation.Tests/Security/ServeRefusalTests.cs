using System.Diagnostics;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Security;

/// <summary>`federation serve` with an unsafe listener stops at once: one line, no stack trace, a non-zero exit.</summary>
public sealed class ServeRefusalTests
{
    [Fact]
    public async Task Serve_PlaintextOnAPublicAddress_ExitsNonZeroWithOneLine()
    {
        var (exitCode, line) = await ServeAsync("--listen", "http://0.0.0.0:0");

        Assert.Equal(1, exitCode);
        Assert.Contains("plaintext on a non-loopback address", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortHeldByAnotherProgram_ExitsNonZeroWithOneLine()
    {
        // The test holds the port for the whole test: the node must find it taken.
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, line) = await ServeAsync("--listen", $"https://127.0.0.1:{port}",
            "--cert", TestPki.NodeFiles("370113").Certificate, "--key", TestPki.NodeFiles("370113").Key, "--ca-cert", TestPki.CaPath);

        Assert.Equal(1, exitCode);
        Assert.Contains("address already in use", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://127.0.0.1:9464", "must be an http:// address")]
    [InlineData("http://metrics.example:9464", "must name an IP address")]
    [InlineData("http://127.0.0.1:9464/metrics", "must be an http:// address")]
    public async Task Serve_OperationsListenerThatCannotBe_ExitsNonZeroWithOneLine(string operations, string expected)
    {
        var (exitCode, line) = await ServeAsync("--listen", "https://127.0.0.1:0",
            "--cert", TestPki.NodeFiles("370113").Certificate, "--key", TestPki.NodeFiles("370113").Key, "--ca-cert", TestPki.CaPath,
            "--operations", operations);

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"Operations:Listen '{operations}'", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_RatingSchemeWhoseWeightsDoNotAddUpTo100_ExitsNonZeroWithOneLine()
    {
        using var folder = new TempFolder();
        var scheme = Aggregator.Ratings.RatingSchemeIndex.Default.Scheme.Clone();
        scheme.Weights.MonthlyPercent = 60;
        var path = folder.Sub("scheme.json");
        await File.WriteAllTextAsync(path, Google.Protobuf.JsonFormatter.Default.Format(scheme));

        var (exitCode, line) = await ServeAsync(new Dictionary<string, string> { ["FEDERATION_Ratings__SchemePath"] = path }, "--listen", "https://127.0.0.1:0",
            "--cert", TestPki.NodeFiles("370113").Certificate, "--key", TestPki.NodeFiles("370113").Key, "--ca-cert", TestPki.CaPath);

        Assert.Equal(1, exitCode);
        Assert.Contains("is not a valid rating scheme: the weights add up to 110", line, StringComparison.Ordinal);
    }

    /// <summary>Runs `federation serve` for node 370113 with extra arguments; returns its exit code and its single stderr line.</summary>
    private static Task<(int ExitCode, string Line)> ServeAsync(params string[] extra) => ServeAsync(new Dictionary<string, string>(), extra);

    /// <summary>As <see cref="ServeAsync(string[])"/>, with environment variables set for the node.</summary>
    private static async Task<(int ExitCode, string Line)> ServeAsync(IReadOnlyDictionary<string, string> environment, params string[] extra)
    {
        using var folder = new TempFolder();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "federation.dll"), "serve", "--id", "370113", "--tier", "county",
            "--data", folder.Sub("node"),
        }.Concat(extra))
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
        var line = Assert.Single(lines);
        Assert.DoesNotContain("   at ", line, StringComparison.Ordinal);
        await standard;
        return (process.ExitCode, line);
    }

    [Fact]
    public async Task Submit_ReportFileThatIsNotJson_SaysSoInOneLine()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { HostedUnitIds = ["370113001001"] }, folder.Sub("n"));
        var file = folder.Sub("report.json");
        await File.WriteAllTextAsync(file, "{ \"party_members\": ");

        var result = await Cli.RunAsync("submit", "--node", node.Address, "--ca", TestPki.CaPath, "--token", node.Tokens.Clerk,
            "--unit", "370113001001", "--period", "2026-Q1", "--file", file);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error not valid JSON", line, StringComparison.Ordinal);
    }
}
