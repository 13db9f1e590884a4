using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Grpc;
using Federation.Node.Queries;
using Federation.Protos.V1;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Tests.Core;

/// <summary>
/// The page tokens and held listings every paged list shares: a token names its request and is refused with any
/// other, anything not issued is refused, pages stay within their byte budget, and a listing goes when it is read
/// to its end, idle too long, or crowded out.
/// </summary>
public sealed class PageTokensTests
{
    private static readonly ulong s_hash = PageTokens.RequestHash("GetCompleteness", new GetCompletenessRequest { Period = "2026-Q1" });

    [Fact]
    public void Read_TokenItIssued_GivesTheCursorBack()
    {
        var cursor = new PageCursor(s_hash, UInt128.MaxValue - 7, 12_345);

        var read = PageTokens.Read(PageTokens.Of(cursor), s_hash, "GetCompleteness");

        Assert.Null(read.Rejection);
        Assert.Equal(cursor, read.Value!.Cursor);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("not base64url!")]
    [InlineData("AAAA")]
    [InlineData("370113001")]
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Read_TokenNotIssued_IsMalformedRequest(string token)
    {
        var read = PageTokens.Read(token, s_hash, "GetCompleteness");

        Assert.Equal(RejectionReason.MalformedRequest, read.Rejection?.Reason);
        Assert.Equal("page_token", read.Rejection!.Violations.Single().Field);
    }

    [Fact]
    public void Read_TokenOfAnotherRequest_IsMalformedRequest()
    {
        var token = PageTokens.Of(new PageCursor(s_hash, 1, 10));
        var otherPeriod = PageTokens.RequestHash("GetCompleteness", new GetCompletenessRequest { Period = "2026-Q2" });
        var otherMethod = PageTokens.RequestHash("GetTargets", new GetTargetsRequest { Period = "2026-Q1" });

        Assert.Equal(RejectionReason.MalformedRequest, PageTokens.Read(token, otherPeriod, "GetCompleteness").Rejection?.Reason);
        Assert.Equal(RejectionReason.MalformedRequest, PageTokens.Read(token, otherMethod, "GetTargets").Rejection?.Reason);
    }

