using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>A parent applies the version rules to pushed summaries and refuses anything it cannot trust.</summary>
public sealed class PushTests : IAsyncLifetime
{
    private const string Quarter = "2026-Q1";
    private readonly TempFolder _folder = new();
    private readonly FakeChild _first = new("370113001", 1);
    private readonly FakeChild _second = new("370113002", 2);
    private TestNode _parent = null!;

    public async Task InitializeAsync() => _parent = await TestNode.StartAsync(
        new NodeSpec("370113", "county") { Children = [(_first.Id, _first.PublicKey), (_second.Id, _second.PublicKey)] },
        _folder.Sub("370113"));

    public async Task DisposeAsync()
    {
        Assert.True(_parent.Logs.Errors.Count == 0, string.Join("\n", _parent.Logs.Errors));
        await _parent.DisposeAsync();
        _first.Dispose();
        _second.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task PushSummary_SameSummaryTwice_IsCountedOnce()
    {
        var signed = _first.Summary(Quarter, 1, 40);

        var firstPush = await PushAsync(signed);
        var secondPush = await PushAsync(signed);

        Assert.Equal(PushOutcome.Stored, firstPush.Outcome);
        Assert.Equal(PushOutcome.AlreadyHeld, secondPush.Outcome);
        var totals = await TestHierarchy.WaitForTotalsAsync(_parent, Quarter, static t => t.Coverage.ReportedLeafCount > 0, "the parent summary");
        Assert.Equal(40, PartyMembers(totals));
        Assert.Equal(1u, totals.Coverage.ReportedLeafCount);
    }

    [Fact]
    public async Task PushSummary_NewerVersion_ReplacesOlder_AndOlderIsThenStale()
    {
        await PushAsync(_first.Summary(Quarter, 1, 40));
        await PushAsync(_first.Summary(Quarter, 2, 45));

        await Rpc.FailsAsync(() => PushAsync(_first.Summary(Quarter, 1, 40)), StatusCode.FailedPrecondition, "STALE_VERSION");

        var totals = await TestHierarchy.WaitForTotalsAsync(_parent, Quarter, static t => PartyMembers(t) == 45, "version 2 at the parent");
        Assert.Equal(1u, totals.Coverage.ReportedLeafCount);
        var contribution = Assert.Single(Summary.Parser.ParseFrom(totals.SignedSummary.SummaryBytes).Contributions);
        Assert.Equal(2ul, contribution.Version);
    }

    [Fact]
    public async Task PushSummary_SameVersionOtherDigest_IsRejectedAndRecorded()
    {
        await PushAsync(_first.Summary(Quarter, 3, 40));

        await Rpc.FailsAsync(() => PushAsync(_first.Summary(Quarter, 3, 99)), StatusCode.FailedPrecondition, "EQUIVOCATION");

        var status = await _parent.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Equal(1u, status.EquivocationCount);
        var totals = await TestHierarchy.WaitForTotalsAsync(_parent, Quarter, static t => t.Coverage.ReportedLeafCount > 0, "the parent summary");
        Assert.Equal(40, PartyMembers(totals));
    }

    [Fact]
    public async Task PushSummary_OneFlippedByte_IsUnauthenticatedAndStoresNothing()
    {
        var signed = _first.Summary(Quarter, 1, 40);
        var bytes = signed.SummaryBytes.ToByteArray();
        bytes[bytes.Length / 2] ^= 0x01;
        signed.SummaryBytes = ByteString.CopyFrom(bytes);

        await Rpc.FailsAsync(() => PushAsync(signed), StatusCode.Unauthenticated, "BAD_SIGNATURE");

        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task PushSummary_SignedByUnenrolledKey_IsUnauthenticatedAndStoresNothing()
    {
        using var stranger = new FakeChild(_first.Id, 9);

        await Rpc.FailsAsync(() => PushAsync(stranger.Summary(Quarter, 1, 40)), StatusCode.Unauthenticated, "UNKNOWN_SIGNER");

        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task PushSummary_ChildInAnotherChildsName_IsPermissionDeniedAndStoresNothing()
    {
        var forged = _first.Summary(Quarter, 1, 40, claimedId: _second.Id);

        var status = await Rpc.FailsAsync(() => PushAsync(forged), StatusCode.PermissionDenied, "SENDER_MISMATCH");

        Assert.Equal("summary.node_id", Rpc.ViolatedField(status));
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task PushSummary_CountsBeyondAnyRealTree_AreRefusedAndTheParentKeepsRollingUp()
    {
        var signed = _first.Summary(Quarter, 1, 40);
        var summary = Summary.Parser.ParseFrom(signed.SummaryBytes);
        summary.Coverage.ExpectedLeafCount = uint.MaxValue;
        var huge = Aggregator.Signing.SignedMessages.SignSummary(summary, _first.Key);

        var status = await Rpc.FailsAsync(() => PushAsync(huge), StatusCode.InvalidArgument, "VALUE_TOO_LARGE");

        Assert.Equal("summary.coverage.expected_leaf_count", Rpc.ViolatedField(status));
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task Announce_AddressThatIsNotHttp_IsRefusedAndThePullStillAnswers()
    {
        var announcement = new Announcement { NodeId = _first.Id, Address = "ftp://127.0.0.1:21", AnnounceTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow) };

        var status = await Rpc.FailsAsync(
            async () => await _parent.FederationAs(_first.Id).AnnounceAsync(new AnnounceRequest { Announcement = Aggregator.Signing.SignedMessages.SignAnnouncement(announcement, _first.Key) }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "MALFORMED_ADDRESS");

        Assert.Equal("announcement.address", Rpc.ViolatedField(status));
        await PushAsync(_first.Summary(Quarter, 1, 40));
        var totals = await _parent.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter, Refresh = true }, deadline: Rpc.Deadline());
        Assert.Equal(40, PartyMembers(totals));
    }

    [Fact]
    public async Task ListChildren_PagesThroughEveryEnrolledChildInIdOrder()
    {
        var first = await _parent.Admin.ListChildrenAsync(new ListChildrenRequest { PageSize = 1 }, deadline: Rpc.Deadline());
        var second = await _parent.Admin.ListChildrenAsync(new ListChildrenRequest { PageSize = 1, PageToken = first.NextPageToken }, deadline: Rpc.Deadline());
        var last = await _parent.Admin.ListChildrenAsync(new ListChildrenRequest { PageSize = 1, PageToken = second.NextPageToken }, deadline: Rpc.Deadline());

        Assert.Equal(_first.Id, Assert.Single(first.Children).ChildId);
        Assert.Equal(_second.Id, Assert.Single(second.Children).ChildId);
        Assert.Empty(last.Children);
        Assert.Equal(string.Empty, last.NextPageToken);
    }

    [Fact]
    public async Task PushSummary_OversizeMessage_IsResourceExhausted()
    {
        var signed = _first.Summary(Quarter, 1, 40);
        signed.Signature = ByteString.CopyFrom(new byte[5 * 1024 * 1024]);

        var ex = await Assert.ThrowsAsync<RpcException>(() => PushAsync(signed));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await AssertNothingStoredAsync();
    }

    /// <summary>Pushes as <paramref name="asNode"/> (default: the first child), presenting its certificate.</summary>
    private async Task<PushSummaryResponse> PushAsync(SignedSummary signed, string? asNode = null) =>
        await _parent.FederationAs(asNode ?? _first.Id).PushSummaryAsync(new PushSummaryRequest { SignedSummary = signed }, deadline: Rpc.Deadline());

    /// <summary>
    /// A valid push for another period is a barrier: the writer applies changes in order and rebuilds
    /// dirty periods together, so once its figures show, anything stored before would show too.
    /// </summary>
    private async Task AssertNothingStoredAsync()
    {
        await PushAsync(_second.Summary("2026-Q2", 1, 5), _second.Id);
        await TestHierarchy.WaitForTotalsAsync(_parent, "2026-Q2", static t => t.Coverage.ReportedLeafCount == 1, "the barrier period");

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _parent.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline()));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        var status = await _parent.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Equal(0u, status.EquivocationCount);
    }

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total;
}
