using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Tests.Infrastructure;

/// <summary>A child node played by the test: its own key, and summaries it builds and signs by hand.</summary>
public sealed class FakeChild : IDisposable
{
    private readonly NodeSigningKey _key;

    public FakeChild(string id, byte seed)
    {
        Id = id;
        _key = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat(seed, NodeSigningKey.PrivateKeyByteCount).ToArray());
    }

    public string Id { get; }

    internal NodeSigningKey Key => _key;

    public byte[] PublicKey => _key.PublicKeyBytes;

    /// <summary>A signed summary claiming to be from <paramref name="claimedId"/> (default: this child) with one hosted unit's party members.</summary>
    public SignedSummary Summary(string period, ulong version, long partyMembers, string? claimedId = null)
    {
        var report = new UnitReport
        {
            UnitId = (claimedId ?? Id) + "001",
            Period = period,
            Version = 1,
            ReceiveTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 4, 2, 0, 0, 0, TimeSpan.Zero)),
            Values = { Reports.Count("party_members", partyMembers) },
        };
        var summary = SummaryBuilder.Build(new SummaryInputs(
            claimedId ?? Id,
            "township",
            Period.Parse(period),
            version,
            new DateTimeOffset(2026, 4, 3, 0, 0, 0, TimeSpan.Zero),
            CatalogueIndex.Default,
            [new HostedUnitInput(report.UnitId, report, Digests.Sha256(report.ToByteArray()))],
            []));
        return SignedMessages.SignSummary(summary, _key);
    }

    public void Dispose() => _key.Dispose();
}
