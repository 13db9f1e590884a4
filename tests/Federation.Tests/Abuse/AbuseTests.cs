using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Federation.Tests.Abuse;

/// <summary>
/// The abuse suite: a node process (mutual TLS, tokens) is sent thousands of malformed, truncated,
/// bit-flipped, wrong-typed, oversized and mis-credentialed messages across every RPC and every kind of
/// caller, gzip bombs, replayed, stale, equivocating and forged summaries, and forty 3.4 MB hostile
/// reports at once. It counts bad inputs accepted, crashes, Internal/Unknown answers and error logs,
/// records the node's peak RSS, and checks that what the node holds is unchanged.
/// Size: FEDERATION_ABUSE_MESSAGES (default 1,500 for CI; the long form uses 10,000 or more).
/// </summary>
[Trait("Category", "Abuse")]
public sealed class AbuseTests(ITestOutputHelper output)
{
    /// <summary>An Error or Critical line of the console logger (after its timestamp).</summary>
    private static readonly System.Text.RegularExpressions.Regex s_errorLine = new(@"^(\S+ )?(fail|crit): ", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };
    private static readonly Marshaller<byte[]> s_bytes = Marshallers.Create(static b => b, static b => b);

    [Fact]
    public async Task HostileMessages_AcrossEveryRpcAndCaller_AreRefusedWithoutCrashInternalOrChange()
    {
        var messageCount = int.TryParse(Environment.GetEnvironmentVariable("FEDERATION_ABUSE_MESSAGES"), out var n) ? n : 1_500;
        using var folder = new TempFolder();
        using var child = new FakeChild(HostileMessages.Child, 21);
        var dataPath = folder.Sub("node");
        await using var node = new NodeProcess(WriteConfig(folder, dataPath, child), dataPath);
        await node.StartAsync();
        await using var senders = await SendersAsync(node);
        await SeedAsync(node, senders, child);
        var before = await SnapshotAsync(senders);

        var tally = new Tally();
        var messages = new HostileMessages(seed: 20261126, child);
        var clock = Stopwatch.StartNew();
        // Eight callers at once: hostile traffic arrives concurrently, and concurrency is where state goes wrong.
        await Parallel.ForAsync(0, messageCount, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            tally.Add(messages.Next(i), await SendAsync(senders, messages.Next(i))));
        foreach (var bomb in GzipBombs())
        {
            tally.Add(bomb.Message, await SendRawAsync(node.Address, senders.TokenOf(bomb.Message.Sender), bomb.Message.Method, bomb.Frame));
        }

        var oversize = HostileMessages.Oversize();
        tally.Add(oversize, await SendAsync(senders, oversize));
        var rssBeforeFlood = PeakRssBytes(node.ProcessId);
        var flood = HostileMessages.UnknownIndicatorFlood();
        var floodResults = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => SendAsync(senders, flood)));
        foreach (var result in floodResults)
        {
            tally.Add(flood, result);
        }

        var peakRss = PeakRssBytes(node.ProcessId);
        // Read and refused, or refused unread because enough large requests were being read already.
        Assert.All(floodResults, static r => Assert.Contains(r.Code, new[] { StatusCode.InvalidArgument, StatusCode.ResourceExhausted }));
        Assert.Contains(floodResults, static r => r.Code == StatusCode.InvalidArgument);
        var after = await SnapshotAsync(senders);
        var errorLines = (await node.ReadLogAsync()).Split('\n').Where(static l => s_errorLine.IsMatch(l)).ToList();
        var crashed = node.HasExited;

        var report = new
        {
            messages = tally.Total,
            seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
            rpcs = HostileMessages.Methods.Count,
            by_hostility = tally.ByHostility(),
            by_status = tally.ByStatus(),
            accepted_bad = tally.AcceptedBad.Count,
            internal_or_unknown = tally.Internal.Count,
            crashes = crashed ? 1 : 0,
            error_log_lines = errorLines.Count,
            largest_status_bytes = tally.LargestStatusBytes,
            peak_rss_mib = Math.Round(peakRss / 1048576.0, 1),
            peak_rss_before_flood_mib = Math.Round(rssBeforeFlood / 1048576.0, 1),
            flood_request_bytes = flood.Body.Length,
            flood_read_and_refused = floodResults.Count(static r => r.Code == StatusCode.InvalidArgument),
            flood_refused_unread = floodResults.Count(static r => r.Code == StatusCode.ResourceExhausted),
            state_unchanged = before == after,
        };
        var json = JsonSerializer.Serialize(report, s_indented);
        output.WriteLine(json);
        if (Environment.GetEnvironmentVariable("FEDERATION_ABUSE_REPORT") is { Length: > 0 } reportPath)
        {
            await File.WriteAllTextAsync(reportPath, json);
        }

        Assert.True(tally.Total >= messageCount, $"only {tally.Total} messages were sent");
        Assert.False(crashed, "the node process died");
        Assert.True(tally.AcceptedBad.Count == 0, "bad inputs accepted:\n" + string.Join('\n', tally.AcceptedBad.Take(20)));
        Assert.True(tally.Internal.Count == 0, "Internal/Unknown answers:\n" + string.Join('\n', tally.Internal.Take(20)));
        Assert.True(errorLines.Count == 0, "error log lines:\n" + string.Join('\n', errorLines.Take(10).Select(static l => l.Length > 300 ? l[..300] : l)));
        Assert.True(tally.LargestStatusBytes < 16 * 1024, $"a status of {tally.LargestStatusBytes} bytes");
        Assert.Equal(before, after);
    }

    /// <summary>Bodies whose gzip expands far beyond the message limit, to three RPCs.</summary>
    private static IEnumerable<(HostileMessage Message, byte[] Frame)> GzipBombs()
    {
        var inflated = new byte[64 * 1024 * 1024];
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(inflated);
        }

        var payload = compressed.ToArray();
        var frame = new byte[5 + payload.Length];
        frame[0] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, 5);
        foreach (var (method, sender) in new[]
        {
            (ReportingService.Descriptor.FindMethodByName("SubmitReport"), Sender.Clerk),
            (QueryService.Descriptor.FindMethodByName("GetTotals"), Sender.Reader),
            (AdminService.Descriptor.FindMethodByName("EnrolChild"), Sender.Admin),
        })
        {
            for (var i = 0; i < 4; i++)
            {
                yield return (new HostileMessage(method, payload, sender, Hostility.GzipBomb, MustBeRefused: true), frame);
            }
        }
    }

    private static async Task<Outcome> SendAsync(Senders senders, HostileMessage message)
    {
        var call = new Method<byte[], byte[]>(MethodType.Unary, message.Method.Service.FullName, message.Method.Name, s_bytes, s_bytes);
        try
        {
            await senders[message.Sender].CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)), message.Body);
            return new Outcome(StatusCode.OK, 0, string.Empty);
        }
        catch (RpcException ex)
        {
            var size = Encoding.UTF8.GetByteCount(ex.Status.Detail) + ex.Trailers.Sum(static t => t.Key.Length + (t.IsBinary ? t.ValueBytes.Length : Encoding.UTF8.GetByteCount(t.Value)));
            return new Outcome(ex.StatusCode, size, ex.Status.Detail.Length > 200 ? ex.Status.Detail[..200] : ex.Status.Detail);
        }
    }

    /// <summary>A raw HTTP/2 gRPC request, to send a compressed frame the client library would never build.</summary>
    private static async Task<Outcome> SendRawAsync(string address, string? token, MethodDescriptor method, byte[] frame)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = static (_, certificate, _, _) =>
            certificate is not null && Federation.Node.Security.Pki.ChainsTo(
                System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), TestPki.Authority, DateTimeOffset.UtcNow);
        using var client = new HttpClient(handler) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{address}/{method.Service.FullName}/{method.Name}")
        {
            Content = new ByteArrayContent(frame),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("authorization", "Bearer " + token);
        }

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
        }
        catch (HttpRequestException ex)
        {
            // The server reset the stream: refused, without a status to read.
            return new Outcome(StatusCode.Aborted, 0, ex.Message);
        }

        using var disposeResponse = response;
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var t) ? t.First()
            : response.Headers.TryGetValues("grpc-status", out var h) ? h.First() : "2";
        var message = response.TrailingHeaders.TryGetValues("grpc-message", out var m) ? m.First()
            : response.Headers.TryGetValues("grpc-message", out var hm) ? hm.First() : string.Empty;
        return new Outcome((StatusCode)int.Parse(status, CultureInfo.InvariantCulture), Encoding.UTF8.GetByteCount(message), Uri.UnescapeDataString(message));
    }

    /// <summary>The node's high-water resident set (VmHWM), in bytes.</summary>
    private static long PeakRssBytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(static l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static async Task SeedAsync(NodeProcess node, Senders senders, FakeChild child)
    {
        var reporting = new ReportingService.ReportingServiceClient(senders[Sender.Clerk]);
        for (var i = 0; i < 3; i++)
        {
            await reporting.SubmitReportAsync(new SubmitReportRequest
            {
                UnitId = HostileMessages.Units[i],
                Period = HostileMessages.Quarter,
                Values = { Reports.Count("party_members", 30 + i), Reports.Count("members_developed", 1) },
            }, deadline: Rpc.Deadline());
        }

        var federation = new FederationService.FederationServiceClient(node.AsNode(HostileMessages.Child));
        await federation.PushSummaryAsync(new PushSummaryRequest { SignedSummary = child.Summary(HostileMessages.Quarter, 1, 35) }, deadline: Rpc.Deadline());
        await federation.PushSummaryAsync(new PushSummaryRequest { SignedSummary = child.Summary(HostileMessages.Quarter, 2, 40) }, deadline: Rpc.Deadline());
        var query = new QueryService.QueryServiceClient(senders[Sender.Reader]);
        await Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    return await query.GetTotalsAsync(new GetTotalsRequest { Period = HostileMessages.Quarter }, deadline: Rpc.Deadline());
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    return null;
                }
            },
            // Every seeded figure, the child's second version included: a summary built before that version
            // arrived would be rebuilt during the run and read as a change.
            static t => t.Coverage.ReportedLeafCount == 4 &&
                        t.Totals.FirstOrDefault(static f => f.Indicator.Id == "party_members")?.Aggregate?.Total == 30 + 31 + 32 + 40,
            "the seeded figures in the node's summary");
    }

    /// <summary>What the node holds, as its clients see it: reports, totals and summary version, children, tokens, outbox.</summary>
    private static async Task<string> SnapshotAsync(Senders senders)
    {
        var text = new StringBuilder();
        var reporting = new ReportingService.ReportingServiceClient(senders[Sender.Reviewer]);
        foreach (var unit in HostileMessages.Units)
        {
            try
            {
                var report = await reporting.GetReportAsync(new GetReportRequest { UnitId = unit, Period = HostileMessages.Quarter }, deadline: Rpc.Deadline());
                text.AppendLine(CultureInfo.InvariantCulture, $"{unit} v{report.Report.Version} {Convert.ToHexStringLower(report.Digest.Span)}");
            }
            catch (RpcException ex)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{unit} {ex.StatusCode}");
            }
        }

        var query = new QueryService.QueryServiceClient(senders[Sender.Reader]);
        foreach (var period in new[] { HostileMessages.Quarter, "2026-Q2", "2026-02", "2025" })
        {
            try
            {
                var totals = await query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Rpc.Deadline());
                text.AppendLine(CultureInfo.InvariantCulture, $"{period} {Convert.ToHexStringLower(Aggregator.Signing.Digests.Sha256(totals.SignedSummary.SummaryBytes.Span))}");
            }
            catch (RpcException ex)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{period} {ex.StatusCode}");
            }
        }

        try
        {
            var ratings = await new RatingService.RatingServiceClient(senders[Sender.Reader]).GetRatingsAsync(new GetRatingsRequest { Year = "2026" }, deadline: Rpc.Deadline());
            text.AppendLine(CultureInfo.InvariantCulture, $"ratings {Convert.ToHexStringLower(Aggregator.Signing.Digests.Sha256(ratings.Statement.StatementBytes.Span))}");
        }
        catch (RpcException ex)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"ratings {ex.StatusCode}");
        }

        var admin = new AdminService.AdminServiceClient(senders[Sender.Admin]);
        var children = await admin.ListChildrenAsync(new ListChildrenRequest { PageSize = 1000 }, deadline: Rpc.Deadline());
        text.AppendLine(string.Join(",", children.Children.Select(static c => $"{c.ChildId}:{c.KeyId}:{c.Address}")));
        var status = await admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        text.AppendLine(CultureInfo.InvariantCulture, $"units {status.HostedUnitCount} children {status.ChildCount} outbox {string.Join(",", status.OutboxPeriods)}");
        var tokens = await new AccessService.AccessServiceClient(senders[Sender.Admin]).ListTokensAsync(new ListTokensRequest { PageSize = 1000 }, deadline: Rpc.Deadline());
        text.AppendLine(string.Join(",", tokens.Tokens.Select(static t => $"{t.TokenId}:{t.RevokeTime is not null}")));
        return text.ToString();
    }

    private static async Task<Senders> SendersAsync(NodeProcess node)
    {
        var expired = await node.IssueTokenAsync(Role.Reader, null, TimeSpan.FromMilliseconds(200), "abuse-expired");
        var revoked = await node.IssueTokenAsync(Role.Admin, null, TimeSpan.FromDays(1), "abuse-revoked");
        using (var admin = TestPki.Channel(node.Address, node.Tokens.Admin))
        {
            await new AccessService.AccessServiceClient(admin).RevokeTokenAsync(new RevokeTokenRequest { TokenId = revoked.Split('.')[1] }, deadline: Rpc.Deadline());
        }

        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var tokens = new Dictionary<Sender, string?>
        {
            [Sender.Clerk] = node.Tokens.Clerk,
            [Sender.Reviewer] = node.Tokens.Reviewer,
            [Sender.Reader] = node.Tokens.Reader,
            [Sender.Admin] = node.Tokens.Admin,
            [Sender.NoCredential] = null,
            [Sender.GarbageToken] = "fed1.0123456789abcdef.garbage-garbage-garbage",
            [Sender.ExpiredToken] = expired,
            [Sender.RevokedToken] = revoked,
        };
        var channels = tokens.ToDictionary(static t => t.Key, t => TestPki.Channel(node.Address, t.Value));
        channels[Sender.Child] = TestPki.Channel(node.Address, asNode: HostileMessages.Child);
        channels[Sender.Parent] = TestPki.Channel(node.Address, asNode: HostileMessages.Parent);
        channels[Sender.Stranger] = TestPki.Channel(node.Address, asNode: "370113002");
        return new Senders(channels, tokens);
    }

    private static string WriteConfig(TempFolder folder, string dataPath, FakeChild child)
    {
        var config = new
        {
            Node = new
            {
                Id = HostileMessages.Township,
                Tier = "township",
                DataPath = dataPath,
                Listen = "https://127.0.0.1:0",
                // The parent is named (its certificate may pull) but not running.
                Parent = new { Id = HostileMessages.Parent, Address = "https://127.0.0.1:1" },
                HostedUnits = HostileMessages.Units.Select(static u => new { Id = u }),
                Children = new[] { new { child.Id, PublicKey = Convert.ToBase64String(child.PublicKey) } },
            },
            Tls = new { CertificatePath = TestPki.NodeFiles(HostileMessages.Township).Certificate, KeyPath = TestPki.NodeFiles(HostileMessages.Township).Key, CaPath = TestPki.CaPath },
            // The per-caller limit is tested on its own; here every hostile message must reach the node's code.
            Access = new { RequestsPerSecond = 1_000_000, Burst = 1_000_000 },
            Outbox = new { RedeliveryBaseDelay = "00:00:05", RedeliveryMaxDelay = "00:01:00", MaxRetryAttempts = 0 },
        };
        var path = folder.Sub("node.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }

    private sealed record Outcome(StatusCode Code, int StatusBytes, string Detail);

    /// <summary>The channels of every kind of sender, and their tokens for raw requests.</summary>
    private sealed class Senders(Dictionary<Sender, GrpcChannel> channels, Dictionary<Sender, string?> tokens) : IAsyncDisposable
    {
        public GrpcChannel this[Sender sender] => channels[sender];

        public string? TokenOf(Sender sender) => tokens.GetValueOrDefault(sender);

        public ValueTask DisposeAsync()
        {
            foreach (var channel in channels.Values)
            {
                channel.Dispose();
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Counts outcomes by kind and keeps the ones that break a rule.</summary>
    private sealed class Tally
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, int> _byHostility = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _byStatus = new(StringComparer.Ordinal);

        public int Total { get; private set; }

        public List<string> AcceptedBad { get; } = [];

        public List<string> Internal { get; } = [];

        public int LargestStatusBytes { get; private set; }

        public void Add(HostileMessage message, Outcome outcome)
        {
            lock (_gate)
            {
                Total++;
                _byHostility[message.Hostility.ToString()] = _byHostility.GetValueOrDefault(message.Hostility.ToString()) + 1;
                _byStatus[outcome.Code.ToString()] = _byStatus.GetValueOrDefault(outcome.Code.ToString()) + 1;
                LargestStatusBytes = Math.Max(LargestStatusBytes, outcome.StatusBytes);
                var what = $"{message.Method.Service.Name}.{message.Method.Name} {message.Hostility} as {message.Sender}: {outcome.Code} {outcome.Detail}";
                if (outcome.Code == StatusCode.OK && message.MustBeRefused)
                {
                    AcceptedBad.Add(what);
                }

                if (outcome.Code is StatusCode.Internal or StatusCode.Unknown)
                {
                    Internal.Add(what);
                }
            }
        }

        public SortedDictionary<string, int> ByHostility()
        {
            lock (_gate)
            {
                return new(_byHostility, StringComparer.Ordinal);
            }
        }

        public SortedDictionary<string, int> ByStatus()
        {
            lock (_gate)
            {
                return new(_byStatus, StringComparer.Ordinal);
            }
        }
    }
}
