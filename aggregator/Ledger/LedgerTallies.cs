using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Aggregator.Ledger;

/// <summary>One ledger item as a tally needs it.</summary>
/// <param name="Number">The item's number at its holder (its id is this number written in decimal).</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Deadline">Its deadline, "2026-06-30".</param>
/// <param name="StepCount">Steps in its history.</param>
/// <param name="LastStepDigest">SHA-256 of its last step's bytes.</param>
/// <param name="LastStepTime">When its last step was signed.</param>
public sealed record LedgerItemFacts(int Number, LedgerItemStatus Status, string Deadline, uint StepCount, byte[] LastStepDigest, DateTimeOffset LastStepTime);

/// <summary>
/// What a unit's ledger contributes to a summary, pure: a <see cref="LedgerTally"/> of its items for a period as they
/// stand at an instant, and the unit's values of the indicators the catalogue computes from the ledger (listed, cleared,
/// overdue), which then merge like any unit's values, so every tier's totals and the closure rate follow exactly.
/// </summary>
public static class LedgerTallies
{
    /// <summary>The tally of a unit's items for a period at <paramref name="at"/> (the summary's build time), sorted by number.</summary>
    public static LedgerTally Build(string unitId, string period, IEnumerable<LedgerItemFacts> items, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(items);
        var tally = new LedgerTally { UnitId = unitId, Period = period };
        tally.Items.AddRange(items.OrderBy(static i => i.Number).Select(i => new LedgerTallyItem
        {
            ItemId = i.Number.ToString(CultureInfo.InvariantCulture),
            Status = i.Status,
            Deadline = i.Deadline,
            Overdue = LedgerRules.IsOverdue(i.Status, i.Deadline, at),
            StepCount = i.StepCount,
            LastStepDigest = ByteString.CopyFrom(i.LastStepDigest),
            LastStepTime = Timestamp.FromDateTimeOffset(i.LastStepTime),
        }));
        return tally;
    }

    /// <summary>
    /// The unit's values of the ledger-computed indicators the catalogue has: items listed, cleared, and overdue (as the
    /// tally marks them). Empty when the catalogue computes nothing from the ledger.
    /// </summary>
    public static IReadOnlyList<IndicatorValue> Values(CatalogueIndex catalogue, LedgerTally tally)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(tally);
        var values = new List<IndicatorValue>(3);
        foreach (var (count, indicatorId) in catalogue.LedgerIndicators)
        {
            var value = count switch
            {
                LedgerCount.Listed => tally.Items.Count,
                LedgerCount.Cleared => tally.Items.Count(static i => i.Status == LedgerItemStatus.Cleared),
                LedgerCount.Overdue => tally.Items.Count(static i => i.Overdue),
                _ => 0,
            };
            values.Add(new IndicatorValue { IndicatorId = indicatorId, Count = value });
        }

        values.Sort(static (a, b) => string.CompareOrdinal(a.IndicatorId, b.IndicatorId));
        return values;
    }

    /// <summary>The version a summary cites the tally at: the sum of its items' step counts, which only grows.</summary>
    public static ulong Version(LedgerTally tally)
    {
        ArgumentNullException.ThrowIfNull(tally);
        return tally.Items.Aggregate(0UL, static (sum, i) => sum + i.StepCount);
    }

    /// <summary>When the newest step of the tally's items was signed; null for an empty tally.</summary>
    public static Timestamp? NewestStepTime(LedgerTally tally)
    {
        ArgumentNullException.ThrowIfNull(tally);
        return tally.Items.Select(static i => i.LastStepTime).Where(static t => t is not null).MaxBy(static t => t.ToDateTimeOffset());
    }

    /// <summary>
    /// The items whose overdue mark is not what the rules give at <paramref name="builtAt"/> (the summary's build time), one
    /// sentence each; empty when every mark holds. An auditor runs this: a node cannot call items overdue or on time at will.
    /// </summary>
    public static IReadOnlyList<string> MisjudgedOverdue(LedgerTally tally, DateTimeOffset builtAt)
    {
        ArgumentNullException.ThrowIfNull(tally);
        return [.. tally.Items
            .Where(i => i.Overdue != LedgerRules.IsOverdue(i.Status, i.Deadline, builtAt))
            .Select(i => $"{tally.UnitId} ledger item {i.ItemId}: marked {(i.Overdue ? "overdue" : "not overdue")}, but with deadline {i.Deadline} and status {i.Status} it is {(i.Overdue ? "not overdue" : "overdue")} at the build time.")];
    }

    /// <summary>
    /// A report's values without the indicators the catalogue computes from the ledger: those come from the ledger only, so
    /// a value typed before an indicator became computed is never counted beside it.
    /// </summary>
    public static IReadOnlyList<IndicatorValue> WithoutComputed(CatalogueIndex catalogue, IReadOnlyList<IndicatorValue> values)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        ArgumentNullException.ThrowIfNull(values);
        return catalogue.LedgerIndicators.Count == 0 || !AnyComputed(catalogue, values)
            ? values
            : [.. values.Where(v => !catalogue.TryGet(v.IndicatorId, out var i) || i.LedgerCount == LedgerCount.Unspecified)];
    }

    /// <summary>A loop, not a closure: every rebuild asks this of every hosted report.</summary>
    private static bool AnyComputed(CatalogueIndex catalogue, IReadOnlyList<IndicatorValue> values)
    {
        for (var v = 0; v < values.Count; v++)
        {
            if (catalogue.TryGet(values[v].IndicatorId, out var indicator) && indicator.LedgerCount != LedgerCount.Unspecified)
            {
                return true;
            }
        }

        return false;
    }
}
