using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Tests.Core;

/// <summary>A summary parsed at receipt is the one a rebuild gets back by its digest; a miss parses the bytes; the cache stays bounded.</summary>
public sealed class ParsedSummaryCacheTests
{
    [Fact]
    public void GetOrParse_AfterAdd_ReturnsTheSummaryKept()
    {
        var summary = SummaryChecksTests.ValidSummary();
        var bytes = summary.ToByteArray();
        var cache = new ParsedSummaryCache();
        cache.Add(Digests.Sha256(bytes), summary);

        Assert.Same(summary, cache.GetOrParse(Digests.Sha256(bytes), bytes));
    }

    [Fact]
    public void GetOrParse_NotKept_ParsesTheBytesAndKeepsThem()
    {
        var bytes = SummaryChecksTests.ValidSummary().ToByteArray();
        var cache = new ParsedSummaryCache();

        var parsed = cache.GetOrParse(Digests.Sha256(bytes), bytes);

        Assert.Equal(Summary.Parser.ParseFrom(bytes), parsed);
        Assert.Same(parsed, cache.GetOrParse(Digests.Sha256(bytes), bytes));
    }

    [Fact]
    public void Add_PastCapacity_StartsAgainEmpty()
    {
        var cache = new ParsedSummaryCache(capacity: 3);
        for (var i = 0; i < 4; i++)
        {
            var summary = new Summary { NodeId = $"n{i}" };
            cache.Add(Digests.Sha256(summary.ToByteArray()), summary);
        }

        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Add_DigestNotOf32Bytes_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ParsedSummaryCache().Add(new byte[16], new Summary()));
    }
}
