using System.Collections.Frozen;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;

namespace Federation.Aggregator.Aggregation;

/// <summary>
/// Merges any number of reports and aggregate lists in one pass, into one mutable running figure per
/// indicator, and writes the sorted result once. <see cref="ToList"/> equals
/// <see cref="Aggregates.MergeAll"/> over the same inputs in the same order, a report standing for its
/// <see cref="Aggregates.FromReport"/>: the same algebra (identity: nothing added; associative and
/// commutative over valid aggregates), without a new aggregate per merge or a sorted dictionary per
/// category merge. Reusable after <see cref="Clear"/>, which keeps its buffers; not thread-safe.
/// </summary>
public sealed class AggregateAccumulator
{
    private readonly AggregateLayout _layout;
    private readonly CatalogueIndex? _catalogue;
    private Slot[] _slots;
    private int _slotCount;
    private Dictionary<string, int>? _extraSlots;
    private readonly List<int> _touched = [];
    private bool[]? _seen;
    private long[]? _lastCount;
    private StoredReportReader.SlotValue[]? _readBuffer;

    /// <summary>An accumulator whose reports are read against <paramref name="catalogue"/>.</summary>
    public AggregateAccumulator(CatalogueIndex catalogue)
        : this(catalogue ?? throw new ArgumentNullException(nameof(catalogue)), catalogue.AggregateLayout)
    {
    }

    private AggregateAccumulator(CatalogueIndex? catalogue, AggregateLayout layout)
    {
        _catalogue = catalogue;
        _layout = layout;
        _slots = new Slot[Math.Max(4, layout.Ids.Length)];
        _slotCount = layout.Ids.Length;
    }

    /// <summary>
    /// An accumulator without a catalogue: it merges aggregate lists only, whatever their ids. The default
    /// catalogue's numbering only speeds up the lookup of its ids; others get slots of their own.
    /// </summary>
    internal static AggregateAccumulator WithoutCatalogue() => new(null, CatalogueIndex.Default.AggregateLayout);

    /// <summary>The catalogue reports are read against.</summary>
    public CatalogueIndex Catalogue => _catalogue ?? throw ThrowHelper.InvalidOperation("This accumulator merges aggregate lists only.");

    /// <summary>
    /// Adds one unit's validated values, as <see cref="Aggregates.FromReport"/> would give them: one aggregate
    /// per value, and each catalogue ratio whose numerator and denominator are both reported. Throws as
    /// FromReport throws (an unknown indicator, or one that cannot be reported); the accumulator is then
    /// left part-way and must be cleared.
    /// </summary>
    public void AddReport(IReadOnlyList<IndicatorValue> values) => AddReport(values, withoutLedgerComputed: false);

    /// <summary>
    /// <see cref="AddReport(IReadOnlyList{IndicatorValue})"/>; with <paramref name="withoutLedgerComputed"/>, of the
    /// values <see cref="Ledger.LedgerTallies.WithoutComputed"/> keeps (those of indicators computed from the ledger
    /// left out), without a second lookup of every value.
    /// </summary>
    internal void AddReport(IReadOnlyList<IndicatorValue> values, bool withoutLedgerComputed)
    {
        ArgumentNullException.ThrowIfNull(values);
        var catalogue = Catalogue;
        var layout = _layout;
        var report = StartReport();
        var guess = 0;
        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i];

            // Reports list their values in catalogue order: try the indicator after the last one first. Otherwise
            // the catalogue's own lookup, so that an unknown id throws exactly as FromReport's does.
            int slot;
            if (guess < layout.SlotsInCatalogueOrder.Length && string.Equals(layout.Ids[layout.SlotsInCatalogueOrder[guess]], value.IndicatorId, StringComparison.Ordinal))
            {
                slot = layout.SlotsInCatalogueOrder[guess++];
            }
            else if (layout.SlotOf.TryGetValue(value.IndicatorId, out slot))
            {
                guess = layout.CatalogueOrderOf[slot] + 1;
            }
            else
            {
                // Not an indicator of the catalogue: its lookup throws, with FromReport's message.
                slot = layout.SlotOf[catalogue.Get(value.IndicatorId).Id];
            }

