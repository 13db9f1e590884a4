using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Benchmarks;

/// <summary>
/// A child summary a parent accepted: the exact bytes it verified and their digest, as the node stores them,
/// and the summary parsed from them at receipt, which the node keeps beside them for its rebuilds.
/// </summary>
internal sealed record HeldSummary(string ChildId, ByteString Bytes, byte[] Digest, Summary Parsed);

/// <summary>
/// The steps a node takes with summaries, through the aggregator's public API only, in the node's order:
/// on receipt, verify the signed bytes against the child's enrolled key, parse, check
/// (<see cref="SignedMessages.VerifySummary"/>, <see cref="SummaryChecks.Check"/>) and keep the parsed summary;
/// at a rebuild, merge what it holds and its hosted units' stored reports (<see cref="SummaryBuilder.Build"/>,
/// which reads the report bytes itself, <see cref="StoredReportInput"/>) and sign
/// (<see cref="SignedMessages.SignSummary"/>). A held summary is parsed once, at receipt, not again at each
/// rebuild. What the node does around them (LiteDB reads and writes, leaf allowances, the outbox, receipts)
/// is not here.
/// </summary>
internal sealed class SummaryWork(CatalogueIndex catalogue, Period period, DateTimeOffset now)
{
    private readonly string _period = period.ToString();

    /// <summary>Bytes of the domain prefix every signature covers before the payload.</summary>
    public static int PrefixByteCount { get; } = SignatureDomain.Summary.Prefix([]).Length;

    public CatalogueIndex Catalogue => catalogue;

    /// <summary>The instant every build and receipt of the run is dated (the core takes the time from its caller).</summary>
    public DateTimeOffset Now => now;

    /// <summary>A parent takes a child's signed summary; a refusal is an error of the harness.</summary>
    public HeldSummary Receive(SignedSummary signed, byte[] childPublicKey)
    {
        var verification = SignedMessages.VerifySummary(signed, childPublicKey);
        if (!verification.IsValid)
        {
            throw new BenchmarkException($"a summary was refused: {verification.Message}");
        }

        if (SummaryChecks.Check(verification.Value!, catalogue, now) is { } violation)
        {
            throw new BenchmarkException($"summary of {verification.Value!.NodeId} breaks a rule: {violation.Description}");
        }

        return new HeldSummary(verification.Value!.NodeId, signed.SummaryBytes, verification.Digest, verification.Value);
    }

    /// <summary>A node rebuilds and signs its summary from its hosted reports and the child summaries it holds.</summary>
    public SignedSummary Rebuild(string nodeId, string tier, ulong previousVersion, IReadOnlyList<StoredReportInput> hosted, IReadOnlyList<HeldSummary> held, NodeSigningKey key)
    {
        var children = new ChildInput[held.Count];
        for (var i = 0; i < held.Count; i++)
        {
            var h = held[i];
            children[i] = new ChildInput(h.ChildId, h.Parsed, h.Digest, now, 1);
        }

        var summary = SummaryBuilder.Build(new SummaryInputs(
            nodeId, tier, period, VersionRules.NextVersion(previousVersion, now), now, catalogue, [], children) { StoredReports = hosted });
        return SignedMessages.SignSummary(summary, key);
    }

    /// <summary>A hosted unit's stored report, its bytes and digest as the node reads them at a rebuild and hands them to the builder.</summary>
    public static StoredReportInput Hosted(string unitId, byte[] reportBytes, byte[] digest) => new(unitId, reportBytes, digest);

    /// <summary>The version a summary carries, read without trusting it (the harness signed it).</summary>
    public static ulong VersionOf(SignedSummary signed) => Summary.Parser.ParseFrom(signed.SummaryBytes).Version;

    public string PeriodText => _period;
}

/// <summary>
/// Villages' stored reports, made fast: unit <c>i</c>'s report is the sample row and raise of
/// <see cref="SampleReports.ValuesFor"/> (which repeat every rows × 23 units), serialized once, behind the
/// unit's own id. Protobuf reads the concatenation as one message.
/// </summary>
internal sealed class VillageReports
{
    private readonly int _cycle;
    private readonly byte[][] _tails;
    private readonly long[] _partyMembers;

    public VillageReports(SampleReports reports, Period period, DateTimeOffset receiveTime)
    {
        var timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(receiveTime);
        _cycle = reports.Cycle;
        _tails = new byte[_cycle][];
        _partyMembers = new long[_cycle];
        for (var j = 0; j < _cycle; j++)
        {
            var values = reports.ValuesFor(j);
            _tails[j] = new UnitReport { Period = period.ToString(), Version = 1, ReceiveTime = timestamp, Values = { values } }.ToByteArray();
            _partyMembers[j] = values.Single(static v => v.IndicatorId == SampleReports.PartyMembers).Count;
        }
    }

    /// <summary>The serialized report of village <paramref name="index"/> with id <paramref name="unitId"/>.</summary>
    public byte[] Bytes(int index, string unitId)
    {
        var tail = _tails[index % _cycle];
        var bytes = new byte[2 + unitId.Length + tail.Length];
        bytes[0] = 0x0A; // field 1 (unit_id), length-delimited
        bytes[1] = checked((byte)unitId.Length);
        System.Text.Encoding.ASCII.GetBytes(unitId, bytes.AsSpan(2));
        tail.CopyTo(bytes.AsSpan(2 + unitId.Length));
        return bytes;
    }

    /// <summary>Village <paramref name="index"/>'s party members, from the sample row alone (the independent sum).</summary>
    public long PartyMembersOf(int index) => _partyMembers[index % _cycle];
}
