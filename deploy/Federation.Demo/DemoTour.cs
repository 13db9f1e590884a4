using System.Text.Json;
using Federation.Aggregator.Proofs;
using Federation.Node.Application;
using Federation.Node.Cli;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Spectre.Console;

namespace Federation.Demo;

/// <summary>
/// What a city leader does next: pull fresh totals before a meeting, drill down from the city to the
/// village that lags most, see who has not reported or reported late, and check a proof that the
/// village's report is inside the city's figure, offline, with the public keys alone; then the
/// organisers review that village's township (<see cref="DemoReview"/>).
/// </summary>
internal sealed class DemoTour(NodeFleet fleet, NodeClient client, string period, bool filesKept)
{
    private const string RankBy = "satisfaction_rate";
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>Runs the tour; returns false when the proof does not verify or the review does not behave.</summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        var cityId = fleet.Hierarchy.Root.Id;
        var query = new QueryService.QueryServiceClient(client.Channel(fleet[cityId].Address, fleet.Tokens[cityId]));

        var pulled = await query.GetTotalsAsync(new GetTotalsRequest { Period = period, Refresh = true },
            deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken);
        AnsiConsole.MarkupLine($"[bold]Pull[/] with refresh from the city: {pulled.Coverage.ReportedLeafCount}/{pulled.Coverage.ExpectedLeafCount} villages, " +
                               $"{pulled.Coverage.StaleChildren.Count} stale, summary v{Summary.Parser.ParseFrom(pulled.SignedSummary.SummaryBytes).Version}");

        // Drill from the city to the worst village by satisfaction, one tier at a time.
        var nodeId = cityId;
        DrillDownRow? worst = null;
        for (var depth = 0; depth < 8 && (worst is null || worst.Kind == ContributionKind.ChildSummary); depth++)
        {
            var drill = await AllPages.GetDrillDownAsync(query, new GetDrillDownRequest { NodeId = nodeId, Period = period, SortIndicatorId = RankBy },
                () => new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken));
            AnsiConsole.WriteLine();
            AnsiConsole.Write(QueryCommands.DrillTable(drill, RankBy, CliLanguage.IsChinese((string?)null)));
            worst = drill.Rows.FirstOrDefault();
            if (worst is null || worst.SourceId == nodeId)
            {
                break;
            }

            nodeId = worst.SourceId;
        }

        var completeness = await AllPages.GetCompletenessAsync(query, new GetCompletenessRequest { Period = period },
            () => new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken));
        AnsiConsole.WriteLine();
        AnsiConsole.Write(QueryCommands.CompletenessTable(completeness, CliLanguage.IsChinese((string?)null)));

        var village = worst?.SourceId ?? fleet.Hierarchy.Leaves[0].Id;
        var proof = (await query.GetProofAsync(new GetProofRequest { Period = period, UnitId = village },
            deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken)).Proof;
        var keys = fleet.PublicKeys.ToDictionary(static k => k.Key, static k => Convert.FromBase64String(k.Value), StringComparer.Ordinal);
        var keysPath = Path.Combine(fleet.DataRoot, "keys.json");
        var proofPath = Path.Combine(fleet.DataRoot, $"proof-{village}-{period}.bin");
        await File.WriteAllTextAsync(keysPath, JsonSerializer.Serialize(fleet.PublicKeys, s_indented), cancellationToken);
        await File.WriteAllBytesAsync(proofPath, proof.ToByteArray(), cancellationToken);
        var result = ProofVerifier.Verify(proof, keys, fleet.Hierarchy.Root.Id);
        AnsiConsole.WriteLine();
        if (!result.IsValid)
        {
            AnsiConsole.MarkupLine($"[red]proof of {Markup.Escape(village)} did not verify:[/] {Markup.Escape(result.Message)}");
            return false;
        }

        AnsiConsole.MarkupLine($"[green]proof verified offline:[/] the report of {Markup.Escape(village)} (v{result.Report!.Version}) is inside " +
                               Markup.Escape(string.Join(" ⊂ ", result.Summaries.Select(static s => $"{s.NodeId} v{s.Version}"))));
        if (filesKept)
        {
            AnsiConsole.MarkupLine($"  check it yourself: dotnet run --project node -- verify --proof {Markup.Escape(proofPath)} --keys {Markup.Escape(keysPath)} --top {Markup.Escape(fleet.Hierarchy.Root.Id)}");
        }

        AnsiConsole.WriteLine();
        return await new DemoReview(fleet, client, period).RunAsync(village, cancellationToken);
    }
}
