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
}
