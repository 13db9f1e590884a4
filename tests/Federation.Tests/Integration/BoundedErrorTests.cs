using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Xunit.Abstractions;

namespace Federation.Tests.Integration;

/// <summary>An error never echoes unbounded input, and ids and periods are checked before anything else.</summary>
public sealed class BoundedErrorTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Village = "370113001001";

    /// <summary>The pinned parent: only its certificate may pull, walk the subtree or ask for a proof chain.</summary>
    private const string Parent = "370113001";
    private const int HeaderBlockLimitBytes = 16 * 1024;
    private static readonly string s_hugeId = new('7', 1 << 20);
    private readonly TempFolder _folder = new();
    private TestNode _node = null!;

    /// <summary>Every call that takes an id or a period, by name.</summary>
    public static TheoryData<string> CallsTakingIdsOrPeriods => new()
    {
        "SubmitReport", "GetReport", "GetTotals", "GetDrillDown", "GetCompleteness", "GetTargets", "GetHistory", "GetProof",
        "GetAuditBundle", "PullSummary", "GetSubtreeStatus", "GetProofChain", "EnrolChild", "AddHostedUnit",
    };

    public async Task InitializeAsync() =>
        _node = await TestNode.StartAsync(
            new NodeSpec(Village, "village")
            {
                HostedUnitIds = [Village], ParentId = Parent, ParentAddress = "https://127.0.0.1:1", ParentPublicKey = TestNode.CreateKey(_folder.Sub(Parent)),
            }, _folder.Sub(Village));

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task SubmitReport_150000UnknownIndicators_ListsTwentyCountsTheRestAndKeepsTrailersSmall()
    {
        var request = new SubmitReportRequest { UnitId = Village, Period = "2026-Q1" };
        request.Values.AddRange(Enumerable.Range(0, 150_000).Select(static i => new IndicatorValue { IndicatorId = $"unknown_{i}", Count = 1 }));

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await _node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline()));
        var allocatedMiB = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (1024.0 * 1024.0);

        var trailerBytes = ex.Trailers.Sum(static t => t.Key.Length + (t.IsBinary ? (t.ValueBytes.Length + 2) / 3 * 4 : t.Value.Length));
        output.WriteLine($"request {request.CalculateSize()} bytes; trailers {trailerBytes} bytes; message {ex.Status.Detail.Length} characters; allocated by the call (client and node) {allocatedMiB:F1} MiB");
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.True(trailerBytes + ex.Status.Detail.Length * 3 < HeaderBlockLimitBytes / 2, $"trailers are {trailerBytes} bytes");
        var violations = ex.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations;
        Assert.Equal(21, violations.Count);
        Assert.All(violations.Take(20), static v => Assert.Equal("UNKNOWN_INDICATOR", v.Reason));
        Assert.Equal("VIOLATIONS_OMITTED", violations[20].Reason);
        Assert.StartsWith("149980 ", violations[20].Description, StringComparison.Ordinal);
        Assert.Empty(_node.Logs.Errors);
        Assert.Empty(_node.Logs.Warnings);
    }

    [Fact]
    public async Task SubmitReport_OneMebibyteUnitId_IsInvalidArgumentAtOnceAndTheChannelStillWorks()
    {
        var request = new SubmitReportRequest { UnitId = s_hugeId, Period = "2026-Q1", Values = { Reports.Count("party_members", 3) } };

        var status = await Rpc.FailsAsync(
            async () => await _node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_ID");

        Assert.Equal("unit_id", Rpc.ViolatedField(status));
        Assert.True(status.Message.Length < 300, status.Message);
        var next = await _node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = Village, Period = "2026-Q1", Values = { Reports.Count("party_members", 3) } }, deadline: Rpc.Deadline());
        Assert.Equal(1ul, next.Version);
        Assert.Empty(_node.Logs.Errors);
    }

    [Fact]
    public async Task SubmitReport_UnitIdWithAControlCharacter_IsMalformedId()
    {
        var request = new SubmitReportRequest { UnitId = "a\v", Period = "2026-Q1", Values = { Reports.Count("party_members", 3) } };

        var status = await Rpc.FailsAsync(
            async () => await _node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, "MALFORMED_ID");

        Assert.Equal("unit_id", Rpc.ViolatedField(status));
    }

    [Fact]
    public async Task AddHostedUnit_IdWithAControlCharacterOrOverTheLimit_IsMalformedIdAndAddsNothing()
    {
        foreach (var id in new[] { "a\v", "a|b", new string('1', 65), s_hugeId })
        {
            await Rpc.FailsAsync(
                async () => await _node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = id }, deadline: Rpc.Deadline()),
                StatusCode.InvalidArgument, "MALFORMED_ID");
        }

        var status = await _node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Equal(1u, status.HostedUnitCount);
    }

    [Theory]
    [MemberData(nameof(CallsTakingIdsOrPeriods))]
    public async Task Call_OneMebibyteId_IsInvalidArgumentNamingTheFieldAndTheChannelStillWorks(string call)
    {
        var takesNoId = call is "PullSummary" or "GetSubtreeStatus";

        var status = await Rpc.FailsAsync(
            () => CallAsync(call, s_hugeId, "2026-Q1"), StatusCode.InvalidArgument, takesNoId ? "MALFORMED_PERIOD" : "MALFORMED_ID");

        Assert.EndsWith(takesNoId ? "period" : "_id", Rpc.ViolatedField(status), StringComparison.Ordinal);
        Assert.True(status.CalculateSize() < 2048, $"status is {status.CalculateSize()} bytes");
        await _node.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline());
    }

    [Theory]
    [MemberData(nameof(CallsTakingIdsOrPeriods))]
    public async Task Call_MalformedPeriod_IsInvalidArgumentBeforeAnythingElse(string call)
    {
        if (call is "EnrolChild" or "AddHostedUnit")
        {
            return;
        }

        var status = await Rpc.FailsAsync(() => CallAsync(call, Village, "2026-Q9"), StatusCode.InvalidArgument, "MALFORMED_PERIOD");

        Assert.Contains("period", Rpc.ViolatedField(status), StringComparison.Ordinal);
    }

    private async Task CallAsync(string call, string id, string period)
    {
        var deadline = Rpc.Deadline();
        var digest = ByteString.CopyFrom(new byte[32]);
        switch (call)
        {
            case "SubmitReport":
                await _node.Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = id, Period = period, Values = { Reports.Count("party_members", 1) } }, deadline: deadline);
                break;
            case "GetReport":
                await _node.Reporting.GetReportAsync(new GetReportRequest { UnitId = id, Period = period }, deadline: deadline);
                break;
            case "GetTotals":
                await _node.Query.GetTotalsAsync(new GetTotalsRequest { NodeId = id, Period = period }, deadline: deadline);
                break;
            case "GetDrillDown":
                await _node.Query.GetDrillDownAsync(new GetDrillDownRequest { NodeId = id, Period = period }, deadline: deadline);
                break;
            case "GetCompleteness":
                await _node.Query.GetCompletenessAsync(new GetCompletenessRequest { NodeId = id, Period = period }, deadline: deadline);
                break;
            case "GetTargets":
                await _node.Query.GetTargetsAsync(new GetTargetsRequest { NodeId = id, Period = period }, deadline: deadline);
                break;
            case "GetHistory":
                await _node.Query.GetHistoryAsync(new GetHistoryRequest { NodeId = id, IndicatorId = "party_members", FromPeriod = period, ToPeriod = period }, deadline: deadline);
                break;
            case "GetProof":
                await _node.Query.GetProofAsync(new GetProofRequest { UnitId = id, Period = period }, deadline: deadline);
                break;
            case "GetAuditBundle":
                await _node.Query.GetAuditBundleAsync(new GetAuditBundleRequest { NodeId = id, Period = period }, deadline: deadline);
                break;
            case "PullSummary":
                // PullSummary takes no id: a huge value goes in its only text field.
                await _node.FederationAs(Parent).PullSummaryAsync(new PullSummaryRequest { Period = id == Village ? period : "2026-Q1" + id }, deadline: deadline);
                break;
            case "GetSubtreeStatus":
                await _node.FederationAs(Parent).GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = id == Village ? period : "2026-Q1" + id }, deadline: deadline);
                break;
            case "GetProofChain":
                await _node.FederationAs(Parent).GetProofChainAsync(new GetProofChainRequest { UnitId = id, Period = period, SummaryDigest = digest }, deadline: deadline);
                break;
            case "EnrolChild":
                await _node.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = id, PublicKey = ByteString.CopyFrom(new byte[32]) }, deadline: deadline);
                break;
            case "AddHostedUnit":
                await _node.Admin.AddHostedUnitAsync(new AddHostedUnitRequest { UnitId = id }, deadline: deadline);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(call), call, "unknown call");
        }
    }
}
