using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Federation.Aggregator;
using Federation.Aggregator.Identifiers;
using Google.Protobuf;

namespace Federation.Node.Application;

/// <summary>
/// Where a page token says the next page starts: the request it continues (a hash of every field but
/// page_size and page_token), the listing the node holds for it (<see cref="ListingId"/>; zero for a
/// listing that is computed again for every page, such as a range of periods), and the offset in it.
/// </summary>
internal readonly record struct PageCursor(ulong RequestHash, UInt128 ListingId, int Offset);

/// <summary>
/// The page tokens of the listings that page (AIP-158): what a token holds, how it is checked, and the page
/// sizes and byte budget every such listing shares. A token is base64url of a version byte, the request hash,
/// the listing id and the offset: opaque to clients, who must send it back as it came.
/// </summary>
internal static class PageTokens
{
    /// <summary>Most bytes of entries in one page, whatever page_size asks: well under gRPC's 4 MiB message limit.</summary>
    public const int MaxPageBytes = 1024 * 1024;

    private const byte Version = 1;
    private const int TokenBytes = 1 + 8 + 16 + 4;

    /// <summary>Longest token read; an issued one has 39 characters.</summary>
    private const int MaxTokenLength = 64;

    /// <summary>
    /// The refusal of a negative page_size, or null for 0 (the default page) or a positive size. AIP-158 makes a
    /// negative size INVALID_ARGUMENT: read as the default, it would hide a client's arithmetic slip.
    /// </summary>
    public static Rejection? CheckSize(int requested) => requested >= 0
        ? null
        : Rejection.Of(RejectionReason.MalformedRequest,
            string.Create(CultureInfo.InvariantCulture, $"page_size {requested} is negative: send 0 for the default page or a positive size."), "page_size");

    /// <summary>
    /// The page size to use for a page_size <see cref="CheckSize"/> let through: <paramref name="defaultSize"/> for 0,
    /// never above <paramref name="maxSize"/>. A negative one here means a paged request skipped the check.
    /// </summary>
    public static int Size(int requested, int defaultSize, int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requested);
        return requested == 0 ? defaultSize : Math.Min(requested, maxSize);
    }

    /// <summary>
    /// A hash of what a request asks apart from its page: the method and the request's bytes with page_size
    /// and page_token cleared. A token is honoured only with a request that hashes the same.
    /// </summary>
    public static ulong RequestHash(string method, IMessage requestWithoutPage)
    {
        ArgumentNullException.ThrowIfNull(requestWithoutPage);
        var bytes = Encoding.UTF8.GetBytes(method).Concat(new byte[] { 0 }).Concat(requestWithoutPage.ToByteArray()).ToArray();
        return BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(bytes));
    }

    public static string Of(PageCursor cursor)
    {
        Span<byte> bytes = stackalloc byte[TokenBytes];
        bytes[0] = Version;
        BinaryPrimitives.WriteUInt64BigEndian(bytes[1..], cursor.RequestHash);
        BinaryPrimitives.WriteUInt128BigEndian(bytes[9..], cursor.ListingId);
        BinaryPrimitives.WriteInt32BigEndian(bytes[25..], cursor.Offset);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>
    /// Reads a token sent with a request that hashes to <paramref name="requestHash"/>: the cursor, or
    /// MALFORMED_REQUEST when the token is not one this node issues or was issued for another request.
    /// </summary>
    public static Outcome<PageCursorBox> Read(string token, ulong requestHash, string method)
    {
        ArgumentNullException.ThrowIfNull(token);
        Span<byte> bytes = stackalloc byte[MaxTokenLength];
        if (token.Length > MaxTokenLength || !Base64Url.IsValid(token) || !Base64Url.TryDecodeFromChars(token, bytes, out var written) ||
            written != TokenBytes || bytes[0] != Version || BinaryPrimitives.ReadInt32BigEndian(bytes[25..]) is < 0)
        {
            return Rejection.Of(RejectionReason.MalformedRequest, $"page_token '{Echo.Of(token)}' is not a token {method} issued.", "page_token");
        }

        if (BinaryPrimitives.ReadUInt64BigEndian(bytes[1..]) != requestHash)
        {
            return Rejection.Of(RejectionReason.MalformedRequest,
                $"page_token was issued for another request: with a token, every field but page_size must be as in the first page's request to {method}.",
                "page_token");
        }

        return new PageCursorBox(new PageCursor(requestHash, BinaryPrimitives.ReadUInt128BigEndian(bytes[9..]), BinaryPrimitives.ReadInt32BigEndian(bytes[25..])));
    }

    /// <summary>The refusal of a well-formed token whose listing the node no longer holds.</summary>
    public static Rejection Expired(string method) =>
        Rejection.Of(RejectionReason.PageTokenExpired,
            $"page_token names a listing this node no longer holds (it keeps one for 5 minutes after each page, and not across a restart); ask {method} again without a token.",
            "page_token");

    /// <summary>The refusal of a token whose offset lies beyond its listing: never issued so.</summary>
    public static Rejection Beyond(string method) =>
        Rejection.Of(RejectionReason.MalformedRequest, $"page_token is not a token {method} issued: it points past the end of its listing.", "page_token");

    /// <summary>
    /// How many entries from <paramref name="offset"/> go in one page: at most <paramref name="pageSize"/> and
    /// <paramref name="available"/>, and no more than fit <see cref="MaxPageBytes"/> (but always one, when any is left).
    /// </summary>
    /// <param name="sizeOf">The serialized size of the entry at an index.</param>
    public static int Take(int offset, int available, int pageSize, Func<int, int> sizeOf)
    {
        ArgumentNullException.ThrowIfNull(sizeOf);
        var count = 0;
        long bytes = 0;
        while (count < pageSize && offset + count < available)
        {
            // A field tag and a length prefix go with every entry.
            var size = sizeOf(offset + count) + 6;
            if (count > 0 && bytes + size > MaxPageBytes)
            {
                break;
            }

            bytes += size;
            count++;
        }

        return count;
    }
}

/// <summary>A cursor as the value of an <see cref="Outcome{T}"/>, which holds classes.</summary>
internal sealed record PageCursorBox(PageCursor Cursor);
