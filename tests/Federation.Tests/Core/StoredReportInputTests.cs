using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Tests.Core;

/// <summary>
/// A hosted unit's report given as its stored bytes builds the summary its parsed report builds: the same
/// signed bytes for well-formed reports, and for bytes written otherwise (fields repeated, unknown or of
/// another wire type, long varints, values of another kind, truncations, any byte changed) the same summary
/// or the same exception as parsing them first.
/// </summary>
public sealed class StoredReportInputTests
{
    private const int Rounds = 300;
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;
    private static readonly Period s_period = Period.Quarter(2026, 1);
    private static readonly DateTimeOffset s_buildTime = new(2026, 4, 20, 0, 0, 0, TimeSpan.Zero);
    private static readonly int s_baseSeed = PropertySeeds.First(1949);

    [Fact]
    public void Build_RandomStoredReports_GivesTheBytesOfTheParsedReports()
    {
        ForEachSeed(rng =>
        {
            var reports = Enumerable.Range(0, rng.Next(1, 20)).Select(i => RandomReport(rng, i).ToByteArray()).ToList();

            var (expected, actual) = BuildBoth(reports);

            Assert.Equal(expected, actual);
        });
    }

    [Fact]
    public void Build_StoredReportsWrittenOtherwise_GivesWhatParsingThemGives()
    {
        ForEachSeed(rng =>
        {
            // One report written otherwise among plain ones: with two bad ones, which error shows first is not the point.
            var reports = Enumerable.Range(0, rng.Next(0, 3)).Select(i => RandomReport(rng, i).ToByteArray()).ToList();
            reports.Insert(rng.Next(reports.Count + 1), Rewrite(rng, RandomReport(rng, reports.Count)));

            var (expected, actual) = BuildBoth(reports);

            Assert.Equal(expected, actual);
        });
    }

    [Fact]
    public void Build_StoredReportWithAnyByteChangedOrCut_GivesWhatParsingItGives()
    {
        var rng = new Random(s_baseSeed);
        var bytes = RandomReport(rng, 0).ToByteArray();
        for (var i = 0; i < bytes.Length; i++)
        {
            foreach (var change in new byte[] { 0x01, 0x80, 0xFF, 0x08 })
            {
                var changed = (byte[])bytes.Clone();
                changed[i] ^= change;
                var (expected, actual) = BuildBoth([changed]);
                Assert.True(expected == actual, $"byte {i} ^ 0x{change:x2}: expected {expected}, got {actual}");
            }

            var (cutExpected, cutActual) = BuildBoth([bytes[..i]]);
            Assert.True(cutExpected == cutActual, $"cut at {i}: expected {cutExpected}, got {cutActual}");
        }
    }

    [Fact]
    public void Build_StoredAndParsedReportsTogether_EqualsAllParsed()
    {
        var rng = new Random(s_baseSeed);
        var reports = Enumerable.Range(0, 12).Select(i => RandomReport(rng, i)).ToList();
        var hosted = reports.Select(static r => new HostedUnitInput(r.UnitId, r, Digest(r.ToByteArray()))).ToList();
        var mixed = Inputs(hosted.Where((_, i) => i % 2 == 0).ToList()) with
        {
            StoredReports = [.. reports.Where((_, i) => i % 2 == 1).Select(static r => new StoredReportInput(r.UnitId, r.ToByteArray(), Digest(r.ToByteArray())))],
        };

        Assert.Equal(SummaryBuilder.Build(Inputs(hosted)).ToByteArray(), SummaryBuilder.Build(mixed).ToByteArray());
    }

    /// <summary>The summary (hex of its bytes), or the exception's type and message, from the parsed reports and from the stored bytes.</summary>
    private static (string Expected, string Actual) BuildBoth(IReadOnlyList<byte[]> reports)
    {
        string expected;
        try
        {
            var hosted = reports.Select((bytes, i) =>
            {
                var report = UnitReport.Parser.ParseFrom(bytes);
                return new HostedUnitInput($"u{i:D3}", report, Digest(bytes), Approved: i % 3 == 0, CorrectedAfterApproval: i % 5 == 0);
            }).ToList();
            expected = Convert.ToHexString(SummaryBuilder.Build(Inputs(hosted)).ToByteArray());
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or ArgumentException or InvalidOperationException or OverflowException)
        {
            expected = $"{ex.GetType().Name}: {ex.Message}";
        }

        string actual;
        try
        {
            var stored = reports.Select((bytes, i) => new StoredReportInput($"u{i:D3}", bytes, Digest(bytes), Approved: i % 3 == 0, CorrectedAfterApproval: i % 5 == 0)).ToList();
            actual = Convert.ToHexString(SummaryBuilder.Build(Inputs([]) with { StoredReports = stored }).ToByteArray());
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or ArgumentException or InvalidOperationException or OverflowException)
        {
            actual = $"{ex.GetType().Name}: {ex.Message}";
        }

        return (expected, actual);
    }

