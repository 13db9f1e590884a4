using Federation.Aggregator.Catalogues;
using Federation.Node.Cli;
using Grpc.Core;
using Spectre.Console;

namespace Federation.Demo;

/// <summary>The launcher's options: verify and exit, and where the nodes keep their data.</summary>
internal sealed record DemoSettings(bool Once, string? DataPath);

/// <summary>
/// Starts the hierarchy, submits the sample reports, waits until the city covers every village, prints
/// and checks the totals, then either exits or keeps the nodes running until Ctrl-C. Every exit path
/// (return, exception, Ctrl-C, process exit) kills the node processes.
/// </summary>
internal sealed class DemoRun(DemoSettings settings)
{
    private const int ExitOk = 0;
    private const int ExitFailed = 1;
    private const int ExitInterrupted = 130;
    private static readonly TimeSpan s_coverageTimeout = TimeSpan.FromSeconds(90);

    public async Task<int> RunAsync()
    {
        if (Console.IsOutputRedirected)
        {
            // Spectre would otherwise assume 80 columns and wrap the tables into unreadable cells,
            // and write colour codes into the file.
            AnsiConsole.Profile.Width = 160;
            AnsiConsole.Profile.Capabilities.Ansi = false;
        }

        var hierarchy = DemoHierarchy.Jinan();
        var dataRoot = settings.DataPath is { } path
            ? Directory.CreateDirectory(path).FullName
            : Directory.CreateTempSubdirectory("federation-demo-").FullName;
        using var interrupted = new CancellationTokenSource();
        var fleet = new NodeFleet(hierarchy, dataRoot);
        using var client = new NodeClient(fleet.CaPath);

        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            // Unwind through the finally below, which stops the nodes, instead of dying at once.
            e.Cancel = true;
            interrupted.Cancel();
        }

        void OnProcessExit(object? sender, EventArgs e) => fleet.StopAll();

        Console.CancelKeyPress += OnCancelKeyPress;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        var interruptedToken = interrupted.Token;
        fleet.NodeCrashed += (node, code) => _ = WarnOfExitAsync(node, code, interruptedToken);
        int exitCode;
        try
        {
            exitCode = await RunAsync(fleet, client, interrupted.Token);
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            AnsiConsole.MarkupLine("[yellow]interrupted: stopping the nodes[/]");
            exitCode = settings.Once ? ExitInterrupted : ExitOk;
        }
        catch (Exception ex) when (ex is DemoException or RpcException)
        {
            await Console.Error.WriteLineAsync($"error: {(ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message)}");
            await Console.Error.WriteLineAsync($"data and logs: {dataRoot}");
            exitCode = ExitFailed;
        }
        finally
        {
            // Kills the nodes and closes their logs before the data folder may be removed below.
            fleet.Dispose();
            Console.CancelKeyPress -= OnCancelKeyPress;
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        }

        if (settings.Once && settings.DataPath is null && exitCode == ExitOk)
        {
            // A verified run leaves nothing worth reading; failed runs keep their logs for the operator.
            TryDelete(dataRoot);
        }

