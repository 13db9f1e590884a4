using System.Collections.Concurrent;
using System.Buffers.Binary;
using Federation.Protos.V1;

namespace Federation.Aggregator.Summaries;

/// <summary>
/// Child summaries parsed once, when they are verified, and found again by the SHA-256 of their bytes at each
/// rebuild, instead of parsed again from the stored bytes every time. The digest names the bytes (the one
/// <see cref="Signing.Verification{T}.Digest"/> gives, stored beside them), so an entry is the parse of exactly
/// those bytes. Thread-safe and bounded: an entry past <see cref="Capacity"/> empties it first, and what is
/// missed later is parsed again. The summaries it hands out are shared: callers must not change them
/// (<see cref="SummaryBuilder"/> does not).
/// </summary>
public sealed class ParsedSummaryCache
{
    private readonly ConcurrentDictionary<DigestKey, Summary> _byDigest = new();

    /// <param name="capacity">Most summaries kept: at least the children times the periods rebuilt together.</param>
    public ParsedSummaryCache(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _byDigest.Count;

    /// <summary>Keeps a verified summary under the SHA-256 of the bytes it was parsed from.</summary>
    public void Add(ReadOnlySpan<byte> digest, Summary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var key = DigestKey.Of(digest);
        if (_byDigest.Count >= Capacity && !_byDigest.ContainsKey(key))
        {
            _byDigest.Clear();
        }

        _byDigest[key] = summary;
    }

    /// <summary>The summary parsed from <paramref name="summaryBytes"/>, whose SHA-256 is <paramref name="digest"/>: kept, or parsed now and kept.</summary>
    public Summary GetOrParse(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> summaryBytes)
    {
        if (_byDigest.TryGetValue(DigestKey.Of(digest), out var summary))
        {
            return summary;
        }

        summary = Summary.Parser.ParseFrom(summaryBytes);
        Add(digest, summary);
        return summary;
    }

    /// <summary>Forgets every summary.</summary>
    public void Clear() => _byDigest.Clear();

    /// <summary>A SHA-256 digest as four words: a key compared and hashed without an array.</summary>
    private readonly record struct DigestKey(ulong A, ulong B, ulong C, ulong D)
    {
        public static DigestKey Of(ReadOnlySpan<byte> digest)
        {
            if (digest.Length != 32)
            {
                throw ThrowHelper.Argument(nameof(digest), "A SHA-256 digest is 32 bytes.");
            }

            return new DigestKey(
                BinaryPrimitives.ReadUInt64LittleEndian(digest), BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(digest[16..]), BinaryPrimitives.ReadUInt64LittleEndian(digest[24..]));
        }
    }
}
