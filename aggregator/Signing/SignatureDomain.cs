using System.Buffers;
using System.Text;

namespace Federation.Aggregator.Signing;

/// <summary>
/// Domain separation: every signature covers an ASCII label, one zero byte, then the payload, so a
/// signature made for one kind of message can never be replayed as another.
/// </summary>
public sealed class SignatureDomain
{
    private readonly byte[] _prefix;

    private SignatureDomain(string label)
    {
        Label = label;
        _prefix = [.. Encoding.ASCII.GetBytes(label), 0];
    }

    /// <summary>Signed summaries: "federation.v1.Summary\0".</summary>
    public static SignatureDomain Summary { get; } = new("federation.v1.Summary");

    /// <summary>Push receipts: "federation.v1.Receipt\0".</summary>
    public static SignatureDomain Receipt { get; } = new("federation.v1.Receipt");

    /// <summary>Address announcements: "federation.v1.Announcement\0".</summary>
    public static SignatureDomain Announcement { get; } = new("federation.v1.Announcement");

    /// <summary>Key rotations, signed with the old key: "federation.v1.KeyRotation\0".</summary>
    public static SignatureDomain KeyRotation { get; } = new("federation.v1.KeyRotation");

    /// <summary>Review decisions (approve, return, reopen, withdraw): "federation.v1.Decision\0".</summary>
    public static SignatureDomain Decision { get; } = new("federation.v1.Decision");

    /// <summary>Star-rating statements: "federation.v1.RatingStatement\0".</summary>
    public static SignatureDomain RatingStatement { get; } = new("federation.v1.RatingStatement");

    /// <summary>Rectification ledger steps (list, fix reported, accepted, sent back): "federation.v1.LedgerStep\0".</summary>
    public static SignatureDomain LedgerStep { get; } = new("federation.v1.LedgerStep");

    public string Label { get; }

    /// <summary>The exact bytes signed: the prefix followed by the payload.</summary>
    public byte[] Prefix(ReadOnlySpan<byte> payload) => [.. _prefix, .. payload];

    /// <summary>The same bytes as <see cref="Prefix"/>, in a pooled buffer that the caller disposes: signing and verifying allocate nothing.</summary>
    internal PrefixedMessage Prefixed(ReadOnlySpan<byte> payload)
    {
        var length = _prefix.Length + payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        _prefix.CopyTo(buffer, 0);
        payload.CopyTo(buffer.AsSpan(_prefix.Length));
        return new PrefixedMessage(buffer, length);
    }
}

/// <summary>A domain prefix and payload in a buffer rented from the shared pool; <see cref="Dispose"/> returns it.</summary>
internal readonly struct PrefixedMessage(byte[] buffer, int length) : IDisposable
{
    public ReadOnlySpan<byte> Span => buffer.AsSpan(0, length);

    public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
}
