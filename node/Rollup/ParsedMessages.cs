using System.Collections.Concurrent;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Node.Rollup;

/// <summary>
/// Child summaries and unit reports as parsed, found by the SHA-256 of their bytes. A digest names its bytes for
/// good, so an entry is never out of date, whatever was committed or rolled back since: a rebuild takes what the
/// intake parsed at receipt (or an earlier rebuild parsed) instead of parsing every held summary and report again.
/// Bounded: past <see cref="Capacity"/> entries it starts afresh. Callers must not change what they are given.
/// </summary>
internal sealed class ParsedMessages
{
    /// <summary>Entries kept before the cache starts afresh: a township's 245 villages for five years of months, with room.</summary>
    public const int Capacity = 32_768;

    private readonly ConcurrentDictionary<Digest, IMessage> _parsed = new();

    public Summary Summary(byte[] digest, byte[] bytes) => Get(digest, bytes, Protos.V1.Summary.Parser);

    public UnitReport Report(byte[] digest, byte[] bytes) => Get(digest, bytes, UnitReport.Parser);

    /// <summary>Keeps a message parsed (or built) elsewhere under the digest of its bytes.</summary>
    public void Remember(byte[] digest, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (_parsed.Count >= Capacity)
        {
            _parsed.Clear();
        }

        _parsed[new Digest(digest)] = message;
    }

    private T Get<T>(byte[] digest, byte[] bytes, MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (_parsed.TryGetValue(new Digest(digest), out var known) && known is T message)
        {
            return message;
        }

        var parsed = parser.ParseFrom(bytes);
        Remember(digest, parsed);
        return parsed;
    }

    /// <summary>A SHA-256 as a key: compared by value, hashed by its first bytes (already uniform).</summary>
    private readonly struct Digest(byte[] bytes) : IEquatable<Digest>
    {
        private readonly byte[] _bytes = bytes;

        public bool Equals(Digest other) => _bytes.AsSpan().SequenceEqual(other._bytes);

        public override bool Equals(object? obj) => obj is Digest other && Equals(other);

        public override int GetHashCode() => _bytes.Length >= sizeof(int) ? BitConverter.ToInt32(_bytes, 0) : 0;
    }
}
