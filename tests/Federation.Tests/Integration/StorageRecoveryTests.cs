using System.Text.Json;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// A data folder that held data and lost or damaged its database, log or key refuses to start, naming
/// the file and the recovery command; it never starts empty or silently older.
/// </summary>
public sealed class StorageRecoveryTests
{
    private const string NodeId = "370113001001";
    private const string Period = "2026-01";

    [Fact]
    public async Task Start_DatabaseEmptied_RefusesNamingTheFile()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await SubmitThenStopAsync(dataPath, corrections: 3);
        await File.WriteAllBytesAsync(Path.Combine(dataPath, NodeStore.DatabaseFileName), []);

        var refusal = await Assert.ThrowsAsync<DataFolderDamagedException>(() => TestNode.StartAsync(Spec(), dataPath));

        Assert.Equal(Path.Combine(dataPath, NodeStore.DatabaseFileName), refusal.FilePath);
        Assert.Contains("truncated", refusal.Message, StringComparison.Ordinal);
        Assert.Contains($"federation rebuild --data {dataPath}", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DatabaseDeleted_RefusesNamingTheFile()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await SubmitThenStopAsync(dataPath, corrections: 1);
        File.Delete(Path.Combine(dataPath, NodeStore.DatabaseFileName));

        var refusal = await Assert.ThrowsAsync<DataFolderDamagedException>(() => TestNode.StartAsync(Spec(), dataPath));

        Assert.Equal(Path.Combine(dataPath, NodeStore.DatabaseFileName), refusal.FilePath);
        Assert.Contains("missing", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DatabaseByteFlipped_RefusesNamingTheFile()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await SubmitThenStopAsync(dataPath, corrections: 3);
        FlipByte(Path.Combine(dataPath, NodeStore.DatabaseFileName));

        var refusal = await Assert.ThrowsAsync<DataFolderDamagedException>(() => TestNode.StartAsync(Spec(), dataPath));

        Assert.Equal(Path.Combine(dataPath, NodeStore.DatabaseFileName), refusal.FilePath);
        Assert.Contains("damaged", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_StoppedCleanlyAndIntact_StartsWithEverything()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await SubmitThenStopAsync(dataPath, corrections: 3);

        await using var node = await TestNode.StartAsync(Spec(), dataPath);

        var stored = await node.Reporting.GetReportAsync(new GetReportRequest { UnitId = NodeId, Period = Period }, deadline: Rpc.Deadline());
        Assert.Equal(3ul, stored.Report.Version);
        Assert.True(File.Exists(Path.Combine(dataPath, StoreManifest.FileName)));
    }

    [Fact]
    public async Task Start_KeyDeletedBesideDatabase_RefusesAndCreatesNoKey()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await SubmitThenStopAsync(dataPath, corrections: 1);
        var keyPath = Path.Combine(dataPath, NodeKeyFile.FileName);
        File.Delete(keyPath);

        var refusal = await Assert.ThrowsAsync<KeyFileMissingException>(() => TestNode.StartAsync(Spec(), dataPath));

        Assert.Contains(keyPath, refusal.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(keyPath));
        var keygen = await Cli.RunAsync("keygen", "--data", dataPath);
        Assert.Equal(1, keygen.ExitCode);
        var config = folder.Sub("node.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { Node = new { Id = NodeId, Tier = "village", DataPath = dataPath }, Tls = TestPki.TlsSection(NodeId) }));
        var serve = await Cli.RunAsync("serve", "--config", config);
        Assert.Equal(1, serve.ExitCode);
        Assert.StartsWith($"Refusing to start: {keyPath} is missing", Assert.Single(serve.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.False(File.Exists(keyPath));
    }

    [Fact]
    public async Task Start_ManifestGarbled_RefusesNamingTheManifest()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await SubmitThenStopAsync(dataPath, corrections: 1);
        var manifest = Path.Combine(dataPath, StoreManifest.FileName);
        var text = await File.ReadAllTextAsync(manifest);
        await File.WriteAllTextAsync(manifest, text.Replace("data_bytes=", "data_bytes=1", StringComparison.Ordinal));

        var refusal = await Assert.ThrowsAsync<DataFolderDamagedException>(() => TestNode.StartAsync(Spec(), dataPath));

        Assert.Equal(manifest, refusal.FilePath);
    }

    [Fact]
    public void Verify_CheckpointCutShort_ChecksLengthsOnlyUntilTheNextRecord()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Path;
        var database = Path.Combine(dataPath, NodeStore.DatabaseFileName);
        var log = Path.Combine(dataPath, NodeStore.LogFileName);
        File.WriteAllBytes(database, new byte[8192]);
        File.WriteAllBytes(log, new byte[8192]);
        using (var manifest = new StoreManifest(dataPath, database, log, new Lock()))
        {
            manifest.RecordCheckpoint();
            manifest.BeginCheckpoint();
        }

        // A power cut mid-checkpoint: the data file has new pages, the log is already emptied.
        File.WriteAllBytes(database, Enumerable.Repeat((byte)1, 16384).ToArray());
        File.WriteAllBytes(log, []);
        using (var cutShort = new StoreManifest(dataPath, database, log, new Lock()))
        {
            cutShort.Verify();
            cutShort.RecordCheckpoint();
        }

        File.WriteAllBytes(database, Enumerable.Repeat((byte)2, 16384).ToArray());
        using var recorded = new StoreManifest(dataPath, database, log, new Lock());
        Assert.Throws<DataFolderDamagedException>(recorded.Verify);
    }

    [Fact]
    public async Task Serve_LogDeletedAfterKill_ExitsNonZeroWithOneLineNamingTheLog()
    {
        var (folder, config, dataPath) = await SubmitThenKillAsync(corrections: 11);
        using (folder)
        {
            var log = Path.Combine(dataPath, NodeStore.LogFileName);
            File.Delete(log);

            await AssertServeRefusesAsync(config, log, "missing");
        }
    }

    [Fact]
    public async Task Serve_LogHalvedAfterKill_ExitsNonZeroRatherThanRollBack()
    {
        var (folder, config, dataPath) = await SubmitThenKillAsync(corrections: 11);
        using (folder)
        {
            var log = Path.Combine(dataPath, NodeStore.LogFileName);
            var pages = new FileInfo(log).Length / 8192;
            using (var stream = new FileStream(log, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(pages / 2 * 8192);
            }

            await AssertServeRefusesAsync(config, log, "truncated");
        }
    }

    [Fact]
    public async Task Serve_LogPageFlippedAfterKill_ExitsNonZeroNamingTheLog()
    {
        var (folder, config, dataPath) = await SubmitThenKillAsync(corrections: 11);
        using (folder)
        {
            var log = Path.Combine(dataPath, NodeStore.LogFileName);
            FlipByte(log);

            await AssertServeRefusesAsync(config, log, "damaged");
        }
    }

    [Fact]
    public async Task Serve_KilledWithIntactLog_StartsWithTheNewestVersion()
    {
        var (folder, config, dataPath) = await SubmitThenKillAsync(corrections: 11);
        using (folder)
        {
            await using var node = new NodeProcess(config, dataPath);
            await node.StartAsync();

            var stored = await new ReportingService.ReportingServiceClient(node.Clerk)
                .GetReportAsync(new GetReportRequest { UnitId = NodeId, Period = Period }, deadline: Rpc.Deadline());
            Assert.Equal(11ul, stored.Report.Version);
        }
    }

    private static async Task AssertServeRefusesAsync(string config, string file, string problem)
    {
        var result = await Cli.RunAsync("serve", "--config", config);

        Assert.NotEqual(0, result.ExitCode);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.True(line.StartsWith($"Refusing to start: {file} is {problem}", StringComparison.Ordinal), line);
        Assert.Contains("federation rebuild --data", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardOutput + result.StandardError, StringComparison.Ordinal);
    }

    private static NodeSpec Spec() => new(NodeId, "village") { HostedUnitIds = [NodeId] };

    private static async Task SubmitThenStopAsync(string dataPath, int corrections)
    {
        await using var node = await TestNode.StartAsync(Spec(), dataPath);
        for (var i = 1; i <= corrections; i++)
        {
            await node.Reporting.SubmitReportAsync(Submission(i), deadline: Rpc.Deadline());
        }
    }

    /// <summary>A separate node process acknowledges <paramref name="corrections"/> versions and is killed: its log holds them.</summary>
    private static async Task<(TempFolder Folder, string Config, string DataPath)> SubmitThenKillAsync(int corrections)
    {
        var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        var config = folder.Sub("node.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Node = new { Id = NodeId, Tier = "village", DataPath = dataPath, HostedUnits = new[] { new { Id = NodeId } } },
            Tls = TestPki.TlsSection(NodeId),
        }));
        await using var node = new NodeProcess(config, dataPath);
        await node.StartAsync();
        var client = new ReportingService.ReportingServiceClient(node.Clerk);
        for (var i = 1; i <= corrections; i++)
        {
            var ack = await client.SubmitReportAsync(Submission(i), deadline: Rpc.Deadline());
            Assert.Equal((ulong)i, ack.Version);
        }

        await node.KillAsync();
        Assert.True(new FileInfo(Path.Combine(dataPath, NodeStore.LogFileName)).Length > 0, "the killed node's log holds its commits");
        return (folder, config, dataPath);
    }

    private static SubmitReportRequest Submission(int i) =>
        new() { UnitId = NodeId, Period = Period, Values = { Reports.Count("party_members", 10 + i) } };

    /// <summary>Flips one byte in the middle of the file, as a bad sector or a stray write would.</summary>
    private static void FlipByte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[(bytes.Length / 2) + 100] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
    }
}

