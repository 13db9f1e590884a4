using System.Globalization;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Demo;

/// <summary>One problem of the sample ledger and how far its rectification gets in the demo.</summary>
/// <param name="Outcome">cleared (listed, fix reported, accepted by the township), fix_reported, or open.</param>
internal sealed record LedgerRow(string UnitId, string Category, string Problem, string Measure, string Deadline, string Responsible, string Outcome)
{
    public bool Cleared => Outcome == "cleared";

    public bool FixReported => Outcome is "cleared" or "fix_reported";
}

/// <summary>
/// The shipped sample ledger (整改台账): each village's clerk lists its problems at the village's own node and reports
/// the fixes made; the township's reviewer accepts the fixes marked cleared, from the township, which delivers each signed
/// acceptance to the village. The rectification counts in the totals come from these items alone, never from the sheet.
/// </summary>
internal static class SampleLedger
{
    private static readonly string[] s_header = ["unit_id", "category", "problem", "measure", "deadline", "responsible", "outcome"];

    public static string FilePath { get; } = Path.Combine(AppContext.BaseDirectory, "sample-data", SampleReports.Period + "-ledger.csv");

    /// <summary>The rows as written (plain comma-separated text: no field holds a comma).</summary>
    public static IReadOnlyList<LedgerRow> Read(string path)
    {
        var lines = File.ReadAllLines(path).Where(static l => l.Trim().Length > 0).ToList();
        if (!lines[0].TrimStart('\uFEFF').Split(',').SequenceEqual(s_header))
        {
            throw new DemoException($"{path}: the header must be {string.Join(",", s_header)}.");
        }

        return [.. lines.Skip(1).Select(line =>
        {
            var cells = line.Split(',').Select(static c => c.Trim()).ToArray();
            return cells.Length == s_header.Length && cells[6] is "cleared" or "fix_reported" or "open"
                ? new LedgerRow(cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6])
                : throw new DemoException($"{path}: row '{line}' needs {s_header.Length} cells and an outcome of cleared, fix_reported or open.");
        })];
    }

    /// <summary>
    /// Lists, fix-reports and accepts the items, village by village in parallel; returns the number cleared. A village whose
    /// node already holds items for the period (a data folder used before) is left as it is.
    /// </summary>
    public static async Task<(int Cleared, int VillagesAlreadyHolding)> ApplyAsync(NodeFleet fleet, NodeClient client, IReadOnlyList<LedgerRow> rows, CancellationToken cancellationToken)
    {
        var hierarchy = fleet.Hierarchy;
        var unknown = rows.Select(static r => r.UnitId).Where(id => !hierarchy.Contains(id) || hierarchy.ChildrenOf(id).Any()).Distinct().ToList();
        if (unknown.Count > 0)
        {
            throw new DemoException($"{FilePath} names units that are not demo villages: {string.Join(", ", unknown)}");
        }

        var accepted = await Task.WhenAll(rows.GroupBy(static r => r.UnitId).Select(async village =>
        {
            var township = hierarchy[village.Key].ParentId!;
            var clerk = new LedgerService.LedgerServiceClient(client.Channel(fleet[village.Key].Address, fleet.Tokens[village.Key]));
            var reviewer = new LedgerService.LedgerServiceClient(client.Channel(fleet[township].Address, fleet.ReviewerTokens[township]));
            // A data folder used before holds the ledger already: steps are signed statements, never entered twice.
            var held = await clerk.ListLedgerItemsAsync(new ListLedgerItemsRequest { UnitId = village.Key, Period = SampleReports.Period },
                deadline: Deadline(), cancellationToken: cancellationToken);
            if (held.Items.Count > 0)
            {
                return (Cleared: held.Items.Count(static i => i.Status == LedgerItemStatus.Cleared), Held: true);
            }

            var count = 0;
            foreach (var row in village)
            {
                try
                {
                    var listed = await clerk.AddLedgerItemAsync(new AddLedgerItemRequest
                    {
                        UnitId = row.UnitId,
                        Entry = new LedgerEntry
                        {
                            Period = SampleReports.Period,
                            Category = row.Category,
                            Problem = row.Problem,
                            Measure = row.Measure,
                            Deadline = row.Deadline,
                            Responsible = row.Responsible,
                        },
                    }, deadline: Deadline(), cancellationToken: cancellationToken);
                    var itemId = listed.Item.ItemId;
                    if (row.FixReported)
                    {
                        await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = row.UnitId, ItemId = itemId, Note = "已按措施整改完毕" },
                            deadline: Deadline(), cancellationToken: cancellationToken);
                    }

                    if (row.Cleared)
                    {
                        await reviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = row.UnitId, ItemId = itemId, Note = "现场验收，同意销号" },
                            deadline: Deadline(), cancellationToken: cancellationToken);
                        count++;
                    }
                }
                catch (RpcException ex)
                {
                    throw new DemoException($"village {row.UnitId}, ledger item '{row.Problem}': {ex.StatusCode}: {ex.Status.Detail}\n{fleet[row.UnitId].LogTail()}");
                }
            }

            return (Cleared: count, Held: false);
        }));
        return (accepted.Sum(static a => a.Cleared), accepted.Count(static a => a.Held));
    }

    /// <summary>
    /// Whether an item is overdue now, worked out plainly for the independent check: not cleared, and the day after its
    /// deadline has begun in China (UTC+8).
    /// </summary>
    public static bool IsOverdue(LedgerRow row, DateTimeOffset now) =>
        !row.Cleared && DateOnly.FromDateTime(now.ToOffset(TimeSpan.FromHours(8)).DateTime) >
        DateOnly.ParseExact(row.Deadline, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);
}