            AddValue(ref report, slot, UnitValue.Of(value), withoutLedgerComputed);
        }

        AddRatios(ref report);
    }

    /// <summary>
    /// Adds one unit's report read from its stored bytes, when they hold nothing but the fields a report is written
    /// with (see <see cref="StoredReportReader"/>): the same as parsing them and adding the values, leaving out those
    /// of indicators computed from the ledger. False, with nothing added, for anything else: the caller parses.
    /// </summary>
    internal bool TryAddStoredReport(ReadOnlySpan<byte> reportBytes, out ulong version, out Google.Protobuf.WellKnownTypes.Timestamp? receiveTime)
    {
        var layout = _layout;
        var read = _readBuffer ??= new StoredReportReader.SlotValue[StoredReportReader.MaxValues];
        if (_catalogue is null || !StoredReportReader.TryRead(reportBytes, layout, read, out var count, out version, out receiveTime))
        {
            version = 0;
            receiveTime = null;
            return false;
        }

        var report = StartReport();
        foreach (var value in read.AsSpan(0, count))
        {
            AddValue(ref report, value.Slot, value.ToUnitValue(layout), withoutLedgerComputed: true);
        }

        AddRatios(ref report);
        return true;
    }

    /// <summary>Merges one reported value as <see cref="Aggregates.FromReport"/> turns it into an aggregate, and notes it for the ratios.</summary>
    private void AddValue(ref ReportMerge report, int slot, UnitValue value, bool withoutLedgerComputed)
    {
        var layout = _layout;
        if (withoutLedgerComputed && layout.LedgerComputed[slot])
        {
            return;
        }

        // FromReport's lookup keeps the last value of each id: the ratios read its count.
        report.Seen[slot] = true;
        report.LastCount[slot] = value.Count;
        switch (layout.Kinds[slot])
        {
            case ValueKind.Count:
                MergeUnit(slot, ValueKind.Count, value.Count, 0, Meets(slot, new Rational(value.Count, 1)), null);
                break;
            case ValueKind.Flag:
                // A unit's own share is 1 or 0: it meets "≥ 85% yes" by answering yes, "≤ 5% yes" by answering no.
                MergeUnit(slot, ValueKind.Flag, value.Flag ? 1 : 0, 0, Meets(slot, new Rational(value.Flag ? 1 : 0, 1)), null);
                break;
            case ValueKind.Measure:
                MergeUnit(slot, ValueKind.Measure, value.Measure, 0, Meets(slot, new Rational(value.Measure, 1)), null);
                break;
            case ValueKind.Category:
                MergeUnit(slot, ValueKind.Category, 0, 0, false, value.Category);
                break;
            default:
                throw ThrowHelper.Argument(nameof(value), $"Indicator '{layout.Ids[slot]}' cannot be reported directly.");
        }
    }

    /// <summary>Each catalogue ratio whose numerator and denominator the report gave, from their last values.</summary>
    private void AddRatios(ref ReportMerge report)
    {
        foreach (var ratio in _layout.Ratios)
        {
            if (report.Seen[ratio.NumeratorSlot] && report.Seen[ratio.DenominatorSlot])
            {
                var n = report.LastCount[ratio.NumeratorSlot];
                var d = report.LastCount[ratio.DenominatorSlot];

                // A unit with a zero denominator has no ratio to meet a target with.
                MergeUnit(ratio.Slot, ValueKind.Ratio, n, d, d > 0 && Meets(ratio.Slot, new Rational(n, d)), null);
            }
        }
    }

    /// <summary>What one report's merge keeps per slot for its ratios: whether the slot was given and its last count.</summary>
    private ref struct ReportMerge(Span<bool> seen, Span<long> lastCount)
    {
        public Span<bool> Seen = seen;
        public Span<long> LastCount = lastCount;
    }

    /// <summary>The per-slot notes for the next report, in buffers kept for every report (a count is read only where seen).</summary>
    private ReportMerge StartReport()
    {
        var slots = _layout.Ids.Length;
        _seen ??= new bool[slots];
        _lastCount ??= new long[slots];
        Array.Clear(_seen);
        return new ReportMerge(_seen, _lastCount);
    }

    /// <summary>Adds an aggregate list (a child's summary's, or a previous merge), in its order.</summary>
    public void Add(IReadOnlyList<IndicatorAggregate> aggregates)
    {
        ArgumentNullException.ThrowIfNull(aggregates);
        var ids = _layout.Ids;
        var guess = 0;
        for (var i = 0; i < aggregates.Count; i++)
        {
            var item = aggregates[i];

            // Lists are sorted by id and mostly the catalogue's: try the slot after the last one first.
            int slot;
            if (guess < ids.Length && string.Equals(ids[guess], item.IndicatorId, StringComparison.Ordinal))
            {
                slot = guess;
            }
            else if (!_layout.SlotOf.TryGetValue(item.IndicatorId, out slot))
            {
                slot = ExtraSlot(item.IndicatorId);
            }

            guess = slot + 1;
            MergeItem(slot, item);
        }
    }

    /// <summary>The merged aggregates, sorted by indicator id (ordinal); new objects, so the caller may keep or change them.</summary>
    public IReadOnlyList<IndicatorAggregate> ToList()
    {
        if (_touched.Count == 0)
        {
            return [];
        }

        var result = new IndicatorAggregate[_touched.Count];
        var n = 0;
        if (_extraSlots is null)
        {
            // Catalogue slots are numbered in id order: walk them in order.
            if (_touched.Count == _layout.Ids.Length)
            {
                for (var slot = 0; slot < _layout.Ids.Length; slot++)
                {
                    result[n++] = Emit(slot);
                }
            }
            else
            {
                _touched.Sort();
                foreach (var slot in _touched)
                {
                    result[n++] = Emit(slot);
                }
            }
        }
        else
        {
            _touched.Sort((a, b) => string.CompareOrdinal(IdOf(a), IdOf(b)));
            foreach (var slot in _touched)
            {
                result[n++] = Emit(slot);
            }
        }

        return result;
    }

    /// <summary>Forgets everything added; the buffers stay for the next merge.</summary>
    public void Clear()
    {
        foreach (var slot in _touched)
        {
            _slots[slot].Reset();
        }

        _touched.Clear();
        if (_extraSlots is not null)
        {
            _extraSlots = null;
            _slotCount = _layout.Ids.Length;
        }
    }

    private string IdOf(int slot) => slot < _layout.Ids.Length ? _layout.Ids[slot] : _slots[slot].Id!;

    private int ExtraSlot(string indicatorId)
    {
        _extraSlots ??= new Dictionary<string, int>(StringComparer.Ordinal);
        if (_extraSlots.TryGetValue(indicatorId, out var slot))
        {
            return slot;
        }

        slot = _slotCount++;
        if (slot == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        _slots[slot].Reset();
        _slots[slot].Id = indicatorId;
        _extraSlots.Add(indicatorId, slot);
        return slot;
    }

    private bool Meets(int slot, Rational value)
    {
        ref readonly var target = ref _layout.Targets[slot];
        return target.IsSet && value.Satisfies(target.Comparison, target.Threshold);
    }

    /// <summary>Merges one unit's own aggregate (unit count 1), built from its value as FromReport builds it.</summary>
    private void MergeUnit(int slot, ValueKind kind, long total, long denominator, bool meets, string? category)
    {
        ref var s = ref _slots[slot];
        var isMeasure = kind == ValueKind.Measure;
        if (s.Count == 0)
        {
            _touched.Add(slot);
            s.Count = 1;
            s.Materialized = true;
            s.Kind = kind;
            s.UnitCount = 1;
            s.Total = kind == ValueKind.Category ? 0 : total;
            s.DenominatorTotal = denominator;
            (s.Min, s.Max) = isMeasure ? (total, total) : (0, 0);
            s.MeetingTargetCount = meets ? 1u : 0u;
            if (category is not null)
            {
                s.AddCategory(category, 1);
            }

            return;
        }

        Materialize(ref s);
        if (s.Kind != kind)
        {
            throw KindMismatch(IdOf(slot), s.Kind, kind);
        }

        s.Count++;
        (s.Min, s.Max) = !isMeasure ? (0, 0) : s.UnitCount == 0 ? (total, total) : (Math.Min(s.Min, total), Math.Max(s.Max, total));
        s.UnitCount = checked(s.UnitCount + 1);
        s.Total = checked(s.Total + (kind == ValueKind.Category ? 0 : total));
        s.DenominatorTotal = checked(s.DenominatorTotal + denominator);
        s.MeetingTargetCount = checked(s.MeetingTargetCount + (meets ? 1u : 0u));
        if (category is not null)
        {
            s.AddCategory(category, 1);
        }
    }

    /// <summary>Merges one aggregate as <see cref="Aggregates.MergeAll"/> folds it in: kept as is when alone, else added field by field.</summary>
    private void MergeItem(int slot, IndicatorAggregate b)
    {
        ref var s = ref _slots[slot];
        if (s.Count == 0)
        {
            // Alone it is cloned as it is; it is read into the running figure only when a second one comes.
            _touched.Add(slot);
            s.Count = 1;
            s.First = b;
            return;
        }

        Materialize(ref s);
        if (s.Kind != b.Kind)
        {
            throw KindMismatch(IdOf(slot), s.Kind, b.Kind);
        }

        s.Count++;

        // Min and max are only meaningful over units that reported; an empty side must not pull them to zero.
        (s.Min, s.Max) = s.Kind != ValueKind.Measure ? (0, 0) : (s.UnitCount, b.UnitCount) switch
        {
            (0, _) => (b.Min, b.Max),
            (_, 0) => (s.Min, s.Max),
            _ => (Math.Min(s.Min, b.Min), Math.Max(s.Max, b.Max)),
        };
        s.UnitCount = checked(s.UnitCount + b.UnitCount);
        s.Total = checked(s.Total + b.Total);
        s.DenominatorTotal = checked(s.DenominatorTotal + b.DenominatorTotal);
        s.MeetingTargetCount = checked(s.MeetingTargetCount + b.MeetingTargetCount);
        foreach (var category in b.Categories)
        {
            s.AddCategory(category.Code, category.UnitCount);
        }
    }

    /// <summary>Reads a lone aggregate into the running figure, before a second is merged with it.</summary>
    private static void Materialize(ref Slot s)
    {
        if (s.Materialized)
        {
            return;
        }

        var a = s.First!;
        s.Materialized = true;
        s.Kind = a.Kind;
        s.UnitCount = a.UnitCount;
        s.Total = a.Total;
        s.DenominatorTotal = a.DenominatorTotal;
        s.Min = a.Min;
        s.Max = a.Max;
        s.MeetingTargetCount = a.MeetingTargetCount;
        foreach (var category in a.Categories)
        {
            s.AddCategory(category.Code, category.UnitCount);
        }
    }

    private IndicatorAggregate Emit(int slot)
    {
        ref var s = ref _slots[slot];
        if (!s.Materialized)
        {
            return s.First!.Clone();
        }

        var result = new IndicatorAggregate
        {
            IndicatorId = IdOf(slot),
            Kind = s.Kind,
            UnitCount = s.UnitCount,
            Total = s.Total,
            DenominatorTotal = s.DenominatorTotal,
            Min = s.Min,
            Max = s.Max,
            MeetingTargetCount = s.MeetingTargetCount,
        };
        if (s.CategoryCount > 0)
        {
            var categories = new CategoryCount[s.CategoryCount];
            for (var i = 0; i < categories.Length; i++)
            {
                categories[i] = new CategoryCount { Code = s.CategoryCodes![i], UnitCount = s.CategoryUnits![i] };
            }

            result.Categories.AddRange(categories);
        }

        return result;
    }

    private static Exception KindMismatch(string indicatorId, ValueKind held, ValueKind added) =>
        ThrowHelper.Argument("b", $"Indicator '{indicatorId}' is {held} on one side and {added} on the other.");

    /// <summary>
    /// One indicator's running figure. Count is the aggregates merged into it; a lone aggregate from a list
    /// is held by reference (First) until a second one makes the slot read it (Materialized).
    /// </summary>
    private struct Slot
    {
        public int Count;
        public bool Materialized;
        public IndicatorAggregate? First;
        public string? Id;
        public ValueKind Kind;
        public uint UnitCount;
        public long Total;
        public long DenominatorTotal;
        public long Min;
        public long Max;
        public uint MeetingTargetCount;
        public int CategoryCount;
        public string[]? CategoryCodes;
        public uint[]? CategoryUnits;

        public void Reset()
        {
            Count = 0;
            Materialized = false;
            First = null;
            Id = null;
            CategoryCount = 0;
            if (CategoryCodes is not null)
            {
                Array.Clear(CategoryCodes);
            }
        }

        /// <summary>Adds units to a category, kept sorted by code (ordinal), as the merge's sorted counts are.</summary>
        public void AddCategory(string code, uint unitCount)
        {
            var lo = 0;
            var hi = CategoryCount - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                var order = string.CompareOrdinal(CategoryCodes![mid], code);
                if (order == 0)
                {
                    CategoryUnits![mid] = checked(CategoryUnits[mid] + unitCount);
                    return;
                }

                (lo, hi) = order < 0 ? (mid + 1, hi) : (lo, mid - 1);
            }

            if (CategoryCodes is null || CategoryCount == CategoryCodes.Length)
            {
                var size = Math.Max(4, CategoryCount * 2);
                Array.Resize(ref CategoryCodes, size);
                Array.Resize(ref CategoryUnits, size);
            }

            Array.Copy(CategoryCodes, lo, CategoryCodes, lo + 1, CategoryCount - lo);
            Array.Copy(CategoryUnits!, lo, CategoryUnits!, lo + 1, CategoryCount - lo);
            CategoryCodes[lo] = code;
            CategoryUnits![lo] = unitCount;
            CategoryCount++;
        }
    }
}