/// <summary>A full disk stops the node with a non-zero exit; nothing that was not durable is acknowledged.</summary>
public sealed class DiskFullTests
{
    private const string NodeId = "370113001001";

    [Fact]
    public void IsDiskFull_RealEnospcFromDevFull_IsRecognised()
    {
        Assert.True(StoreFaults.IsDiskFull(RealEnospc()));
        Assert.False(StoreFaults.IsDiskFull(new IOException("another failure")));
    }

    [Fact]
    public async Task Submit_DiskFullAtCommit_IsUnavailableStoresNothingAndLogsOneCriticalLine()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await using var node = await TestNode.StartAsync(new NodeSpec(NodeId, "village") { HostedUnitIds = [NodeId] }, dataPath);
        await node.Reporting.SubmitReportAsync(Submission(40), deadline: Rpc.Deadline());
        var critical = await SubmitRefusedWithOneCriticalLineAsync(node, NodeStore.CommitFaults, static () => throw RealEnospc(), "[110]");
        Assert.Contains("bytes free", critical, StringComparison.Ordinal);

        await node.StopAsync();
        await using var again = await TestNode.StartAsync(new NodeSpec(NodeId, "village") { HostedUnitIds = [NodeId] }, dataPath);
        var stored = await again.Reporting.GetReportAsync(new GetReportRequest { UnitId = NodeId, Period = "2026-01" }, deadline: Rpc.Deadline());
        Assert.Equal(1ul, stored.Report.Version);
    }

    [Fact]
    public async Task Submit_FsyncFails_IsUnavailableLogsOneCriticalLineAndAcknowledgesNothingMore()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        await using var node = await TestNode.StartAsync(new NodeSpec(NodeId, "village") { HostedUnitIds = [NodeId] }, dataPath);
        await node.Reporting.SubmitReportAsync(Submission(40), deadline: Rpc.Deadline());
        var critical = await SubmitRefusedWithOneCriticalLineAsync(node, NodeStore.FlushFaults, static () => throw new IOException("Input/output error"), "[111]");
        Assert.Contains("Input/output error", critical, StringComparison.Ordinal);

        // The disk answers again, but a later fsync's success would not cover what the failed one dropped: refused.
        var after = await Assert.ThrowsAsync<RpcException>(async () => await node.Reporting.SubmitReportAsync(Submission(42), deadline: Rpc.Deadline()));
        Assert.Equal(StatusCode.Unavailable, after.StatusCode);
    }

    /// <summary>
    /// Submits with <paramref name="fault"/> set in <paramref name="seam"/> for the node's folder: the submission is
    /// Unavailable and one Critical line with <paramref name="eventId"/> names the folder. Returns that line.
    /// </summary>
    private static async Task<string> SubmitRefusedWithOneCriticalLineAsync(
        TestNode node, System.Collections.Concurrent.ConcurrentDictionary<string, Action> seam, Action fault, string eventId)
    {
        seam[node.DataPath] = fault;
        try
        {
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await node.Reporting.SubmitReportAsync(Submission(41), deadline: Rpc.Deadline()));
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            var critical = Assert.Single(node.Logs.Errors, e => e.Contains(eventId, StringComparison.Ordinal));
            Assert.Contains(node.DataPath, critical, StringComparison.Ordinal);
            return critical;
        }
        finally
        {
            seam.TryRemove(node.DataPath, out _);
        }
    }

    [Fact]
    public async Task Serve_DiskFullAtCommit_ExitsNonZero()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        var config = folder.Sub("node.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Node = new { Id = NodeId, Tier = "village", DataPath = dataPath, HostedUnits = new[] { new { Id = NodeId } } },
            Tls = TestPki.TlsSection(NodeId),
        }));
        try
        {
            // In process, so that the seam reaches the node; the command line is the same one `federation serve` runs.
            var serve = Federation.Node.Cli.NodeCommandLine.Build().Parse(["serve", "--config", config]).InvokeAsync();
            var endpoint = Path.Combine(dataPath, NodeHost.EndpointFileName);
            var address = await Eventually.ReturnsAsync(
                () => Task.FromResult(File.Exists(endpoint) ? File.ReadAllText(endpoint) : null), static a => a.Length > 0, "the node to listen");
            string clerk;
            using (var socket = TestPki.AdminSocket(dataPath))
            {
                clerk = (await new AccessService.AccessServiceClient(socket).IssueTokenAsync(new IssueTokenRequest
                {
                    Account = "clerk", Role = Role.Clerk, Scope = NodeId, ValidFor = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)),
                }, deadline: Rpc.Deadline())).Token;
            }

            NodeStore.CommitFaults[dataPath] = static () => throw RealEnospc();
            using var channel = TestPki.Channel(address, clerk);
            var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await new ReportingService.ReportingServiceClient(channel).SubmitReportAsync(Submission(40), deadline: Rpc.Deadline()));
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);

            Assert.Equal(1, await serve.WaitAsync(Eventually.HangGuard));
        }
        finally
        {
            NodeStore.CommitFaults.TryRemove(dataPath, out _);
        }
    }

    private static SubmitReportRequest Submission(long members) =>
        new() { UnitId = NodeId, Period = "2026-01", Values = { Reports.Count("party_members", members) } };

    /// <summary>The IOException .NET raises for ENOSPC, obtained from a real write to /dev/full.</summary>
    private static IOException RealEnospc()
    {
        try
        {
            using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write);
            full.Write(new byte[16]);
            full.Flush(flushToDisk: true);
        }
        catch (IOException ex)
        {
            return ex;
        }

        throw new InvalidOperationException("/dev/full accepted a write.");
    }
}
