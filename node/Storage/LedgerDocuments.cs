using System.Globalization;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Node.Storage;

/// <summary>
/// A rectification ledger item as the node holding it keeps it: the problem as listed and where it stands after its
/// last step. Id "unit|number" (number zero-padded), so that ids sort by unit, then number. Items are never deleted.
/// </summary>
internal sealed class LedgerItemDocument
{
    public string Id { get; set; } = string.Empty;

    public string UnitId { get; set; } = string.Empty;

    /// <summary>The item's number within its unit, from 1; its id on the wire.</summary>
    public int Number { get; set; }

    /// <summary>The period it was found in (canonical).</summary>
    public string Period { get; set; } = string.Empty;

    public string Category { get; set; } = string.Empty;

    public string Problem { get; set; } = string.Empty;

    public string Measure { get; set; } = string.Empty;

    /// <summary>"2026-06-30", China time.</summary>
    public string Deadline { get; set; } = string.Empty;

    public string Responsible { get; set; } = string.Empty;

    /// <summary>The <see cref="LedgerItemStatus"/>, as its number.</summary>
    public int Status { get; set; }

    public int StepCount { get; set; }

    /// <summary>The last step's <see cref="LedgerStepKind"/>, as its number.</summary>
    public int LastStepKind { get; set; }

    public string LastNote { get; set; } = string.Empty;

    /// <summary>SHA-256 of the last step's bytes: the next step chains to it.</summary>
    public byte[] LastStepDigest { get; set; } = [];

    public long ListTicks { get; set; }

    public long LastStepTicks { get; set; }

    /// <summary>
    /// UTC ticks from which the item is overdue while not cleared; <see cref="long.MaxValue"/> once cleared, so that the
    /// search for the next deadline to cross skips it.
    /// </summary>
    public long OverdueFromTicks { get; set; }

    /// <summary>Lower-case hex SHA-256 of the LIST step: a listing delivered again finds its item instead of adding one.</summary>
    public string ListDigest { get; set; } = string.Empty;

    public static string KeyOf(string unitId, int number) => unitId + "|" + number.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>The item's number from its wire id ("7"); null when the id is not a number an item could have.</summary>
    public static int? NumberOf(string itemId) =>
        itemId.Length is > 0 and <= 6 && itemId[0] != '0' && int.TryParse(itemId, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    public LedgerItemStatus ItemStatus => (LedgerItemStatus)Status;

    /// <summary>What a tally counts of it.</summary>
    public LedgerItemFacts ToFacts() =>
        new(Number, ItemStatus, Deadline, (uint)StepCount, LastStepDigest, new DateTimeOffset(LastStepTicks, TimeSpan.Zero));
}

/// <summary>A signed ledger step, kept for good. Id "unit|number|sequence" (zero-padded), so that an item's steps sort oldest first.</summary>
internal sealed class LedgerStepDocument
{
    public string Id { get; set; } = string.Empty;

    /// <summary>The <see cref="LedgerItemDocument"/> id.</summary>
    public string ItemKey { get; set; } = string.Empty;

    public int Kind { get; set; }

    /// <summary>The serialized LedgerStep, exactly as signed.</summary>
    public byte[] StepBytes { get; set; } = [];

    public byte[] Signature { get; set; } = [];

    public string KeyId { get; set; } = string.Empty;

    public long StepTicks { get; set; }

    public static string KeyOf(string itemKey, int sequence) => itemKey + "|" + sequence.ToString("D4", CultureInfo.InvariantCulture);

    public SignedLedgerStep ToSigned() => new()
    {
        StepBytes = ByteString.CopyFrom(StepBytes),
        Signature = ByteString.CopyFrom(Signature),
        KeyId = KeyId,
    };
}

/// <summary>A ledger tally a summary of this node cited, by the lower-case hex SHA-256 of its bytes, for audits.</summary>
internal sealed class LedgerTallyDocument
{
    public string Id { get; set; } = string.Empty;

    public string Period { get; set; } = string.Empty;

    /// <summary>The serialized LedgerTally the digest is of.</summary>
    public byte[] Bytes { get; set; } = [];
}

/// <summary>A unit's ledger for a period, tallied: the message, its bytes as stored, and their digest.</summary>
internal sealed record StoredTally(LedgerTally Tally, byte[] Bytes, byte[] Digest);

/// <summary>Ledger lookups over the store, for the writer and readers alike.</summary>
internal static class LedgerLookups
{
    /// <summary>The tallies of every unit with items found in <paramref name="period"/>, as they stand at <paramref name="at"/>, by unit id.</summary>
    public static IReadOnlyList<StoredTally> TallyLedgers(this NodeStore store, string period, DateTimeOffset at) =>
    [
        .. store.LedgerItems.Find(i => i.Period == period)
            .GroupBy(static i => i.UnitId, StringComparer.Ordinal)
            .OrderBy(static g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var tally = LedgerTallies.Build(g.Key, period, g.Select(static i => i.ToFacts()), at);
                var bytes = tally.ToByteArray();
                return new StoredTally(tally, bytes, Digests.Sha256(bytes));
            }),
    ];

    /// <summary>Keeps a tally a summary cites (once: it is found by its digest).</summary>
    public static void KeepTally(this NodeStore store, StoredTally tally)
    {
        var id = Convert.ToHexStringLower(tally.Digest);
        if (store.LedgerTallyBytes.ById(id) is null)
        {
            store.LedgerTallyBytes.Insert(new LedgerTallyDocument { Id = id, Period = tally.Tally.Period, Bytes = tally.Bytes });
        }
    }

    /// <summary>The earliest instant after <paramref name="afterTicks"/> at which an item not cleared becomes overdue; null when none will.</summary>
    public static DateTimeOffset? NextOverdueFrom(this NodeStore store, long afterTicks) =>
        store.LedgerItems.Query()
            .Where(i => i.OverdueFromTicks > afterTicks && i.OverdueFromTicks != long.MaxValue)
            .OrderBy(static i => i.OverdueFromTicks)
            .Limit(1)
            .ToList() is [var next]
            ? new DateTimeOffset(next.OverdueFromTicks, TimeSpan.Zero)
            : null;

    /// <summary>The periods of items not cleared that became overdue after <paramref name="afterTicks"/> and at or before <paramref name="untilTicks"/>.</summary>
    public static IReadOnlyList<string> PeriodsTurningOverdue(this NodeStore store, long afterTicks, long untilTicks) =>
    [
        .. store.LedgerItems.Find(i => i.OverdueFromTicks > afterTicks && i.OverdueFromTicks <= untilTicks)
            .Select(static i => i.Period)
            .Distinct(StringComparer.Ordinal),
    ];
}