        return exitCode;
    }

    private async Task<int> RunAsync(NodeFleet fleet, NodeClient client, CancellationToken cancellationToken)
    {
        var hierarchy = fleet.Hierarchy;
        var removal = settings.Once && settings.DataPath is null ? " (removed if the run verifies)" : string.Empty;
        AnsiConsole.MarkupLine($"Starting {hierarchy.Nodes.Count} nodes; data and logs under [bold]{Markup.Escape(fleet.DataRoot)}[/]{removal}");
        await fleet.StartAsync(Progress, cancellationToken);

        var submitted = await SampleReports.SubmitAsync(fleet, client, cancellationToken);
        Progress($"submitted {submitted} village reports for {SampleReports.Period} from {SampleReports.SheetPath}");
        var ledger = SampleLedger.Read(SampleLedger.FilePath);
        var (accepted, alreadyHolding) = await SampleLedger.ApplyAsync(fleet, client, ledger, cancellationToken);
        Progress(alreadyHolding > 0
            ? $"rectification ledger: {alreadyHolding} villages already hold their items from an earlier run; {accepted} items are cleared"
            : $"rectification ledger: {ledger.Count} items listed by the village clerks, {ledger.Count(static r => r.FixReported)} fixes reported, " +
              $"{accepted} accepted (销号) by the township reviewers from {SampleLedger.FilePath}");

        var root = fleet[hierarchy.Root.Id];
        await client.WaitForCoverageAsync(
            root.Address, fleet.Tokens[root.Node.Id], SampleReports.Period, hierarchy.Leaves.Count, s_coverageTimeout, Progress, cancellationToken);
        var city = await client.WaitForTotalsAsync(
            root.Address, fleet.Tokens[root.Node.Id], SampleReports.Period, t => LedgerTotal(t, "rectification_listed") == ledger.Count &&
                LedgerTotal(t, "rectification_closed") == accepted, "every ledger item at the city", s_coverageTimeout, cancellationToken);
        var districts = await Task.WhenAll(hierarchy.ChildrenOf(hierarchy.Root.Id)
            .Select(d => client.GetTotalsAsync(fleet[d.Id].Address, fleet.Tokens[d.Id], SampleReports.Period, cancellationToken)));

        AnsiConsole.WriteLine();
        AnsiConsole.Write(TotalsTable.Render(city, CliLanguage.IsChinese((string?)null)));
        AnsiConsole.WriteLine();
        AnsiConsole.Write(DistrictTable.Render(districts, city));
        AnsiConsole.WriteLine();

        var report = TotalsVerifier.Verify(
            city, SampleSheet.Read(SampleReports.SheetPath), ledger, DateTimeOffset.UtcNow, CatalogueIndex.Default, Convert.FromBase64String(fleet.PublicKeys[hierarchy.Root.Id]));
        foreach (var mismatch in report.Mismatches)
        {
            AnsiConsole.MarkupLine($"[red]mismatch[/] {Markup.Escape(mismatch)}");
        }

        AnsiConsole.MarkupLine(report.Passed ? $"[green]{Markup.Escape(report.Verdict)}[/]" : $"[red]{Markup.Escape(report.Verdict)}[/]");
        AnsiConsole.WriteLine();
        var proven = await new DemoTour(fleet, client, SampleReports.Period, filesKept: !(settings.Once && settings.DataPath is null)).RunAsync(cancellationToken);
        if (settings.Once)
        {
            return report.Passed && proven ? ExitOk : ExitFailed;
        }

        PrintAddresses(fleet, root.Address, WriteCityToken(fleet));
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return ExitOk;
    }

    private static long LedgerTotal(Protos.V1.GetTotalsResponse totals, string indicatorId) =>
        totals.Totals.FirstOrDefault(t => t.Indicator.Id == indicatorId)?.Aggregate?.Total ?? -1;

    /// <summary>Keeps the city reader's token in an owner-only file, for the commands printed below.</summary>
    private static string WriteCityToken(NodeFleet fleet)
    {
        var path = Path.Combine(fleet.DataRoot, "city-reader.token");
        File.WriteAllText(path, fleet.Tokens[fleet.Hierarchy.Root.Id]);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    private static void PrintAddresses(NodeFleet fleet, string cityAddress, string tokenPath)
    {
        var table = new Table().Title("Running nodes").AddColumn("Tier").AddColumn("Id").AddColumn("Name").AddColumn("Address").AddColumn("Log");
        foreach (var node in fleet.Hierarchy.Nodes)
        {
            var process = fleet[node.Id];
            table.AddRow(Markup.Escape(node.Tier), Markup.Escape(node.Id), Markup.Escape(node.DisplayName), Markup.Escape(process.Address), Markup.Escape(process.LogPath));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(
            $"Try: [bold]dotnet run --project node -- totals --node {Markup.Escape(cityAddress)} --period {SampleReports.Period} " +
            $"--ca {Markup.Escape(fleet.CaPath)} --token \"$(cat {Markup.Escape(tokenPath)})\"[/]");
        AnsiConsole.MarkupLine(
            $"The web page: open [bold]{Markup.Escape(cityAddress)}/[/] (the browser must trust {Markup.Escape(fleet.CaPath)}) and log in with the token in {Markup.Escape(tokenPath)}.");
        AnsiConsole.MarkupLine("Press Ctrl-C to stop all nodes.");
    }

    /// <summary>
    /// A terminal's Ctrl-C reaches the nodes as well as the launcher, and a node may stop first; give the
    /// launcher's own handler a moment before calling the exit unexpected.
    /// </summary>
    private static async Task WarnOfExitAsync(NodeProcess node, int exitCode, CancellationToken interrupted)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), interrupted);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await Console.Error.WriteLineAsync($"warning: node {node.Node.Id} ({node.Node.DisplayName}) exited with code {exitCode}; see {node.LogPath}");
    }

    private static void TryDelete(string dataRoot)
    {
        try
        {
            Directory.Delete(dataRoot, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: could not remove {dataRoot}: {ex.Message}");
        }
    }

    private static void Progress(string message) => AnsiConsole.MarkupLine($"  {Markup.Escape(message)}");
}
