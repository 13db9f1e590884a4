using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>`federation ledger` against a real node: text in zh or en, JSON, and one-line errors.</summary>
public sealed class LedgerCliTests
{
    private const string Township = "370113001";
    private const string UnitOne = "370113001001";
    private const string UnitTwo = "370113001002";

    [Fact]
    public async Task LedgerCommands_ListReportAcceptAndRead_PrintStepsAndOneLineErrors()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [UnitOne, UnitTwo] }, folder.Sub(Township));
        string[] As(string token, params string[] args) => [.. args, "--node", node.Address, "--token", token, "--ca", TestPki.CaPath];
        var (clerk, reviewer) = (node.Tokens.Clerk, node.Tokens.Reviewer);
        string[] listing = ["--unit", UnitOne, "--period", "2026-Q1", "--category", "venue", "--problem", "活动室漏雨", "--measure", "维修屋顶", "--responsible", "王建国"];

        var added = await Cli.RunAsync(As(clerk, ["ledger", "add", .. listing, "--deadline", "2026-06-30", "--lang", "en"]));
        Assert.True(added.ExitCode == 0, added.StandardError);
        Assert.Contains($"{Township} recorded listed: {UnitOne} item 1, now open", added.StandardOutput, StringComparison.Ordinal);

        var badDate = await Cli.RunAsync(As(clerk, ["ledger", "add", .. listing, "--deadline", "30.06.2026", "--lang", "en"]));
        Assert.Equal(1, badDate.ExitCode);
        Assert.StartsWith("error InvalidArgument MALFORMED_REQUEST:", Assert.Single(badDate.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var reported = await Cli.RunAsync(As(clerk, "ledger", "report-fix", "--unit", UnitOne, "--item", "1", "--note", "屋顶已修好", "--lang", "zh"));
        Assert.True(reported.ExitCode == 0, reported.StandardError);
        Assert.Contains("报告整改", reported.StandardOutput, StringComparison.Ordinal);

        var byClerk = await Cli.RunAsync(As(clerk, "ledger", "accept", "--unit", UnitOne, "--item", "1", "--lang", "zh"));
        Assert.Equal(1, byClerk.ExitCode);
        Assert.StartsWith("错误 PermissionDenied ROLE_NOT_ALLOWED（您的角色无权执行此操作）: ", Assert.Single(byClerk.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var accepted = await Cli.RunAsync(As(reviewer, "ledger", "accept", "--unit", UnitOne, "--item", "1", "--note", "验收合格", "--json"));
        Assert.True(accepted.ExitCode == 0, accepted.StandardError);
        Assert.Contains("\"LEDGER_ITEM_STATUS_CLEARED\"", accepted.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"LEDGER_STEP_KIND_ACCEPTED\"", accepted.StandardOutput, StringComparison.Ordinal);

        var late = await Cli.RunAsync(As(reviewer, "ledger", "send-back", "--unit", UnitOne, "--item", "1", "--reason", "复查不合格", "--lang", "zh"));
        Assert.Equal(1, late.ExitCode);
        Assert.StartsWith("错误 FailedPrecondition WRONG_REVIEW_STATE（当前审核状态下不能这样操作）: ", Assert.Single(late.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var list = await Cli.RunAsync(As(node.Tokens.Reader, "ledger", "list", "--period", "2026-Q1", "--lang", "zh"));
        Assert.True(list.ExitCode == 0, list.StandardError);
        Assert.Contains("已销号", list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{Township}：共 1 项，已销号 1 项，逾期未销号 0 项", list.StandardOutput, StringComparison.Ordinal);

        var json = await Cli.RunAsync(As(node.Tokens.Reader, "ledger", "list", "--status", "cleared", "--json"));
        Assert.True(json.ExitCode == 0, json.StandardError);
        Assert.Equal(["1"], ListLedgerItemsResponse.Parser.ParseJson(json.StandardOutput).Items.Select(static i => i.ItemId));

        var history = await Cli.RunAsync(As(node.Tokens.Reader, "ledger", "history", "--unit", UnitOne, "--item", "1", "--lang", "en"));
        Assert.True(history.ExitCode == 0, history.StandardError);
        Assert.Contains("accepted (cleared)", history.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("fix reported", history.StandardOutput, StringComparison.Ordinal);

        var badStatus = await Cli.RunAsync(As(node.Tokens.Reader, "ledger", "list", "--status", "done", "--lang", "en"));
        Assert.Equal(1, badStatus.ExitCode);
        Assert.StartsWith("error --status must be open, fix-reported or cleared", badStatus.StandardError, StringComparison.Ordinal);
    }
}
