using System.Security.Cryptography;
using Federation.Node.Application;

namespace Federation.Node.Queries;

/// <summary>A listing made for a first page and read, unchanged, by the pages after it.</summary>
internal abstract class Listing
{
    /// <summary>Entries in the listing, across all its pages.</summary>
    public abstract int Count { get; }

    /// <summary>About how many bytes the listing's entries take serialized: what the node holds for it.</summary>
    public abstract long HeldBytes { get; }
}

/// <summary>Where a page starts: the listing, the offset in it, and the listing's id once the node holds it.</summary>
internal sealed record ListingPage<T>(T Listing, int Offset, UInt128? ListingId)
    where T : Listing;

/// <summary>
/// The listings this node holds between pages (AIP-158 with stored page tokens). A walk of the subtree cannot be
/// made again for every page, so the first page makes the listing and its token names it; the later pages read it.
/// A listing read to its end is let go at once; one not read for <see cref="IdleLifetime"/> expires; beyond
/// <see cref="MaxListings"/> listings or <see cref="MaxHeldBytes"/>, the least recently read goes first.
/// Thread-safe.
/// </summary>
internal sealed class ListingCache(TimeProvider time)
{
    /// <summary>How long a listing stays after the page that last read it.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(5);

    /// <summary>Most listings held at once.</summary>
    public const int MaxListings = 64;

    /// <summary>Most bytes of listings held at once (as serialized; a province-sized walk of 100,000 leaves is about 6 MiB).</summary>
    public const long MaxHeldBytes = 256L * 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<UInt128, Held> _held = [];
    private long _heldBytes;

    /// <summary>Listings held now.</summary>
    public int HeldCount
    {
        get
        {
            lock (_gate)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Holds <paramref name="listing"/> for the pages after the first; returns its id.</summary>
    public UInt128 Hold(Listing listing)
    {
        ArgumentNullException.ThrowIfNull(listing);
        var id = NewId();
        lock (_gate)
        {
            var now = time.GetUtcNow();
            Sweep(now);
            while (_held.Count > 0 && (_held.Count >= MaxListings || _heldBytes + listing.HeldBytes > MaxHeldBytes))
            {
                Drop(_held.MinBy(static h => h.Value.LastRead).Key);
            }

            _held[id] = new Held(listing, now);
            _heldBytes += listing.HeldBytes;
        }

        return id;
    }

    /// <summary>The listing held under <paramref name="id"/>, if it is held and of type <typeparamref name="T"/>; a read keeps it another <see cref="IdleLifetime"/>.</summary>
    public T? Find<T>(UInt128 id)
        where T : Listing
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            Sweep(now);
            if (!_held.TryGetValue(id, out var held) || held.Listing is not T listing)
            {
                return null;
            }

            held.LastRead = now;
            return listing;
        }
    }

    /// <summary>Lets a listing go (its last page was read).</summary>
    public void Release(UInt128 id)
    {
        lock (_gate)
        {
            Drop(id);
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var expired in _held.Where(h => now - h.Value.LastRead > IdleLifetime).Select(static h => h.Key).ToList())
        {
            Drop(expired);
        }
    }

    private void Drop(UInt128 id)
    {
        if (_held.Remove(id, out var held))
        {
            _heldBytes -= held.Listing.HeldBytes;
        }
    }

    private static UInt128 NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        UInt128 id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }
        while (id == UInt128.Zero);

        return id;
    }

    private sealed class Held(Listing listing, DateTimeOffset lastRead)
    {
        public Listing Listing { get; } = listing;

        public DateTimeOffset LastRead { get; set; } = lastRead;
    }
}

/// <summary>
/// The paging every stored listing shares: a first page makes the listing, a token finds it again (or says why
/// not), and the answer's next token names it until its last page, which lets it go.
/// </summary>
internal sealed class ListingPages(ListingCache cache)
{
    /// <summary>
    /// The listing and offset a request's page starts at: made by <paramref name="make"/> when the request has no
    /// token, else the one its token names. A token refused changes nothing.
    /// </summary>
    public async Task<Outcome<ListingPage<T>>> StartAsync<T>(string method, string pageToken, ulong requestHash, Func<Task<T>> make)
        where T : Listing
    {
        ArgumentNullException.ThrowIfNull(make);
        if (pageToken.Length == 0)
        {
            return new ListingPage<T>(await make(), 0, null);
        }

        var read = PageTokens.Read(pageToken, requestHash, method);
        if (read.Rejection is { } refused)
        {
            return refused;
        }

        var cursor = read.Value!.Cursor;
        if (cursor.ListingId == UInt128.Zero)
        {
            return PageTokens.Beyond(method);
        }

        if (cache.Find<T>(cursor.ListingId) is not { } listing)
        {
            return PageTokens.Expired(method);
        }

        return cursor.Offset > listing.Count ? PageTokens.Beyond(method) : new ListingPage<T>(listing, cursor.Offset, cursor.ListingId);
    }

    /// <summary>The token of the page after one that ends at <paramref name="end"/>: empty at the end of the listing, which is then let go.</summary>
    public string Next<T>(ListingPage<T> page, int end, ulong requestHash)
        where T : Listing
    {
        ArgumentNullException.ThrowIfNull(page);
        if (end >= page.Listing.Count)
        {
            if (page.ListingId is { } done)
            {
                cache.Release(done);
            }

            return string.Empty;
        }

        var id = page.ListingId ?? cache.Hold(page.Listing);
        return PageTokens.Of(new PageCursor(requestHash, id, end));
    }
}
