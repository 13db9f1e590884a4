using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>Review and approval (三级联审) on real nodes: returns, approvals, locks, reopens and their signed history.</summary>
public sealed class ReviewTests
{
    private const string Quarter = "2026-Q1";
    private const string Township = "370113001";
    private const string UnitOne = "370113001001";
    private const string UnitTwo = "370113001002";

    [Fact]
    public async Task ReturnedReport_CorrectedAndApproved_HistoryShowsEachSignedDecision()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne, UnitTwo] }, folder.Sub(Township));
        var review = Reviewer(node);
        await Submit(node, UnitOne, 40);

        var returned = await review.ReturnReportAsync(
            new ReturnReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "party_members does not match the roll" }, deadline: Rpc.Deadline());
        var asClerk = new ReviewService.ReviewServiceClient(node.ChannelWith(node.Tokens.Clerk));
        var status = await asClerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(ReviewStatus.Returned, status.Status);
        Assert.Equal("party_members does not match the roll", status.Reason);

        var corrected = await Submit(node, UnitOne, 42);
        status = await asClerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(ReviewStatus.Submitted, status.Status);
        var approved = await review.ApproveReportAsync(new ApproveReportRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());

        var history = await review.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        var key = await PublicKeyAsync(node);
        var decisions = history.Decisions.Select(d => Verified(d, key)).ToList();
        Assert.Equal([DecisionKind.Return, DecisionKind.Approve], decisions.Select(static d => d.Kind));
        Assert.All(decisions, d => Assert.Equal("reviewer-" + Township, d.Account));
        Assert.All(decisions, d => Assert.Equal(Township, d.NodeId));
        Assert.Equal(1ul, decisions[0].SubjectVersion);
        Assert.Equal(corrected.Digest, decisions[1].SubjectDigest);
        Assert.Equal(returned.Decision, history.Decisions[0]);
        Assert.Equal(approved.Decision, history.Decisions[1]);
        var totals = await TestHierarchy.WaitForTotalsAsync(node, Quarter, static t => t.Coverage.ApprovedLeafCount == 1, "the approval to reach the summary");
        Assert.Equal(1u, totals.Coverage.ReportedLeafCount);
        Assert.Empty(node.Logs.Errors);
    }

    [Fact]
    public async Task CorrectionAfterApproval_IsLockedUntilReopenedWithAReason_AndIsCounted()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne] }, folder.Sub(Township));
        var review = Reviewer(node);
        await Submit(node, UnitOne, 40);
        await review.ApproveReportAsync(new ApproveReportRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());

        await Rpc.FailsAsync(async () => await Submit(node, UnitOne, 41), StatusCode.FailedPrecondition, "LOCKED");
        var admin = new ReviewService.ReviewServiceClient(node.ChannelWith(node.Tokens.Admin));
        await Rpc.FailsAsync(
            async () => await admin.ReopenReportAsync(new ReopenReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "admin" }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED");
        await Rpc.FailsAsync(
            async () => await review.ReopenReportAsync(new ReopenReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "  " }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "REASON_REQUIRED");
        await Rpc.FailsAsync(
            async () => await review.ReturnReportAsync(new ReturnReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "late" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");

        await review.ReopenReportAsync(new ReopenReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "township found a typo" }, deadline: Rpc.Deadline());
        var corrected = await Submit(node, UnitOne, 41);

        Assert.Equal(2ul, corrected.Version);
        var totals = await TestHierarchy.WaitForTotalsAsync(node, Quarter,
            static t => t.Totals.Single(static x => x.Indicator.Id == "party_members").Aggregate.Total == 41, "the correction to reach the summary");
        Assert.Equal(0u, totals.Coverage.ApprovedLeafCount);
        Assert.Equal(1u, totals.Coverage.CorrectedAfterApprovalLeafCount);
        var history = await review.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal([DecisionKind.Approve, DecisionKind.Reopen], history.Decisions.Select(static d => Decision.Parser.ParseFrom(d.DecisionBytes).Kind));
    }

    [Fact]
    public async Task ApproveChild_TownshipBeforeItsVillages_IsRefused_ThenLocksTheTownshipUntilReopened()
    {
        using var folder = new TempFolder();
        var shape = new TreeNode("370113", "county", [new TreeNode(Township, "township", [new("370113001001", "village", []), new("370113001002", "village", [])])]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape);
        foreach (var village in tree.VillageIds)
        {
            await tree.SubmitAsync(village, Quarter, [Reports.Count("party_members", 30)]);
        }

        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 2, "both villages at the county");
        var county = Reviewer(tree.Root);

        var refused = await Rpc.FailsAsync(
            async () => await county.ApproveChildAsync(new ApproveChildRequest { NodeId = Township, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "BELOW_NOT_APPROVED");
        Assert.Contains("0 of the 2", refused.Message, StringComparison.Ordinal);

        foreach (var village in tree.VillageIds)
        {
            await Reviewer(tree[village]).ApproveReportAsync(new ApproveReportRequest { UnitId = village, Period = Quarter }, deadline: Rpc.Deadline());
        }

        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ApprovedLeafCount == 2, "both approvals at the county");
        var approval = await county.ApproveChildAsync(new ApproveChildRequest { NodeId = Township, Period = Quarter }, deadline: Rpc.Deadline());

        // The township holds the county's signed decision and refuses to change anything below it for the period.
        var township = Reviewer(tree[Township]);
        await Rpc.FailsAsync(
            async () => await township.ReopenChildAsync(new ReopenChildRequest { NodeId = "370113001001", Period = Quarter, Reason = "recount" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");
        var received = await township.GetDecisionsAsync(new GetDecisionsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(approval.Decision, Assert.Single(received.Decisions));
        var countyKey = await PublicKeyAsync(tree.Root);
        Assert.Equal(Township, Verified(received.Decisions[0], countyKey).SubjectId);

        await Rpc.FailsAsync(
            async () => await county.ReopenChildAsync(new ReopenChildRequest { NodeId = Township, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "REASON_REQUIRED");
        await county.ReopenChildAsync(new ReopenChildRequest { NodeId = Township, Period = Quarter, Reason = "village 001 recount" }, deadline: Rpc.Deadline());

        received = await township.GetDecisionsAsync(new GetDecisionsRequest { Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal([DecisionKind.Approve, DecisionKind.Reopen], received.Decisions.Select(d => Verified(d, countyKey).Kind));
        var atCounty = await county.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = Township, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(received.Decisions, atCounty.Decisions);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task WithdrawnReport_EveryTierEqualsTotalsWithoutIt_AndItsHistoryRemains()
    {
        using var folder = new TempFolder();
        var villages = new[] { "370113001001", "370113001002", "370113001003" };
        var shape = new TreeNode("370113", "county", [new TreeNode(Township, "township", [.. villages.Select(static v => new TreeNode(v, "village", []))])]);
        await using var tree = await TestHierarchy.StartAsync(folder, shape);
        var rng = new Random(8);
        var reports = villages.ToDictionary(static v => v, _ => Reports.Random(rng));
        foreach (var (village, values) in reports)
        {
            await tree.SubmitAsync(village, Quarter, values);
        }

        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 3, "three villages at the county");
        var mistaken = villages[1];
        var clerk = new ReviewService.ReviewServiceClient(tree[mistaken].ChannelWith(tree[mistaken].Tokens.Clerk));

        var withdrawal = await clerk.WithdrawReportAsync(
            new WithdrawReportRequest { UnitId = mistaken, Period = Quarter, Reason = "filed for the wrong quarter" }, deadline: Rpc.Deadline());

        var expected = Reports.PlainTotals(reports.Where(r => r.Key != mistaken).Select(static r => r.Value));
        foreach (var id in new[] { Township, "370113" })
        {
            var totals = await TestHierarchy.WaitForTotalsAsync(tree[id], Quarter, static t => t.Coverage.ReportedLeafCount == 2, $"the withdrawal at {id}");
            Assert.Equal(3u, totals.Coverage.ExpectedLeafCount);
            foreach (var total in totals.Totals)
            {
                Assert.Equal(expected[total.Indicator.Id], total.Aggregate);
            }
        }

        var own = await TestHierarchy.WaitForTotalsAsync(tree[mistaken], Quarter, static t => t.Coverage.ReportedLeafCount == 0, "the withdrawal at the village");
        Assert.All(own.Totals, static t => Assert.Equal(0u, t.Aggregate.UnitCount));
        await Rpc.FailsAsync(
            async () => await tree[mistaken].Reporting.GetReportAsync(new GetReportRequest { UnitId = mistaken, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "NO_FIGURES");
        var status = await clerk.GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = mistaken, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.Equal(ReviewStatus.Withdrawn, status.Status);
        var history = await clerk.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = mistaken, Period = Quarter }, deadline: Rpc.Deadline());
        var decision = Verified(Assert.Single(history.Decisions), await PublicKeyAsync(tree[mistaken]));
        Assert.Equal(DecisionKind.Withdraw, decision.Kind);
        Assert.Equal("clerk-" + mistaken, decision.Account);
        Assert.Equal(withdrawal.Decision, history.Decisions[0]);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ParentApproval_ReachesTheChild_WhichRefusesCorrectionsUntilTheReopenArrives()
    {
        using var folder = new TempFolder();
        const string County = "370113";
        var townshipKey = TestNode.CreateKey(folder.Sub(Township));
        var countyKey = TestNode.CreateKey(folder.Sub(County));
        await using var county = await TestNode.StartAsync(new NodeSpec(County, "county") { Children = [(Township, townshipKey)] }, folder.Sub(County));
        await using var township = await TestNode.StartAsync(
            new NodeSpec(Township, "township") { ParentId = County, ParentAddress = county.Address, ParentPublicKey = countyKey, HostedUnitIds = [UnitOne] },
            folder.Sub(Township));
        await Submit(township, UnitOne, 30);
        await Reviewer(township).ApproveReportAsync(new ApproveReportRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        await TestHierarchy.WaitForTotalsAsync(county, Quarter, static t => t.Coverage.ApprovedLeafCount == 1, "the approval at the county");
        await Reviewer(county).ApproveChildAsync(new ApproveChildRequest { NodeId = Township, Period = Quarter }, deadline: Rpc.Deadline());

        // Even the township's own reviewer cannot reopen the unit now: the period is approved above.
        await Rpc.FailsAsync(
            async () => await Reviewer(township).ReopenReportAsync(new ReopenReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "typo" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "LOCKED");
        var status = await Reviewer(township).GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        Assert.True(status.LockedAbove);

        await Reviewer(county).ReopenChildAsync(new ReopenChildRequest { NodeId = Township, Period = Quarter, Reason = "typo in 001" }, deadline: Rpc.Deadline());
        await Reviewer(township).ReopenReportAsync(new ReopenReportRequest { UnitId = UnitOne, Period = Quarter, Reason = "typo" }, deadline: Rpc.Deadline());
        var corrected = await Submit(township, UnitOne, 31);

        Assert.Equal(2ul, corrected.Version);
        await TestHierarchy.WaitForTotalsAsync(county, Quarter,
            static t => t.Totals.Single(static x => x.Indicator.Id == "party_members").Aggregate.Total == 31 && t.Coverage.CorrectedAfterApprovalLeafCount == 1,
            "the correction at the county");
        Assert.Empty(county.Logs.Errors);
        Assert.Empty(township.Logs.Errors);
    }

    private static ReviewService.ReviewServiceClient Reviewer(TestNode node) => new(node.ChannelWith(node.Tokens.Reviewer));

    private static async Task<SubmitReportResponse> Submit(TestNode node, string unitId, long members) =>
        await node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = unitId, Period = Quarter, Values = { Reports.Count("party_members", members) } }, deadline: Rpc.Deadline());

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
