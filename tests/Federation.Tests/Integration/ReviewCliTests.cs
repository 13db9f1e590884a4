using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>The review, withdraw and units commands against a real node: text in zh or en, JSON, and one-line errors.</summary>
public sealed class ReviewCliTests
{
    private const string Township = "370113001";
    private const string UnitOne = "370113001001";
    private const string UnitTwo = "370113001002";
    private const string Quarter = "2026-Q1";

    [Fact]
    public async Task ReviewCommands_ReturnApproveWithdrawAndList_PrintDecisionsAndOneLineErrors()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne, UnitTwo] }, folder.Sub(Township));
        foreach (var unit in new[] { UnitOne, UnitTwo })
        {
            await node.Reporting.SubmitReportAsync(
                new SubmitReportRequest { UnitId = unit, Period = Quarter, Values = { Reports.Count("party_members", 12) } }, deadline: Rpc.Deadline());
        }

        string[] As(string token, params string[] args) => [.. args, "--node", node.Address, "--token", token, "--ca", TestPki.CaPath];
        var reviewer = node.Tokens.Reviewer;

        var returned = await Cli.RunAsync(As(reviewer, "review", "return", "--unit", UnitOne, "--period", Quarter, "--reason", "recount", "--lang", "en"));
        Assert.True(returned.ExitCode == 0, returned.StandardError);
        Assert.Contains($"recorded return of {UnitOne} for {Quarter}", returned.StandardOutput, StringComparison.Ordinal);

        var refused = await Cli.RunAsync(As(reviewer, "review", "approve", "--unit", UnitOne, "--period", Quarter, "--lang", "zh"));
        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("错误 FailedPrecondition WRONG_REVIEW_STATE:", line, StringComparison.Ordinal);

        var approved = await Cli.RunAsync(As(reviewer, "review", "approve", "--unit", UnitTwo, "--period", Quarter, "--json"));
        Assert.True(approved.ExitCode == 0, approved.StandardError);
        Assert.Contains("\"DECISION_KIND_APPROVE\"", approved.StandardOutput, StringComparison.Ordinal);

        var locked = await Cli.RunAsync(As(node.Tokens.Clerk, "withdraw", "--unit", UnitTwo, "--period", Quarter, "--lang", "en"));
        Assert.Equal(1, locked.ExitCode);
        Assert.StartsWith("error FailedPrecondition LOCKED:", Assert.Single(locked.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var list = await Cli.RunAsync(As(reviewer, "review", "list", "--period", Quarter, "--lang", "zh"));
        Assert.True(list.ExitCode == 0, list.StandardError);
        Assert.Contains("已退回", list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("已通过", list.StandardOutput, StringComparison.Ordinal);

        var units = await Cli.RunAsync(As(node.Tokens.Reader, "units", "--json"));
        Assert.True(units.ExitCode == 0, units.StandardError);
        Assert.Equal([UnitOne, UnitTwo], ListUnitsResponse.Parser.WithDiscardUnknownFields(true).ParseJson(units.StandardOutput).Units.Select(static u => u.Id));

        var history = await Cli.RunAsync(As(reviewer, "review", "history", "--subject", UnitOne, "--period", Quarter, "--json"));
        Assert.True(history.ExitCode == 0, history.StandardError);
        Assert.Single(GetDecisionsResponse.Parser.ParseJson(history.StandardOutput).Decisions);
    }

    [Fact]
    public async Task ReviewCommands_VillageRunningItsOwnNode_ListedReturnedApprovedReopened_AndItsHistoryVerifies()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, new TreeNode(Township, "township", [new(UnitOne, "village", [])]));
        await tree.SubmitAsync(UnitOne, Quarter, [Reports.Count("party_members", 12)]);
        await TestHierarchy.WaitForTotalsAsync(tree.Root, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the village at the township");
        var township = tree.Root;
        string[] As(params string[] args) => [.. args, "--node", township.Address, "--token", township.Tokens.Reviewer, "--ca", TestPki.CaPath];

        var listed = await Cli.RunAsync(As("review", "list", "--period", Quarter, "--lang", "zh"));
        Assert.True(listed.ExitCode == 0, listed.StandardError);
        Assert.Contains(UnitOne, listed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("下级节点", listed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("待审核", listed.StandardOutput, StringComparison.Ordinal);

        var returned = await Cli.RunAsync(As("review", "return", "--unit", UnitOne, "--period", Quarter, "--reason", "recount", "--lang", "en"));
        Assert.True(returned.ExitCode == 0, returned.StandardError);
        Assert.Contains($"recorded return of {UnitOne} for {Quarter}", returned.StandardOutput, StringComparison.Ordinal);
        listed = await Cli.RunAsync(As("review", "list", "--period", Quarter, "--json"));
        Assert.Equal(ReviewStatus.Returned, ListUnitsResponse.Parser.WithDiscardUnknownFields(true).ParseJson(listed.StandardOutput).Units.Single().ReviewStatus);

        await tree.SubmitAsync(UnitOne, Quarter, [Reports.Count("party_members", 13)]);
        await Eventually.ReturnsAsync(
            async () => await new ReviewService.ReviewServiceClient(township.ChannelWith(township.Tokens.Reader))
                .GetReviewStatusAsync(new GetReviewStatusRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline()),
            static s => s.Status == ReviewStatus.Submitted, "the correction at the township");

        // --child names the same village: its summary is its one report.
        var approved = await Cli.RunAsync(As("review", "approve", "--child", UnitOne, "--period", Quarter, "--json"));
        Assert.True(approved.ExitCode == 0, approved.StandardError);
        Assert.Contains("\"DECISION_SUBJECT_CHILD_REPORT\"", approved.StandardOutput, StringComparison.Ordinal);
        var reopened = await Cli.RunAsync(As("review", "reopen", "--unit", UnitOne, "--period", Quarter, "--reason", "typo", "--lang", "en"));
        Assert.True(reopened.ExitCode == 0, reopened.StandardError);

        var history = await Cli.RunAsync(As("review", "history", "--subject", UnitOne, "--period", Quarter, "--json"));
        Assert.True(history.ExitCode == 0, history.StandardError);
        var key = (await township.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        var kinds = GetDecisionsResponse.Parser.ParseJson(history.StandardOutput).Decisions.Select(d =>
        {
            var verification = SignedMessages.VerifyDecision(d, key);
            Assert.True(verification.IsValid, verification.Message);
            return verification.Value!.Kind;
        });
        Assert.Equal([DecisionKind.Return, DecisionKind.Approve, DecisionKind.Reopen], kinds);
        var text = await Cli.RunAsync(As("review", "history", "--subject", UnitOne, "--period", Quarter, "--lang", "en"));
        Assert.Contains("typo", text.StandardOutput, StringComparison.Ordinal);
        tree.AssertNoErrors();
    }
}
