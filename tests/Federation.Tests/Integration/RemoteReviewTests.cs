using Federation.Aggregator.Signing;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// 三级联审 when a village runs its own node (a single-leaf child): the township returns, approves and reopens the
/// village's report by its id, the decision reaches the village before it is recorded, and the chain of locks holds
/// across three tiers. Real nodes, mutual TLS, per-role tokens.
/// </summary>
public sealed class RemoteReviewTests
{
    private const string Quarter = "2026-Q1";
    private const string County = "370113";
    private const string Township = "370113001";
    private const string VillageOne = "370113001001";
    private const string VillageTwo = "370113001002";

    [Fact]
    public async Task ReturnReport_RemoteVillage_ItsClerkSeesTheReason_ACorrectionSubmitsAgain_ThenTheTownshipsApprovalLocksIt()
    {
        using var folder = new TempFolder();
        var shape = new TreeNode(Township, "township", [new(VillageOne, "village", []), new(VillageTwo, "village", [])]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape);
        var first = await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 40)]);
        await tree.SubmitAsync(VillageTwo, Quarter, [Reports.Count("party_members", 25)]);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 2, "both villages at the township");
        var township = tree.Root;

        // A reviewer of the township whose scope is village 001 alone reaches that village, not its neighbour.
        var narrow = Reviewer(township, await township.IssueTokenAsync(Role.Reviewer, VillageOne, account: "reviewer-001"));
        var returned = await narrow.ReturnReportAsync(
            new ReturnReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "党员数与名册不符" }, deadline: Rpc.Deadline());
        await Rpc.FailsAsync(
            async () => await narrow.ReturnReportAsync(new ReturnReportRequest { UnitId = VillageTwo, Period = Quarter, Reason = "x" }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");

        var townshipKey = await PublicKeyAsync(township);
        var decision = Verified(returned.Decision, townshipKey);
        Assert.Equal((Township, DecisionSubject.ChildReport, VillageOne, 1ul), (decision.NodeId, decision.Subject, decision.SubjectId, decision.SubjectVersion));
        Assert.Equal(first.Digest, decision.SubjectDigest);

        // The village's clerk, at the village's own node, sees the township's reason and signed decision.
        var clerk = Clerk(tree[VillageOne]);
        var status = await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal((ReviewStatus.Returned, "党员数与名册不符", false), (status.Status, status.Reason, status.LockedAbove));
        Assert.Equal(returned.Decision, status.LastDecision);
        Assert.Equal(ReviewStatus.Returned, (await StatusAtAsync(township, VillageOne)).Status);
        Assert.Equal(ReviewStatus.Returned, await ListedStatusAsync(township, VillageOne));
        var townshipReviewer = Reviewer(township, township.Tokens.Reviewer);
        await Rpc.FailsAsync(
            async () => await townshipReviewer.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE");

        var corrected = await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 42)]);
        await Eventually.ReturnsAsync(async () => await ListedAsync(township, VillageOne), static e => e.ReviewStatus == ReviewStatus.Submitted,
            "the correction to reach the township as submitted again");

        var approved = await townshipReviewer.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(corrected.Digest, Verified(approved.Decision, townshipKey).SubjectDigest);
        status = await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal((ReviewStatus.Approved, true), (status.Status, status.LockedAbove));

        // Locked at the village: neither its clerk nor its own reviewer changes what the tier above approved.
        await Rpc.FailsAsync(async () => await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 43)]), StatusCode.FailedPrecondition, "LOCKED");
        var villageReviewer = Reviewer(tree[VillageOne], tree[VillageOne].Tokens.Reviewer);
        await Rpc.FailsAsync(
            async () => await villageReviewer.ReopenReportAsync(new ReopenReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "ours" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");
        await Rpc.FailsAsync(
            async () => await clerk.WithdrawReportAsync(new WithdrawReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");

        // The approval travels up in the village's own summary.
        await TestHierarchy.WaitForTotalsAsync(tree[VillageOne], Quarter, static t => t.Coverage.ApprovedLeafCount == 1, "the approval in the village's summary");
        await TestHierarchy.WaitForTotalsAsync(township, Quarter, static t => t.Coverage.ApprovedLeafCount == 1, "the approval at the township");

        // The township lists its signed decisions about the village, each verifiable offline; the village holds the same bytes.
        var history = await townshipReviewer.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal([returned.Decision, approved.Decision], history.Decisions);
        Assert.Equal([DecisionKind.Return, DecisionKind.Approve], history.Decisions.Select(d => Verified(d, townshipKey).Kind));
        Assert.Equal(history.Decisions, await AllDecisionsOneByOneAsync(townshipReviewer, VillageOne));
        var atVillage = await clerk.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(history.Decisions, atVillage.Decisions);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ApproveReport_RemoteVillageUnreachable_DecidesNothing_UntilItAnswersAgain()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, new TreeNode(Township, "township", [new(VillageOne, "village", [])]));
        await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 40)]);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the village at the township");
        var reviewer = Reviewer(tree.Root, tree.Root.Tokens.Reviewer);

        await tree[VillageOne].StopAsync();
        await Rpc.FailsAsync(
            async () => await reviewer.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.Unavailable, "CHILD_UNREACHABLE");
        Assert.Empty((await reviewer.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline())).Decisions);
        Assert.Equal(ReviewStatus.Submitted, await ListedStatusAsync(tree.Root, VillageOne));

        // Started again (on another port, which it announces), the village takes the same decision asked again.
        await tree[VillageOne].StartAsync();
        var approved = await Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    return await reviewer.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
                {
                    return null;
                }
            },
            static _ => true,
            "the village to answer again");
        var history = await reviewer.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(approved.Decision, Assert.Single(history.Decisions));
        var status = await Clerk(tree[VillageOne]).GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(ReviewStatus.Approved, status.Status);
    }

    [Fact]
    public async Task TownshipDecision_OnWhatTheVillagesOwnReviewerDecided_IsRefusedByTheVillage_OrTakesOverItsApproval()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, new TreeNode(Township, "township", [new(VillageOne, "village", [])]));
        await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 40)]);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the village at the township");
        var township = Reviewer(tree.Root, tree.Root.Tokens.Reviewer);
        var village = Reviewer(tree[VillageOne], tree[VillageOne].Tokens.Reviewer);

        // Returned at the village, which the township does not know: its approval is refused there, and nothing is decided.
        await village.ReturnReportAsync(new ReturnReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "ours first" }, deadline: Rpc.Deadline());
        var refused = await Rpc.FailsAsync(
            async () => await township.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "CHILD_REFUSED");
        Assert.Equal("WRONG_REVIEW_STATE", refused.GetDetail<Google.Rpc.ErrorInfo>().Metadata["child_reason"]);
        Assert.Empty((await township.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline())).Decisions);

        // Corrected and approved at the village: the township cannot return it, but its approval takes the village's over.
        await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 41)]);
        await village.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        await Eventually.ReturnsAsync(async () => await ListedAsync(tree.Root, VillageOne), static e => e.ApprovedLeafCount == 1, "the village's approval at the township");
        refused = await Rpc.FailsAsync(
            async () => await township.ReturnReportAsync(new ReturnReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "recount" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "CHILD_REFUSED");
        Assert.Equal("LOCKED", refused.GetDetail<Google.Rpc.ErrorInfo>().Metadata["child_reason"]);
        await township.ApproveReportAsync(new ApproveReportRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        await Rpc.FailsAsync(
            async () => await village.ReopenReportAsync(new ReopenReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "ours" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");
        var status = await Clerk(tree[VillageOne]).GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal((ReviewStatus.Approved, true, Township), (status.Status, status.LockedAbove, Decision.Parser.ParseFrom(status.LastDecision.DecisionBytes).NodeId));
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ThreeTiers_CountyApprovesTownship_NothingBelowMovesUntilReopenedTopDown_ThenTheCorrectionReachesEveryTier()
    {
        using var folder = new TempFolder();
        var shape = new TreeNode(County, "county", [new TreeNode(Township, "township", [new(VillageOne, "village", []), new(VillageTwo, "village", [])])]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape);
        await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 30)]);
        await tree.SubmitAsync(VillageTwo, Quarter, [Reports.Count("party_members", 20)]);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 2, "both villages at the county");
        var county = Reviewer(tree.Root, tree.Root.Tokens.Reviewer);
        var township = Reviewer(tree[Township], tree[Township].Tokens.Reviewer);

        // The township covers two leaves: it is reviewed as a summary, never as a report.
        await Rpc.FailsAsync(
            async () => await county.ApproveReportAsync(new ApproveReportRequest { UnitId = Township, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_UNIT");
        await Rpc.FailsAsync(
            async () => await county.ApproveChildAsync(new ApproveChildRequest { NodeId = Township, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "BELOW_NOT_APPROVED");

        // The township approves both villages from where it is; nobody at a village node approves anything.
        foreach (var village in new[] { VillageOne, VillageTwo })
        {
            await township.ApproveReportAsync(new ApproveReportRequest { UnitId = village, Period = Quarter }, deadline: Rpc.Deadline());
        }

        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ApprovedLeafCount == 2, "both approvals at the county");
        await county.ApproveChildAsync(new ApproveChildRequest { NodeId = Township, Period = Quarter }, deadline: Rpc.Deadline());

        // County approved the township: the township cannot reopen the village, the clerk cannot correct, the village reviewer cannot reopen.
        await Rpc.FailsAsync(
            async () => await township.ReopenReportAsync(new ReopenReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "recount" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");
        await Rpc.FailsAsync(async () => await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 35)]), StatusCode.FailedPrecondition, "LOCKED");
        await Rpc.FailsAsync(
            async () => await Reviewer(tree[VillageOne], tree[VillageOne].Tokens.Reviewer).ReopenReportAsync(
                new ReopenReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "ours" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");

        // Reopened top-down, each with its reason: county → township, township → village; then the clerk corrects.
        await county.ReopenChildAsync(new ReopenChildRequest { NodeId = Township, Period = Quarter, Reason = "village 001 recount" }, deadline: Rpc.Deadline());
        await township.ReopenReportAsync(new ReopenReportRequest { UnitId = VillageOne, Period = Quarter, Reason = "重新核对党员数" }, deadline: Rpc.Deadline());
        var status = await Clerk(tree[VillageOne]).GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal((ReviewStatus.Submitted, "重新核对党员数", false), (status.Status, status.Reason, status.LockedAbove));
        var corrected = await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 35)]);

        Assert.Equal(2ul, corrected.Version);
        await TestHierarchy.WaitForTotalsAsync(tree[VillageOne], Quarter, static t => Members(t) == 35, "the correction at the village");
        await TestHierarchy.WaitForTotalsAsync(tree[Township], Quarter, static t => Members(t) == 55, "the correction at the township");
        var atCounty = await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter,
            static t => Members(t) == 55 && t.Coverage.CorrectedAfterApprovalLeafCount == 1, "the correction at the county");
        Assert.Equal(1u, atCounty.Coverage.ApprovedLeafCount);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ApplyParentDecision_AboutTheVillagesReport_OnlyTheCurrentReport_NewerThanTheLast_AndNeverAWithdrawal()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, new TreeNode(Township, "township", [new(VillageOne, "village", [])]));
        var first = await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 40)]);
        var current = await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 41)]);
        using var townshipKey = NodeKeyFile.LoadOrCreate(folder.Sub(Township));
        using var parentChannel = TestPki.Channel(tree[VillageOne].Address, asNode: Township);
        var asParent = new ReviewService.ReviewServiceClient(parentChannel);
        var start = DateTimeOffset.UtcNow;
        ApplyParentDecisionRequest Decide(DecisionKind kind, ByteString digest, ulong version, int seconds, string subjectId = VillageOne) => new()
        {
            Decision = SignedMessages.SignDecision(new Decision
            {
                NodeId = Township,
                Kind = kind,
                Subject = DecisionSubject.ChildReport,
                SubjectId = subjectId,
                Period = Quarter,
                SubjectVersion = version,
                SubjectDigest = digest,
                Account = "reviewer-" + Township,
                Reason = kind == DecisionKind.Approve ? string.Empty : "why",
                DecideTime = Timestamp.FromDateTimeOffset(start.AddSeconds(seconds)),
            }, townshipKey),
        };

        await Rpc.FailsAsync(async () => await asParent.ApplyParentDecisionAsync(Decide(DecisionKind.Approve, first.Digest, 1, 1), deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "STALE_VERSION");
        await Rpc.FailsAsync(async () => await asParent.ApplyParentDecisionAsync(Decide(DecisionKind.Withdraw, current.Digest, 2, 1), deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE");
        await Rpc.FailsAsync(async () => await asParent.ApplyParentDecisionAsync(Decide(DecisionKind.Approve, current.Digest, 2, 1, VillageTwo), deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "SENDER_MISMATCH");
        var clerk = Clerk(tree[VillageOne]);
        Assert.Equal(ReviewStatus.Submitted, (await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline())).Status);

        var approval = Decide(DecisionKind.Approve, current.Digest, 2, 2);
        await asParent.ApplyParentDecisionAsync(approval, deadline: Rpc.Deadline());
        await asParent.ApplyParentDecisionAsync(approval, deadline: Rpc.Deadline());
        await Rpc.FailsAsync(async () => await asParent.ApplyParentDecisionAsync(Decide(DecisionKind.Reopen, current.Digest, 2, 1), deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "STALE_VERSION");
        await asParent.ApplyParentDecisionAsync(Decide(DecisionKind.Reopen, current.Digest, 2, 3), deadline: Rpc.Deadline());

        var history = await clerk.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal([DecisionKind.Approve, DecisionKind.Reopen], history.Decisions.Select(static d => Decision.Parser.ParseFrom(d.DecisionBytes).Kind));
        var status = await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = VillageOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal((ReviewStatus.Submitted, "why"), (status.Status, status.Reason));
        await tree.SubmitAsync(VillageOne, Quarter, [Reports.Count("party_members", 42)]);
    }

    private static ReviewService.ReviewServiceClient Reviewer(TestNode node, string token) => new(node.ChannelWith(token));

    private static ReviewService.ReviewServiceClient Clerk(TestNode node) => new(node.ChannelWith(node.Tokens.Clerk));

    private static long Members(GetTotalsResponse totals) => totals.Totals.Single(static t => t.Indicator.Id == "party_members").Aggregate.Total;

    private static async Task<GetReviewStatusResponse> StatusAtAsync(TestNode node, string unitId) =>
        await new ReviewService.ReviewServiceClient(node.ChannelWith(node.Tokens.Reader))
            .GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = unitId, Period = Quarter }, deadline: Rpc.Deadline());

    private static async Task<ReviewStatus> ListedStatusAsync(TestNode node, string id) => (await ListedAsync(node, id)).ReviewStatus;

    /// <summary>A child's entry in the node's ListUnits for the quarter.</summary>
    private static async Task<UnitEntry> ListedAsync(TestNode node, string id)
    {
        var listed = await new ReviewService.ReviewServiceClient(node.ChannelWith(node.Tokens.Reader))
            .ListUnitsAsync(new ListUnitsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        var entry = listed.Units.Single(u => u.Id == id);
        Assert.Equal(UnitEntryKind.ChildNode, entry.Kind);
        return entry;
    }

    /// <summary>Reads the decisions one per page, following the tokens.</summary>
    private static async Task<List<SignedDecision>> AllDecisionsOneByOneAsync(ReviewService.ReviewServiceClient client, string subjectId)
    {
        var all = new List<SignedDecision>();
        var request = new GetDecisionsRequest { SubjectId = subjectId, Period = Quarter, PageSize = 1 };
        do
        {
            var page = await client.GetDecisionsAsync(request, deadline: Rpc.Deadline());
            all.AddRange(page.Decisions);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        return all;
    }

    private static async Task<byte[]> PublicKeyAsync(TestNode node) =>
        (await node.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();

    /// <summary>Checks a decision offline, with nothing but the deciding node's public key.</summary>
    private static Decision Verified(SignedDecision signed, byte[] publicKey)
    {
        var verification = SignedMessages.VerifyDecision(signed, publicKey);
        Assert.True(verification.IsValid, verification.Message);
        return verification.Value!;
    }
}