/// <summary>
/// A catalogue's indicators numbered in ordinal id order, with what a report's merge needs of each:
/// built once per catalogue, so that a merge looks up each id once and sorts nothing.
/// </summary>
internal sealed class AggregateLayout
{
    public AggregateLayout(CatalogueIndex catalogue)
    {
        var indicators = catalogue.Indicators;
        Indicators = [.. indicators.OrderBy(static i => i.Id, StringComparer.Ordinal)];
        Ids = [.. Indicators.Select(static i => i.Id)];
        SlotOf = Ids.Select(static (id, slot) => (id, slot)).ToFrozenDictionary(static p => p.id, static p => p.slot, StringComparer.Ordinal);
        Targets = [.. Indicators.Select(static i => i.Target is { } t ? new TargetRule(true, t.Comparison, Rational.ThresholdOf(t)) : default)];
        Kinds = [.. Indicators.Select(static i => i.Kind)];
        LedgerComputed = [.. Indicators.Select(static i => i.LedgerCount != LedgerCount.Unspecified)];

        // In catalogue order, as FromReport adds them.
        SlotsInCatalogueOrder = [.. indicators.Select(i => SlotOf[i.Id])];
        IsFromLedger = [.. Indicators.Select(catalogue.IsFromLedger)];
        IdUtf8 = [.. Ids.Select(static id => System.Text.Encoding.UTF8.GetBytes(id))];
        CategoryCodes = [.. Indicators.Select(static i => i.Categories.Select(static c => c.Code).ToArray())];
        CategoryUtf8 = [.. CategoryCodes.Select(static codes => codes.Select(static c => System.Text.Encoding.UTF8.GetBytes(c)).ToArray())];
        CatalogueOrderOf = new int[Ids.Length];
        for (var order = 0; order < SlotsInCatalogueOrder.Length; order++)
        {
            CatalogueOrderOf[SlotsInCatalogueOrder[order]] = order;
        }

        Ratios = [.. indicators.Where(static i => i.Kind == ValueKind.Ratio)
            .Select(i => new RatioRule(SlotOf[i.Id], SlotOf[i.Ratio.NumeratorIndicatorId], SlotOf[i.Ratio.DenominatorIndicatorId]))];
    }

