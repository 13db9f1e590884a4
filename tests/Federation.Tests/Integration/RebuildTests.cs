using System.Text.Json;
using Federation.Aggregator.Proofs;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>`federation rebuild` makes a stopped node's database again from its reports and child summaries.</summary>
public sealed class RebuildTests
{
    private const string Township = "370113001";
    private const string Period = "2026-01";

    [Fact]
    public async Task Rebuild_IntactFolder_KeepsEveryReportAndTheSummaryItAlreadySigned()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        var spec = new NodeSpec(Township, "township") { HostedUnitIds = ["370113001001", "370113001002"] };
        GetReportResponse before;
        GetTotalsResponse totalsBefore;
        await using (var node = await TestNode.StartAsync(spec, dataPath))
        {
            await Submit(node, "370113001001", 40);
            await Submit(node, "370113001001", 41);
            await Submit(node, "370113001002", 50);
            totalsBefore = await TestHierarchy.WaitForTotalsAsync(node, Period, static t => PartyMembers(t) == 91, "both units in the totals");
            before = await node.Reporting.GetReportAsync(new GetReportRequest { UnitId = "370113001001", Period = Period }, deadline: Rpc.Deadline());
        }

        var rebuilt = await Cli.RunAsync("rebuild", "--data", dataPath);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.StandardError);

        await using var again = await TestNode.StartAsync(spec, dataPath);
        var after = await again.Reporting.GetReportAsync(new GetReportRequest { UnitId = "370113001001", Period = Period }, deadline: Rpc.Deadline());
        Assert.Equal(before.Report.Version, after.Report.Version);
        Assert.Equal(before.Digest, after.Digest);
        var totals = await again.Query.GetTotalsAsync(new GetTotalsRequest { Period = Period }, deadline: Rpc.Deadline());
        Assert.Equal(91, PartyMembers(totals));
        var versionBefore = Summary.Parser.ParseFrom(totalsBefore.SignedSummary.SummaryBytes).Version;
        // Nothing below changed, so the rebuild keeps the summary already signed: no new version is minted.
        Assert.Equal(versionBefore, Summary.Parser.ParseFrom(totals.SignedSummary.SummaryBytes).Version);
        Assert.Equal(totalsBefore.SignedSummary.SummaryBytes, totals.SignedSummary.SummaryBytes);
        var key = (await again.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();
        var proof = (await again.Query.GetProofAsync(new GetProofRequest { Period = Period, UnitId = "370113001001" }, deadline: Rpc.Deadline())).Proof;
        Assert.True(ProofVerifier.Verify(proof, new Dictionary<string, byte[]> { [Township] = key }, Township).IsValid);
        Assert.Single(Directory.GetFiles(dataPath, "node.db.before-rebuild-*"));
        Assert.True(again.Logs.Errors.Count == 0, string.Join("\n", again.Logs.Errors));
    }

    [Fact]
    public async Task Rebuild_AfterAnApproval_KeepsTheSignedDecisionsAndTheLock()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        var spec = new NodeSpec(Township, "township") { HostedUnitIds = ["370113001001"] };
        ApproveReportResponse approved;
        await using (var node = await TestNode.StartAsync(spec, dataPath))
        {
            await Submit(node, "370113001001", 40);
            approved = await new ReviewService.ReviewServiceClient(node.ChannelWith(node.Tokens.Reviewer)).ApproveReportAsync(
                new ApproveReportRequest { UnitId = "370113001001", Period = Period }, deadline: Rpc.Deadline());
            await TestHierarchy.WaitForTotalsAsync(node, Period, static t => t.Coverage.ApprovedLeafCount == 1, "the approval in the totals");
        }

        var rebuilt = await Cli.RunAsync("rebuild", "--data", dataPath);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.StandardError);

        await using var again = await TestNode.StartAsync(spec, dataPath);
        var review = new ReviewService.ReviewServiceClient(again.ChannelWith(again.Tokens.Reviewer));
        var history = await review.GetDecisionsAsync(new GetDecisionsRequest { SubjectId = "370113001001", Period = Period }, deadline: Rpc.Deadline());
        Assert.Equal(approved.Decision, Assert.Single(history.Decisions));
        await Rpc.FailsAsync(async () => await Submit(again, "370113001001", 41), Grpc.Core.StatusCode.FailedPrecondition, "LOCKED");
        var totals = await again.Query.GetTotalsAsync(new GetTotalsRequest { Period = Period }, deadline: Rpc.Deadline());
        Assert.Equal(1u, totals.Coverage.ApprovedLeafCount);
    }

    [Fact]
    public async Task Rebuild_AfterTheLogWasHalved_TheRefusedFolderStartsWithWhatSurvived()
    {
        using var folder = new TempFolder();
        var dataPath = folder.Sub("node");
        var config = folder.Sub("node.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Node = new { Id = Township, Tier = "township", DataPath = dataPath, HostedUnits = new[] { new { Id = "370113001001" } } },
            Tls = TestPki.TlsSection(Township),
        }));
        await using var node = new NodeProcess(config, dataPath);
        await node.StartAsync();
        var client = new ReportingService.ReportingServiceClient(node.Clerk);
        for (var i = 1; i <= 11; i++)
        {
            await client.SubmitReportAsync(Submission("370113001001", 10 + i), deadline: Rpc.Deadline());
        }

        await node.KillAsync();
        var log = Path.Combine(dataPath, "node-log.db");
        using (var stream = new FileStream(log, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(stream.Length / 8192 / 2 * 8192);
        }

        Assert.NotEqual(0, (await Cli.RunAsync("serve", "--config", config)).ExitCode);
        var rebuilt = await Cli.RunAsync("rebuild", "--data", dataPath, "--config", config);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.StandardError);

        await node.StartAsync();
        var stored = await new ReportingService.ReportingServiceClient(node.Clerk)
            .GetReportAsync(new GetReportRequest { UnitId = "370113001001", Period = Period }, deadline: Rpc.Deadline());
        Assert.InRange(stored.Report.Version, 1ul, 10ul);
        var totals = await new QueryService.QueryServiceClient(node.Reader).GetTotalsAsync(new GetTotalsRequest { Period = Period }, deadline: Rpc.Deadline());
        Assert.Equal(stored.Report.Values.Single().Count, PartyMembers(totals));
    }

    private static async Task Submit(TestNode node, string unit, long members) =>
        await node.Reporting.SubmitReportAsync(Submission(unit, members), deadline: Rpc.Deadline());

    private static SubmitReportRequest Submission(string unit, long members) =>
        new() { UnitId = unit, Period = Period, Values = { Reports.Count("party_members", members) } };

    private static long PartyMembers(GetTotalsResponse totals) =>
        totals.Totals.SingleOrDefault(static t => t.Indicator.Id == "party_members")?.Aggregate.Total ?? 0;
}
