using System.Text.Json;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Tests.Core;

/// <summary>
/// A signed summary checked into the repository: the core must keep producing exactly these bytes from
/// the same inputs, and they must keep verifying. Set FEDERATION_WRITE_GOLDEN=1 to rewrite the file
/// after a deliberate format change (which is a new API version).
/// </summary>
public sealed class GoldenSummaryTests
{
    private const string RfcTest1SecretKey = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };
    private static readonly string s_goldenPath = Path.Combine(AppContext.BaseDirectory, "Golden", "signed-summary-v1.json");

    [Fact]
    public void SignSummary_FixedInputs_MatchesGoldenBytesAndSignature()
    {
        using var key = NodeSigningKey.FromPrivateKeyBytes(Convert.FromHexString(RfcTest1SecretKey));
        var signed = SignedMessages.SignSummary(BuildFixedSummary(), key);
        var actual = new Golden(
            Convert.ToHexStringLower(signed.SummaryBytes.Span),
            Convert.ToHexStringLower(signed.Signature.Span),
            signed.KeyId,
            Convert.ToHexStringLower(Digests.Sha256(signed.SummaryBytes.Span)));
        if (Environment.GetEnvironmentVariable("FEDERATION_WRITE_GOLDEN") == "1")
        {
            var source = Path.Combine(FindRepositoryRoot(), "tests", "Federation.Tests", "Golden", "signed-summary-v1.json");
            File.WriteAllText(source, JsonSerializer.Serialize(actual, s_indented) + "\n");
        }

        var golden = JsonSerializer.Deserialize<Golden>(File.ReadAllText(s_goldenPath))!;

        Assert.Equal(golden, actual);
    }

    [Fact]
    public void VerifySummary_GoldenFile_VerifiesWithTheRfcPublicKey()
    {
        var golden = JsonSerializer.Deserialize<Golden>(File.ReadAllText(s_goldenPath))!;
        var signed = new SignedSummary
        {
            SummaryBytes = ByteString.CopyFrom(Convert.FromHexString(golden.SummaryBytesHex)),
            Signature = ByteString.CopyFrom(Convert.FromHexString(golden.SignatureHex)),
            KeyId = golden.KeyId,
        };

        var verification = SignedMessages.VerifySummary(signed, Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));

        Assert.True(verification.IsValid, verification.Message);
        Assert.Equal(golden.DigestHex, Convert.ToHexStringLower(verification.Digest));
        Assert.Equal("370113001", verification.Value!.NodeId);
        Assert.Equal(2u, verification.Value.Coverage.ExpectedLeafCount);
    }

    [Fact]
    public void VerifySummary_GoldenFileWithAnyByteChanged_Fails()
    {
        var golden = JsonSerializer.Deserialize<Golden>(File.ReadAllText(s_goldenPath))!;
        var bytes = Convert.FromHexString(golden.SummaryBytesHex);
        var publicKey = Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        for (var i = 0; i < bytes.Length; i++)
        {
            var changed = (byte[])bytes.Clone();
            changed[i] ^= 0x80;
            var signed = new SignedSummary
            {
                SummaryBytes = ByteString.CopyFrom(changed),
                Signature = ByteString.CopyFrom(Convert.FromHexString(golden.SignatureHex)),
                KeyId = golden.KeyId,
            };

            Assert.False(SignedMessages.VerifySummary(signed, publicKey).IsValid, $"byte {i} changed but the summary still verified");
        }
    }

    /// <summary>A township hosting two villages, one of which reported.</summary>
    private static Summary BuildFixedSummary()
    {
        var report = new UnitReport
        {
            UnitId = "370113001001",
            Period = "2026-Q1",
            Version = 2,
            ReceiveTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 4, 5, 1, 2, 3, TimeSpan.Zero)),
            Values =
            {
                Reports.Category("classification_grade", "good"),
                Reports.Count("committee_posts", 5),
                Reports.Count("party_members", 48),
                Reports.Count("reserve_cadres", 3),
                Reports.Flag("secretary_college_degree", true),
                Reports.Measure("secretary_age", 41),
            },
        };
        return SummaryBuilder.Build(new SummaryInputs(
            "370113001",
            "township",
            Period.Quarter(2026, 1),
            7,
            new DateTimeOffset(2026, 4, 6, 8, 0, 0, TimeSpan.Zero),
            CatalogueIndex.Default,
            [
                new HostedUnitInput("370113001001", report, Digests.Sha256(report.ToByteArray())),
                new HostedUnitInput("370113001002", null, []),
            ],
            []));
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Federation.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Federation.sln not found above the test folder.");
    }

    private sealed record Golden(string SummaryBytesHex, string SignatureHex, string KeyId, string DigestHex);
}