    private static SummaryInputs Inputs(IReadOnlyList<HostedUnitInput> hosted) =>
        new("370113001", "township", s_period, 1, s_buildTime, s_catalogue, hosted, []);

    private static byte[] Digest(byte[] bytes) => Federation.Aggregator.Signing.Digests.Sha256(bytes);

    /// <summary>A report as the node stores one: random values (ledger counts typed in too, sometimes), received in or after the period.</summary>
    private static UnitReport RandomReport(Random rng, int index)
    {
        var values = Reports.Random(rng, complete: rng.Next(2) == 0);
        foreach (var id in s_catalogue.LedgerIndicators.Values.Where(_ => rng.Next(4) == 0))
        {
            values.Insert(rng.Next(values.Count + 1), Reports.Count(id, rng.Next(0, 9)));
        }

        if (rng.Next(4) == 0)
        {
            values.Reverse();
        }

        var report = new UnitReport { UnitId = $"u{index:D3}", Period = s_period.ToString(), Version = (ulong)rng.Next(1, 5), Values = { values } };
        if (rng.Next(5) > 0)
        {
            report.ReceiveTime = Timestamp.FromDateTimeOffset(s_period.EndInstant.AddDays(rng.Next(-30, 40)).AddTicks(rng.Next(0, 10_000_000) * 100L));
        }

        return report;
    }

    /// <summary>The report's bytes written in one of the ways protobuf reads but the node never writes.</summary>
    private static byte[] Rewrite(Random rng, UnitReport report)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        report.WriteTo(output);
        switch (rng.Next(14))
        {
            case 0:
                // An unknown field.
                output.WriteTag(15, WireFormat.WireType.Varint);
                output.WriteUInt64((ulong)rng.Next());
                break;
            case 1:
                // The version again: the last one counts.
                output.WriteTag(3, WireFormat.WireType.Varint);
                output.WriteUInt64((ulong)rng.Next(1, 100));
                break;
            case 2:
                // The receive time again: merged into the first.
                output.WriteTag(4, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(new Timestamp { Nanos = rng.Next(0, 999_999_999) });
                break;
            case 3:
                // A value with its id twice and two values: the last of each counts.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(Concat(
                    new IndicatorValue { IndicatorId = "applicants", Count = 3 },
                    new IndicatorValue { IndicatorId = "party_members", Flag = true },
                    new IndicatorValue { Count = rng.Next(0, 50) }));
                break;
            case 4:
                // A value of another kind than its indicator's.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(new IndicatorValue { IndicatorId = "secretary_age", Count = rng.Next(30, 60) });
                break;
            case 5:
                // A category outside the catalogue's codes, or a flag written as 2.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                var venue = "venue_up_to_standard"u8.ToArray();
                output.WriteBytes(rng.Next(2) == 0
                    ? new IndicatorValue { IndicatorId = "classification_grade", Category = "zz" }.ToByteString()
                    : ByteString.CopyFrom([0x0A, (byte)venue.Length, .. venue, 0x18, 0x02]));
                break;
            case 6:
                // A negative count: a ten-byte varint.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(new IndicatorValue { IndicatorId = "applicants", Count = -rng.Next(1, 9) });
                break;
            case 7:
                // A version in a non-minimal varint.
                output.WriteTag(3, WireFormat.WireType.Varint);
                output.Flush();
                stream.Write([0x85, 0x80, 0x80, 0x00]);
                break;
            case 8:
                // A known field with another wire type.
                output.WriteTag(3, WireFormat.WireType.Fixed64);
                output.WriteFixed64(7);
                break;
            case 9:
                // An empty value, and a value without an indicator.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(ByteString.Empty);
                break;
            case 10:
                // A receive time with negative nanos (ten bytes) or out of range.
                output.WriteTag(4, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(rng.Next(2) == 0 ? new Timestamp { Seconds = 5, Nanos = -1 } : new Timestamp { Seconds = long.MaxValue / 2 });
                break;
            case 11:
                // An indicator outside the catalogue.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(new IndicatorValue { IndicatorId = "no_such_indicator", Count = 1 });
                break;
            case 12:
                // A unit id that is not UTF-8.
                output.WriteTag(1, WireFormat.WireType.LengthDelimited);
                output.WriteBytes(ByteString.CopyFrom(0xC3, 0x28));
                break;
            default:
                // A ratio reported directly.
                output.WriteTag(5, WireFormat.WireType.LengthDelimited);
                output.WriteMessage(new IndicatorValue { IndicatorId = s_catalogue.Ratios[0].Id, Count = 1 });
                break;
        }

        output.Flush();
        return stream.ToArray();
    }

    private static ByteString Concat(params IMessage[] messages) => ByteString.CopyFrom([.. messages.SelectMany(static m => m.ToByteArray())]);

    private static void ForEachSeed(Action<Random> property) => PropertySeeds.ForEach(s_baseSeed, Rounds, property);
}