    /// <summary>Indicator ids in ordinal order; an id's index is its slot.</summary>
    public string[] Ids { get; }

    public Indicator[] Indicators { get; }

    public FrozenDictionary<string, int> SlotOf { get; }

    /// <summary>Per slot, the indicator's target (<see cref="TargetRule.IsSet"/> false when it has none).</summary>
    public TargetRule[] Targets { get; }

    /// <summary>Per slot, the indicator's kind.</summary>
    public ValueKind[] Kinds { get; }

    /// <summary>Per slot, true when the indicator is computed from the rectification ledger (a ledger count).</summary>
    public bool[] LedgerComputed { get; }

    /// <summary>Per slot, the id's UTF-8 bytes, as a stored report holds it.</summary>
    public byte[][] IdUtf8 { get; }

    /// <summary>Per slot, the indicator's category codes (none unless it is a CATEGORY), and their UTF-8 bytes.</summary>
    public string[][] CategoryCodes { get; }

    public byte[][][] CategoryUtf8 { get; }

    /// <summary>Per slot, <see cref="CatalogueIndex.IsFromLedger"/>.</summary>
    public bool[] IsFromLedger { get; }

    /// <summary>The slots in the catalogue's own (display) order, the order reports list their values in.</summary>
    public int[] SlotsInCatalogueOrder { get; }