    [Fact]
    public void RequestHash_PageFieldsCleared_SameForEveryPage()
    {
        var first = new GetCompletenessRequest { NodeId = "370113", Period = "2026-Q1" };

        Assert.Equal(PageTokens.RequestHash("GetCompleteness", first), PageTokens.RequestHash("GetCompleteness", first.Clone()));
        Assert.NotEqual(PageTokens.RequestHash("GetCompleteness", first), PageTokens.RequestHash("GetCompleteness", new GetCompletenessRequest { Period = "2026-Q1" }));
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 1)]
    [InlineData(999, 999)]
    [InlineData(5000, 1000)]
    public void Size_DefaultWhenNoneAndCappedAtTheMaximum(int requested, int expected) => Assert.Equal(expected, PageTokens.Size(requested, 100, 1000));

    [Fact]
    public void Size_Negative_ThrowsForTheCheckWasSkipped() => Assert.Throws<ArgumentOutOfRangeException>(() => PageTokens.Size(-1, 100, 1000));

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void CheckSize_Negative_MalformedRequestNamingTheFieldAndTheValue(int requested)
    {
        var rejection = PageTokens.CheckSize(requested);

        Assert.NotNull(rejection);
        Assert.Equal(RejectionReason.MalformedRequest, rejection.Reason);
        Assert.Equal("page_size", Assert.Single(rejection.Violations).Field);
        Assert.StartsWith($"page_size {requested.ToString(System.Globalization.CultureInfo.InvariantCulture)} is negative", rejection.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(int.MaxValue)]
    public void CheckSize_ZeroOrPositive_Admitted(int requested) => Assert.Null(PageTokens.CheckSize(requested));

    [Fact]
    public void EveryRequestWithAPageSize_IsAPagedRequestTheInterceptorChecks()
    {
        var withPageSize = typeof(ListTokensRequest).Assembly.GetTypes()
            .Where(static t => t.Namespace == "Federation.Protos.V1" && t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(static t => (FileDescriptor)t.GetProperty("Descriptor")!.GetValue(null)!)
            .SelectMany(static f => f.MessageTypes)
            .Where(static m => m.FindFieldByName("page_size") is not null)
            .Select(static m => m.ClrType)
            .ToList();

        Assert.Contains(typeof(GetSubtreeStatusRequest), withPageSize);
        Assert.All(withPageSize, static t => Assert.True(typeof(IPagedRequest).IsAssignableFrom(t), $"{t.Name} has a page_size but is not an IPagedRequest"));
    }

    [Fact]
    public void Take_EntriesLargerThanTheBudget_StopsBeforeItButAlwaysTakesOne()
    {
        const int entry = 400 * 1024;

        Assert.Equal(2, PageTokens.Take(0, 10, 1000, _ => entry));
        Assert.Equal(1, PageTokens.Take(0, 10, 1000, _ => 5 * 1024 * 1024));
        Assert.Equal(3, PageTokens.Take(7, 10, 1000, _ => 10));
        Assert.Equal(0, PageTokens.Take(10, 10, 1000, _ => 10));
        Assert.Equal(4, PageTokens.Take(0, 10, 4, _ => 10));
    }

    [Fact]
    public void ListingCache_ReadWithinTheLifetime_StaysAndExpiresWhenIdle()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var cache = new ListingCache(clock);
        var id = cache.Hold(new Numbers(3));

        clock.Advance(ListingCache.IdleLifetime - TimeSpan.FromSeconds(1));
        Assert.NotNull(cache.Find<Numbers>(id));
        clock.Advance(ListingCache.IdleLifetime - TimeSpan.FromSeconds(1));
        Assert.NotNull(cache.Find<Numbers>(id));
        clock.Advance(ListingCache.IdleLifetime + TimeSpan.FromSeconds(1));

        Assert.Null(cache.Find<Numbers>(id));
        Assert.Equal(0, cache.HeldCount);
    }

    [Fact]
    public void ListingCache_BeyondTheMaximum_TheLeastRecentlyReadGoesFirst()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var cache = new ListingCache(clock);
        var first = cache.Hold(new Numbers(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        var second = cache.Hold(new Numbers(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(cache.Find<Numbers>(first));

        for (var i = 2; i < ListingCache.MaxListings + 1; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            cache.Hold(new Numbers(1));
        }

        Assert.Equal(ListingCache.MaxListings, cache.HeldCount);
        Assert.NotNull(cache.Find<Numbers>(first));
        Assert.Null(cache.Find<Numbers>(second));
    }

    [Fact]
    public void ListingCache_OfAnotherType_IsNotFound()
    {
        var cache = new ListingCache(new FakeTimeProvider());
        var id = cache.Hold(new Numbers(2));

        Assert.Null(cache.Find<SubtreeListing>(id));
        Assert.NotNull(cache.Find<Numbers>(id));
    }

    [Fact]
    public async Task ListingPages_LastPageRead_LetsTheListingGo()
    {
        var cache = new ListingCache(new FakeTimeProvider());
        var pages = new ListingPages(cache);
        var first = (await pages.StartAsync("List", string.Empty, s_hash, static () => Task.FromResult(new Numbers(5)))).Value!;
        var token = pages.Next(first, 3, s_hash);
        Assert.Equal(1, cache.HeldCount);

        var second = (await pages.StartAsync<Numbers>("List", token, s_hash, static () => throw new InvalidOperationException("a token never makes a listing"))).Value!;
        Assert.Equal(3, second.Offset);
        Assert.Equal(string.Empty, pages.Next(second, 5, s_hash));

        Assert.Equal(0, cache.HeldCount);
        var again = await pages.StartAsync<Numbers>("List", token, s_hash, static () => throw new InvalidOperationException("a token never makes a listing"));
        Assert.Equal(RejectionReason.PageTokenExpired, again.Rejection?.Reason);
    }

    [Fact]
    public async Task ListingPages_OffsetPastTheEnd_IsMalformedRequest()
    {
        var cache = new ListingCache(new FakeTimeProvider());
        var pages = new ListingPages(cache);
        var id = cache.Hold(new Numbers(5));

        var beyond = await pages.StartAsync<Numbers>("List", PageTokens.Of(new PageCursor(s_hash, id, 6)), s_hash, static () => Task.FromResult(new Numbers(0)));
        var stateless = await pages.StartAsync<Numbers>("List", PageTokens.Of(new PageCursor(s_hash, UInt128.Zero, 1)), s_hash, static () => Task.FromResult(new Numbers(0)));

        Assert.Equal(RejectionReason.MalformedRequest, beyond.Rejection?.Reason);
        Assert.Equal(RejectionReason.MalformedRequest, stateless.Rejection?.Reason);
        Assert.NotNull(cache.Find<Numbers>(id));
    }

    private sealed class Numbers(int count) : Listing
    {
        public override int Count { get; } = count;

        public override long HeldBytes => Count * 8L;
    }
}
