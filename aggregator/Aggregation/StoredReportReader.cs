using System.Text.Unicode;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Aggregator.Aggregation;

/// <summary>
/// Reads what a summary's merge needs of a stored <see cref="UnitReport"/> (its version, receive time and values)
/// straight from its bytes, without building the report's objects. Only the plain encoding is read: the report's
/// own fields, each with its declared wire type; values naming a catalogue indicator with the value its kind
/// takes (a category one of the indicator's codes); varints of at most nine bytes; valid UTF-8. Anything else
/// (unknown or misplaced fields, other indicators or codes, longer varints, a truncated field) makes
/// <see cref="TryRead"/> return false, and the caller parses the bytes as protobuf does, so the result is
/// always that of parsing them.
/// </summary>
internal static class StoredReportReader
{
    /// <summary>Most values read into the caller's buffer; a longer report is parsed.</summary>
    public const int MaxValues = 128;

    // Tags: field number << 3 | wire type (0 varint, 2 length-delimited).
    private const byte UnitIdTag = (1 << 3) | 2;
    private const byte PeriodTag = (2 << 3) | 2;
    private const byte VersionTag = 3 << 3;
    private const byte ReceiveTimeTag = (4 << 3) | 2;
    private const byte ValuesTag = (5 << 3) | 2;
    private const byte SecondsTag = 1 << 3;
    private const byte NanosTag = 2 << 3;
    private const byte IndicatorIdTag = (1 << 3) | 2;
    private const byte CountTag = 2 << 3;
    private const byte FlagTag = 3 << 3;
    private const byte MeasureTag = 4 << 3;
    private const byte CategoryTag = (5 << 3) | 2;

    /// <summary>One value read: the indicator's slot, the value's case, and its number or category (an index into the indicator's codes).</summary>
    public readonly record struct SlotValue(int Slot, IndicatorValue.ValueOneofCase Case, long Number, int CategoryIndex)
    {
        public UnitValue ToUnitValue(AggregateLayout layout) =>
            new(Case, Number, Case == IndicatorValue.ValueOneofCase.Category ? layout.CategoryCodes[Slot][CategoryIndex] : null);
    }

    /// <summary>Reads the report; false when its encoding is not the plain one (then nothing in <paramref name="values"/> counts).</summary>
    public static bool TryRead(
        ReadOnlySpan<byte> bytes, AggregateLayout layout, SlotValue[] values, out int count, out ulong version, out Timestamp? receiveTime)
    {
        count = 0;
        version = 0;
        receiveTime = null;
        long seconds = 0;
        int nanos = 0;
        var hasReceiveTime = false;
        var guess = 0;
        var position = 0;
        while (position < bytes.Length)
        {
            var tag = bytes[position++];
            switch (tag)
            {
                case UnitIdTag or PeriodTag:
                    if (!TryLengthDelimited(bytes, ref position, out var text) || !Utf8.IsValid(text))
                    {
                        return false;
                    }

                    break;
                case VersionTag:
                    if (!TryVarint(bytes, ref position, out version))
                    {
                        return false;
                    }

                    break;
                case ReceiveTimeTag:
                    // A message field given again is merged into the first: its fields keep their last values.
                    if (!TryLengthDelimited(bytes, ref position, out var time) || !TryReadTimestamp(time, ref seconds, ref nanos))
                    {
                        return false;
                    }

                    hasReceiveTime = true;
                    break;
                case ValuesTag:
                    if (count == values.Length || !TryLengthDelimited(bytes, ref position, out var value) ||
                        !TryReadValue(value, layout, ref guess, out values[count]))
                    {
                        return false;
                    }

                    count++;
                    break;
                default:
                    return false;
            }
        }

        if (hasReceiveTime)
        {
            receiveTime = new Timestamp { Seconds = seconds, Nanos = nanos };
        }

        return true;
    }