    /// <summary>Each slot's place in the catalogue's order.</summary>
    public int[] CatalogueOrderOf { get; }

    public RatioRule[] Ratios { get; }

    public readonly record struct TargetRule(bool IsSet, Comparison Comparison, Rational Threshold);

    public readonly record struct RatioRule(int Slot, int NumeratorSlot, int DenominatorSlot);
}

/// <summary>
/// One reported value as the merge reads it: the value's case and its number or text, read back as protobuf's
/// accessors read them (a case other than the one asked for reads as that field's default).
/// </summary>
internal readonly struct UnitValue(IndicatorValue.ValueOneofCase valueCase, long number, string? text)
{
    public long Count => valueCase == IndicatorValue.ValueOneofCase.Count ? number : 0;

    public bool Flag => valueCase == IndicatorValue.ValueOneofCase.Flag && number != 0;

    public long Measure => valueCase == IndicatorValue.ValueOneofCase.Measure ? number : 0;

    public string Category => valueCase == IndicatorValue.ValueOneofCase.Category ? text! : string.Empty;

    public static UnitValue Of(IndicatorValue value) => value.ValueCase switch
    {
        IndicatorValue.ValueOneofCase.Count => new(IndicatorValue.ValueOneofCase.Count, value.Count, null),
        IndicatorValue.ValueOneofCase.Flag => new(IndicatorValue.ValueOneofCase.Flag, value.Flag ? 1 : 0, null),
        IndicatorValue.ValueOneofCase.Measure => new(IndicatorValue.ValueOneofCase.Measure, value.Measure, null),
        IndicatorValue.ValueOneofCase.Category => new(IndicatorValue.ValueOneofCase.Category, 0, value.Category),
        _ => default,
    };
}
