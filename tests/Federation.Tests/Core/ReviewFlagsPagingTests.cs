using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Reports;
using Federation.Node.Reporting;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

/// <summary>
/// ListFlags pages: read one after another, at any page size, they list every flag once, in the one order, with the
/// count of what follows each; the page token carries a position and nothing else is read back. A failure names its
/// seed (replay with FEDERATION_PROPERTY_SEED).
/// </summary>
public sealed class ReviewFlagsPagingTests
{
    private const int Rounds = 100;
    private static readonly int s_baseSeed = Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 2027;
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;

    [Fact]
    public void Page_AnyPageSize_PagesConcatenateToTheWholeSortedList()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var seed = s_baseSeed + round;
            var rng = new Random(seed);
            var units = Units(rng);
            var whole = ReviewFlags.Find(s_catalogue, units);
            var pageSize = rng.Next(1, 8);

            var paged = new List<ReviewFlag>();
            FlagPosition? after = null;
            while (true)
            {
                var (flags, following) = ReviewFlags.Page(s_catalogue, units, after, pageSize);
                Assert.True(flags.Count <= pageSize, $"seed {seed}: a page of {flags.Count} for size {pageSize}");
                paged.AddRange(flags);
                Assert.True(following == whole.Count - paged.Count, $"seed {seed}: {following} said to follow, {whole.Count - paged.Count} do");
                if (following == 0)
                {
                    break;
                }

                // Through the wire form, as a client would send it back.
                after = FlagPageToken.Parse(FlagPageToken.Of(FlagPosition.Of(flags[^1])));
            }

            Assert.True(whole.SequenceEqual(paged), $"seed {seed}: the pages differ from the whole list");
            Assert.True(whole.Zip(whole.Skip(1)).All(static p => FlagPosition.Of(p.First) < FlagPosition.Of(p.Second)), $"seed {seed}: the list is not strictly ordered");
        }
    }

    [Fact]
    public void Page_AfterAFlagThatIsGoneSinceThePreviousPage_StartsAtTheNextOneThatIsThere()
    {
        var units = Units(new Random(5));
        var whole = ReviewFlags.Find(s_catalogue, units);
        Assert.True(whole.Count > 2);
        var removed = FlagPosition.Of(whole[1]);

        var (flags, _) = ReviewFlags.Page(s_catalogue, [.. units.Where(u => u.UnitId != removed.UnitId)], removed, 1000);

        Assert.All(flags, f => Assert.True(FlagPosition.Of(f) > removed));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a token")]
    [InlineData("////")]
    [InlineData("AAAA")]
    [InlineData("eA")]
    public void Parse_AnythingNotIssued_IsNull(string token) => Assert.Null(FlagPageToken.Parse(token));

    [Fact]
    public void Parse_RandomText_NeverThrows()
    {
        var rng = new Random(s_baseSeed);
        for (var i = 0; i < 2000; i++)
        {
            var chars = new char[rng.Next(0, 700)];
            for (var c = 0; c < chars.Length; c++)
            {
                chars[c] = rng.Next(4) == 0 ? (char)rng.Next(0, 0xD800) : "ABCabc019-_=\n /+"[rng.Next(16)];
            }

            _ = FlagPageToken.Parse(new string(chars));
        }
    }

    /// <summary>Units whose reports break the warning rule now and then, with values that make some outliers.</summary>
    private static List<UnitFigures> Units(Random rng)
    {
        var units = new List<UnitFigures>();
        for (var u = rng.Next(0, 12); u > 0; u--)
        {
            var posts = rng.Next(3, 9);
            List<IndicatorValue> values =
            [
                new() { IndicatorId = "party_members", Count = rng.Next(10) == 0 ? 5000 : rng.Next(40, 60) },
                new() { IndicatorId = "training_attendances", Count = rng.Next(8) == 0 ? 900 : rng.Next(20, 30) },
                new() { IndicatorId = "committee_posts", Count = posts },
                new() { IndicatorId = "reserve_cadres", Count = rng.Next(0, 2 * posts) },
            ];
            var warnings = ReportRules.Check(s_catalogue, Federation.Aggregator.Periods.Period.Parse("2026-Q1"), values).Warnings;
            units.Add(new UnitFigures($"3701130010{u:D2}", values, [], warnings));
        }

        return units;
    }
}