    private static bool TryReadTimestamp(ReadOnlySpan<byte> bytes, ref long seconds, ref int nanos)
    {
        var position = 0;
        while (position < bytes.Length)
        {
            switch (bytes[position++])
            {
                case SecondsTag when TryVarint(bytes, ref position, out var s):
                    seconds = (long)s;
                    break;

                // An int32 is written in five bytes at most when not negative; a negative one takes ten, and is parsed.
                case NanosTag when TryVarint(bytes, ref position, out var n) && n <= int.MaxValue:
                    nanos = (int)n;
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool TryReadValue(ReadOnlySpan<byte> bytes, AggregateLayout layout, ref int guess, out SlotValue value)
    {
        // As the node writes a value: its id (under 128 bytes), then one number of at most one byte. Anything else: the general reading below.
        if (bytes.Length >= 4 && bytes[0] == IndicatorIdTag && bytes[1] < 0x80 && bytes.Length == bytes[1] + 4 && bytes[^1] < 0x80 &&
            bytes[^2] is CountTag or FlagTag or MeasureTag && TrySlot(bytes.Slice(2, bytes[1]), layout, ref guess, out var fastSlot))
        {
            var fastCase = bytes[^2] switch
            {
                CountTag => IndicatorValue.ValueOneofCase.Count,
                FlagTag => IndicatorValue.ValueOneofCase.Flag,
                _ => IndicatorValue.ValueOneofCase.Measure,
            };
            var kind = layout.Kinds[fastSlot];
            if ((fastCase, kind) is (IndicatorValue.ValueOneofCase.Count, ValueKind.Count) or (IndicatorValue.ValueOneofCase.Flag, ValueKind.Flag) or
                (IndicatorValue.ValueOneofCase.Measure, ValueKind.Measure))
            {
                value = new SlotValue(fastSlot, fastCase, fastCase == IndicatorValue.ValueOneofCase.Flag ? (bytes[^1] != 0 ? 1 : 0) : bytes[^1], 0);
                return true;
            }
        }

        return TryReadAnyValue(bytes, layout, ref guess, out value);
    }

    private static bool TryReadAnyValue(ReadOnlySpan<byte> bytes, AggregateLayout layout, ref int guess, out SlotValue value)
    {
        value = default;
        ReadOnlySpan<byte> id = [];
        ReadOnlySpan<byte> code = [];
        var valueCase = IndicatorValue.ValueOneofCase.None;
        ulong number = 0;
        var position = 0;
        while (position < bytes.Length)
        {
            var tag = bytes[position++];
            switch (tag)
            {
                case IndicatorIdTag:
                    if (!TryLengthDelimited(bytes, ref position, out id))
                    {
                        return false;
                    }

                    break;

                // The value is a oneof: the last one given is the value.
                case CountTag or FlagTag or MeasureTag:
                    if (!TryVarint(bytes, ref position, out number))
                    {
                        return false;
                    }

                    valueCase = tag switch
                    {
                        CountTag => IndicatorValue.ValueOneofCase.Count,
                        FlagTag => IndicatorValue.ValueOneofCase.Flag,
                        _ => IndicatorValue.ValueOneofCase.Measure,
                    };
                    break;
                case CategoryTag:
                    if (!TryLengthDelimited(bytes, ref position, out code))
                    {
                        return false;
                    }

                    valueCase = IndicatorValue.ValueOneofCase.Category;
                    break;
                default:
                    return false;
            }
        }

        if (!TrySlot(id, layout, ref guess, out var slot))
        {
            return false;
        }

        // Only the value its kind takes; FromReport's reading of any other (or of a ratio) is left to the parse.
        var kind = layout.Kinds[slot];
        switch (valueCase)
        {
            case IndicatorValue.ValueOneofCase.Count when kind == ValueKind.Count:
            case IndicatorValue.ValueOneofCase.Measure when kind == ValueKind.Measure:
                value = new SlotValue(slot, valueCase, (long)number, 0);
                return true;
            case IndicatorValue.ValueOneofCase.Flag when kind == ValueKind.Flag:
                value = new SlotValue(slot, valueCase, number != 0 ? 1 : 0, 0);
                return true;
            case IndicatorValue.ValueOneofCase.Category when kind == ValueKind.Category:
                var codes = layout.CategoryUtf8[slot];
                for (var c = 0; c < codes.Length; c++)
                {
                    if (code.SequenceEqual(codes[c]))
                    {
                        value = new SlotValue(slot, valueCase, 0, c);
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>The slot of the indicator whose id is these UTF-8 bytes: the one after the last first (reports follow the catalogue's order).</summary>
    private static bool TrySlot(ReadOnlySpan<byte> id, AggregateLayout layout, ref int guess, out int slot)
    {
        var order = layout.SlotsInCatalogueOrder;
        if (guess < order.Length && id.SequenceEqual(layout.IdUtf8[order[guess]]))
        {
            slot = order[guess++];
            return true;
        }

        for (slot = 0; slot < layout.IdUtf8.Length; slot++)
        {
            if (id.SequenceEqual(layout.IdUtf8[slot]))
            {
                guess = layout.CatalogueOrderOf[slot] + 1;
                return true;
            }
        }

        return false;
    }

    /// <summary>A length-prefixed field's bytes; false when its length does not fit what is left.</summary>
    private static bool TryLengthDelimited(ReadOnlySpan<byte> bytes, scoped ref int position, out ReadOnlySpan<byte> field)
    {
        field = default;
        if (!TryVarint(bytes, ref position, out var length) || length > (ulong)(bytes.Length - position))
        {
            return false;
        }

        field = bytes.Slice(position, (int)length);
        position += (int)length;
        return true;
    }

    /// <summary>A varint of at most nine bytes (every value below 2^63); a longer one is left to the parse.</summary>
    private static bool TryVarint(ReadOnlySpan<byte> bytes, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 63; shift += 7)
        {
            if (position == bytes.Length)
            {
                return false;
            }

            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
