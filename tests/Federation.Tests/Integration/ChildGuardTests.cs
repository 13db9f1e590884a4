using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>A child cannot harm its parent: not with its leaf count, its versions, its clock or its conflicts.</summary>
public sealed class ChildGuardTests
{
    private const string Quarter = "2026-Q1";
    private const string NextQuarter = "2026-Q2";
    private const string CountyId = "370113";
    private const string TownshipId = "370113001";
    private const string UnitId = "370113001001";

    [Fact]
    public async Task ChildClaimingAMillionLeaves_CannotStopItsParentsPushUpward()
    {
        using var folder = new TempFolder();
        using var liar = new FakeChild("370113001009", 9);
        await using var tree = await TwoTiersAsync(folder, liar);

        var million = Resign(liar, liar.Summary(Quarter, 1, 40), static s => s.Coverage.ExpectedLeafCount = 1_000_000);
        var status = await Rpc.FailsAsync(() => PushAsync(tree.Township, million), StatusCode.InvalidArgument, "LEAF_ALLOWANCE_EXCEEDED");
        Assert.Equal("summary.coverage.expected_leaf_count", Rpc.ViolatedField(status));

        // The township's own unit reports and corrects; the county receives both, and another period too.
        await SubmitAsync(tree.Township, Quarter, 41);
        await SubmitAsync(tree.Township, Quarter, 50);
        await SubmitAsync(tree.Township, NextQuarter, 7);
        var corrected = await TestHierarchy.WaitForTotalsAsync(tree.County, Quarter, static t => PartyMembers(t) == 50, "the correction at the county");
        var other = await TestHierarchy.WaitForTotalsAsync(tree.County, NextQuarter, static t => PartyMembers(t) == 7, "the other period at the county");

        // The unit and the liar's single leaf until it says otherwise within its allowance.
        Assert.Equal((2u, 1u), (corrected.Coverage.ExpectedLeafCount, corrected.Coverage.ReportedLeafCount));
        Assert.Equal((2u, 1u), (other.Coverage.ExpectedLeafCount, other.Coverage.ReportedLeafCount));
        var townshipStatus = await tree.Township.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Empty(townshipStatus.Alerts);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ChildClaimingItsWholeAllowance_KeepsItsParentInBoundsAndTheParentStillPushes()
    {
        using var folder = new TempFolder();
        using var greedy = new FakeChild("370113001009", 9);
        await using var tree = await TwoTiersAsync(folder, greedy);

        // One hosted unit and one child enrolled without a count: the child may claim all but one leaf.
        var whole = Resign(greedy, greedy.Summary(Quarter, 1, 40), static s => s.Coverage.ExpectedLeafCount = 999_999);
        var stored = await PushAsync(tree.Township, whole);
        await SubmitAsync(tree.Township, Quarter, 41);

        Assert.Equal(PushOutcome.Stored, stored.Outcome);
        var county = await TestHierarchy.WaitForTotalsAsync(tree.County, Quarter, static t => PartyMembers(t) == 81, "the township's figures at the county");
        Assert.Equal(1_000_000u, county.Coverage.ExpectedLeafCount);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ChildClaimingItsShareOfAParentThatIsAllowedLess_IsSetAsideAndTheParentStillPushes()
    {
        using var folder = new TempFolder();
        using var liar = new FakeChild("370113001009", 9);
        var siblings = Enumerable.Range(2, 3).Select(static i => new FakeChild($"37011300{i}", (byte)(20 + i))).ToList();
        var countyKey = TestNode.CreateKey(folder.Sub(CountyId));
        var townshipKey = TestNode.CreateKey(folder.Sub(TownshipId));

        // The county has four townships, so it accepts at most a quarter of the bound from each.
        await using var county = await TestNode.StartAsync(
            new NodeSpec(CountyId, "county") { Children = [(TownshipId, townshipKey), .. siblings.Select(static s => (s.Id, s.PublicKey))] },
            folder.Sub(CountyId));
        await using var township = await TestNode.StartAsync(
            new NodeSpec(TownshipId, "township")
            {
                ParentAddress = county.Address,
                ParentId = CountyId,
                ParentPublicKey = countyKey,
                HostedUnitIds = [UnitId],
                Children = [(liar.Id, liar.PublicKey)],
            },
            folder.Sub(TownshipId));

        // Before the township has heard from the county, the liar may claim all but the hosted unit's leaf.
        var first = await PushAsync(township, Resign(liar, liar.Summary(Quarter, 1, 40), static s => s.Coverage.ExpectedLeafCount = 999_999));
        await SubmitAsync(township, Quarter, 41);
        var reached = await TestHierarchy.WaitForTotalsAsync(county, Quarter, static t => PartyMembers(t) == 41, "the township's own figure at the county");

        Assert.Equal(PushOutcome.Stored, first.Outcome);
        var cited = Summary.Parser.ParseFrom(reached.SignedSummary.SummaryBytes).Contributions.Single(static c => c.SourceId == TownshipId);
        Assert.Equal((2u, 1u), (cited.ExpectedLeafCount, cited.ReportedLeafCount));

        // The township now shares only what the county allows it.
        await Rpc.FailsAsync(
            () => PushAsync(township, Resign(liar, liar.Summary(Quarter, 2, 40), static s => s.Coverage.ExpectedLeafCount = 999_999)),
            StatusCode.InvalidArgument, "LEAF_ALLOWANCE_EXCEEDED");
        await SubmitAsync(township, Quarter, 50);
        await TestHierarchy.WaitForTotalsAsync(county, Quarter, static t => PartyMembers(t) == 50, "the correction at the county");
        Assert.Empty((await township.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline())).Alerts);
        Assert.Empty(township.Logs.Errors);
        Assert.Empty(county.Logs.Errors);
        siblings.ForEach(static s => s.Dispose());
    }

    [Fact]
    public async Task EnrollingAnotherChild_SetsAsideASummaryBeyondTheFirstChildsNewShare_AndTheNewChildIsAccepted()
    {
        using var folder = new TempFolder();
        using var first = new FakeChild("370113009", 3);
        using var second = new FakeChild("370113008", 4);
        await using var parent = await TestNode.StartAsync(new NodeSpec(CountyId, "county") { Children = [(first.Id, first.PublicKey)] }, folder.Sub(CountyId));

        // Alone, the first child may claim the whole bound.
        var whole = await PushAsync(parent, Resign(first, first.Summary(Quarter, 1, 30), static s => s.Coverage.ExpectedLeafCount = 1_000_000));
        await parent.Admin.EnrolChildAsync(new EnrolChildRequest { ChildId = second.Id, PublicKey = ByteString.CopyFrom(second.PublicKey) }, deadline: Rpc.Deadline());
        var newcomer = await PushAsync(parent, second.Summary(Quarter, 1, 40));

        Assert.Equal(PushOutcome.Stored, whole.Outcome);
        Assert.Equal(PushOutcome.Stored, newcomer.Outcome);
        var totals = await TestHierarchy.WaitForTotalsAsync(parent, Quarter, static t => t.Coverage.ReportedLeafCount == 1 && PartyMembers(t) == 40, "only the newcomer's figures");
        Assert.Equal(2u, totals.Coverage.ExpectedLeafCount);
        await Rpc.FailsAsync(
            () => PushAsync(parent, Resign(first, first.Summary(Quarter, 2, 30), static s => s.Coverage.ExpectedLeafCount = 1_000_000)),
            StatusCode.InvalidArgument, "LEAF_ALLOWANCE_EXCEEDED");
        Assert.Empty(parent.Logs.Errors);
    }

    [Fact]
    public async Task PushSummary_VersionFarInTheFuture_IsRefusedAndDoesNotPinTheChild()
    {
        using var folder = new TempFolder();
        using var child = new FakeChild("370113009", 3);
        await using var parent = await TestNode.StartAsync(new NodeSpec(CountyId, "county") { Children = [(child.Id, child.PublicKey)] }, folder.Sub(CountyId));

        var status = await Rpc.FailsAsync(() => PushAsync(parent, child.Summary(Quarter, long.MaxValue, 99)), StatusCode.InvalidArgument, "FUTURE_VERSION");
        var honest = await PushAsync(parent, child.Summary(Quarter, 1, 40));

        Assert.Equal("summary.version", Rpc.ViolatedField(status));
        Assert.Equal(PushOutcome.Stored, honest.Outcome);
        var totals = await TestHierarchy.WaitForTotalsAsync(parent, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the honest summary");
        Assert.Equal(40, PartyMembers(totals));
        Assert.Empty(parent.Logs.Errors);
    }

    [Fact]
    public async Task Announce_DatedInTheYear9998_IsRefusedAndALaterHonestAnnouncementApplies()
    {
        using var folder = new TempFolder();
        using var child = new FakeChild("370113009", 3);
        await using var parent = await TestNode.StartAsync(new NodeSpec(CountyId, "county") { Children = [(child.Id, child.PublicKey)] }, folder.Sub(CountyId));

        var status = await Rpc.FailsAsync(
            () => AnnounceAsync(parent, child, "http://127.0.0.1:1", new DateTimeOffset(9998, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            StatusCode.InvalidArgument, "FUTURE_VERSION");
        await AnnounceAsync(parent, child, "http://127.0.0.1:2", DateTimeOffset.UtcNow);

        Assert.Equal("announcement.announce_time", Rpc.ViolatedField(status));
        var children = await parent.Admin.ListChildrenAsync(new ListChildrenRequest(), deadline: Rpc.Deadline());
        Assert.Equal("http://127.0.0.1:2", Assert.Single(children.Children).Address);
    }

    [Fact]
    public async Task ResetChild_AfterAnHonestRestartWithLowerVersions_LetsTheChildsNewSummaryIn()
    {
        using var folder = new TempFolder();
        using var child = new FakeChild("370113009", 3);
        await using var parent = await TestNode.StartAsync(new NodeSpec(CountyId, "county") { Children = [(child.Id, child.PublicKey)] }, folder.Sub(CountyId));
        await PushAsync(parent, child.Summary(Quarter, 5, 40));

        // The child lost its data and starts numbering again.
        await Rpc.FailsAsync(() => PushAsync(parent, child.Summary(Quarter, 2, 45)), StatusCode.FailedPrecondition, "STALE_VERSION");
        var reset = await parent.Admin.ResetChildAsync(new ResetChildRequest { ChildId = child.Id }, deadline: Rpc.Deadline());
        var accepted = await PushAsync(parent, child.Summary(Quarter, 2, 45));

        Assert.Equal(1u, reset.ReleasedSummaryCount);
        Assert.Equal(PushOutcome.Stored, accepted.Outcome);
        await TestHierarchy.WaitForTotalsAsync(parent, Quarter, static t => PartyMembers(t) == 45, "the restarted child's figures");
        Assert.Contains(parent.Logs.Warnings, w => w.Contains("reset child " + child.Id, StringComparison.Ordinal));
        await Rpc.FailsAsync(
            async () => await parent.Admin.ResetChildAsync(new ResetChildRequest { ChildId = "nobody" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_NODE");
    }

    [Fact]
    public async Task PushSummary_TwoHundredConflictingSummaries_AreAllCountedAndTheDatabaseStaysSmall()
    {
        using var folder = new TempFolder();
        using var child = new FakeChild("370113009", 3);
        await using var parent = await TestNode.StartAsync(new NodeSpec(CountyId, "county") { Children = [(child.Id, child.PublicKey)] }, folder.Sub(CountyId));
        await PushAsync(parent, child.Summary(Quarter, 1, 40));

        // Each conflict is a different quarter-megabyte summary under the same version.
        for (var i = 0; i < 200; i++)
        {
            var padding = new string('x', 256 * 1024) + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var conflict = Resign(child, child.Summary(Quarter, 1, 40), s => s.Tier = padding);
            await Rpc.FailsAsync(() => PushAsync(parent, conflict), StatusCode.FailedPrecondition, "EQUIVOCATION");
        }

        var status = await parent.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline());
        Assert.Equal(200u, status.EquivocationCount);
        var databaseBytes = Directory.GetFiles(folder.Sub(CountyId), "*.db").Sum(static f => new FileInfo(f).Length);
        Assert.True(databaseBytes < 8 * 1024 * 1024, $"the database holds {databaseBytes} bytes");
        Assert.Empty(parent.Logs.Errors);
    }

    [Fact]
    public async Task PeriodRefusedForGood_ShowsInStatusAndIsLoggedAsAnErrorOnce()
    {
        using var folder = new TempFolder();
        var villageKey = TestNode.CreateKey(folder.Sub(UnitId));
        var townshipKey = TestNode.CreateKey(folder.Sub(TownshipId));

        // The township enrolled the village's key under another id, so it refuses the village's pushes for good.
        await using var township = await TestNode.StartAsync(
            new NodeSpec(TownshipId, "township") { Children = [("370113001002", villageKey)] }, folder.Sub(TownshipId));
        await using var village = await TestNode.StartAsync(
            new NodeSpec(UnitId, "village") { ParentAddress = township.Address, ParentId = TownshipId, ParentPublicKey = townshipKey, HostedUnitIds = [UnitId] },
            folder.Sub(UnitId));

        await SubmitAsync(village, Quarter, 41);
        var first = await WaitForAlertsAsync(village, 1);
        await SubmitAsync(village, NextQuarter, 7);
        var both = await WaitForAlertsAsync(village, 2);

        var alert = first.Alerts.Single();
        var held = await village.Query.GetTotalsAsync(new GetTotalsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(Quarter, alert.Period);
        Assert.Equal(Summary.Parser.ParseFrom(held.SignedSummary.SummaryBytes).Version, alert.Version);
        Assert.StartsWith("PermissionDenied", alert.Reason, StringComparison.Ordinal);
        Assert.NotNull(alert.SinceTime);
        Assert.Equal([Quarter, NextQuarter], both.Alerts.Select(static a => a.Period));
        Assert.Single(village.Logs.Errors, static e => e.Contains("[212]", StringComparison.Ordinal) && e.Contains(Quarter, StringComparison.Ordinal));
        Assert.Equal(2, village.Logs.Errors.Count(static e => e.Contains("[212]", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Township_With245VillagesEnrolledWithoutCounts_CoversThemAll()
    {
        using var folder = new TempFolder();
        var villages = Enumerable.Range(1, 245).Select(static i => new FakeChild($"370113001{i:D3}", (byte)i)).ToList();
        try
        {
            await using var township = await TestNode.StartAsync(
                new NodeSpec(TownshipId, "township") { Children = [.. villages.Select(static v => (v.Id, v.PublicKey))] }, folder.Sub(TownshipId));

            var pushes = await Task.WhenAll(villages.Select(v => PushAsync(township, v.Summary(Quarter, 1, 10))));

            Assert.All(pushes, static p => Assert.Equal(PushOutcome.Stored, p.Outcome));
            var totals = await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => t.Coverage.ReportedLeafCount == 245, "all 245 villages");
            Assert.Equal(245u, totals.Coverage.ExpectedLeafCount);
            Assert.Equal(2450, PartyMembers(totals));
            Assert.Empty(township.Logs.Errors);
        }
        finally
        {
            villages.ForEach(static v => v.Dispose());
        }
    }

    private static async Task<GetStatusResponse> WaitForAlertsAsync(TestNode node, int count) =>
        await Eventually.ReturnsAsync(
            async () => await node.Admin.GetStatusAsync(new GetStatusRequest(), deadline: Rpc.Deadline()),
            s => s.Alerts.Count == count,
            $"{count} alerts in the status");

    private static async Task<TwoTiers> TwoTiersAsync(TempFolder folder, FakeChild child)
    {
        var countyKey = TestNode.CreateKey(folder.Sub(CountyId));
        var townshipKey = TestNode.CreateKey(folder.Sub(TownshipId));
        var county = await TestNode.StartAsync(new NodeSpec(CountyId, "county") { Children = [(TownshipId, townshipKey)] }, folder.Sub(CountyId));
        var township = await TestNode.StartAsync(
            new NodeSpec(TownshipId, "township")
            {
                ParentAddress = county.Address,
                ParentId = CountyId,
                ParentPublicKey = countyKey,
                HostedUnitIds = [UnitId],
                Children = [(child.Id, child.PublicKey)],
            },
            folder.Sub(TownshipId));
        return new TwoTiers(county, township);
    }

    private static SignedSummary Resign(FakeChild child, SignedSummary signed, Action<Summary> change)
    {
        var summary = Summary.Parser.ParseFrom(signed.SummaryBytes);
        change(summary);
        return SignedMessages.SignSummary(summary, child.Key);
    }

    /// <summary>Pushes as the child that signed the summary, presenting its node certificate.</summary>
    private static async Task<PushSummaryResponse> PushAsync(TestNode node, SignedSummary signed) =>
        await node.FederationAs(Summary.Parser.ParseFrom(signed.SummaryBytes).NodeId)
            .PushSummaryAsync(new PushSummaryRequest { SignedSummary = signed }, deadline: Rpc.Deadline());

    private static async Task AnnounceAsync(TestNode node, FakeChild child, string address, DateTimeOffset time) =>
        await node.FederationAs(child.Id).AnnounceAsync(
            new AnnounceRequest
            {
                Announcement = SignedMessages.SignAnnouncement(
                    new Announcement { NodeId = child.Id, Address = address, AnnounceTime = Timestamp.FromDateTimeOffset(time) }, child.Key),
            },
            deadline: Rpc.Deadline());

    private static async Task SubmitAsync(TestNode node, string period, long partyMembers) =>
        await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = UnitId, Period = period, Values = { Reports.Count("party_members", partyMembers) } },
            deadline: Rpc.Deadline());

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total;

    /// <summary>A county with one township that hosts one unit and has one child played by the test.</summary>
    private sealed class TwoTiers(TestNode county, TestNode township) : IAsyncDisposable
    {
        public TestNode County { get; } = county;

        public TestNode Township { get; } = township;

        public void AssertNoErrors()
        {
            Assert.True(County.Logs.Errors.Count == 0, string.Join("\n", County.Logs.Errors));
            Assert.True(Township.Logs.Errors.Count == 0, string.Join("\n", Township.Logs.Errors));
        }

        public async ValueTask DisposeAsync()
        {
            await Township.DisposeAsync();
            await County.DisposeAsync();
        }
    }
}
