using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Aggregator.Signing;

/// <summary>The outcome of checking a signed message: the parsed message, or why it was refused.</summary>
public sealed class Verification<T>
    where T : class
{
    private Verification(T? value, byte[] digest, RejectionReason reason, string message)
    {
        Value = value;
        Digest = digest;
        Reason = reason;
        Message = message;
    }

    public bool IsValid => Reason == RejectionReason.None;

    public T? Value { get; }

    /// <summary>SHA-256 of the signed bytes (empty when invalid).</summary>
    public byte[] Digest { get; }

    public RejectionReason Reason { get; }

    public string Message { get; }

    internal static Verification<T> Valid(T value, byte[] digest) => new(value, digest, RejectionReason.None, string.Empty);

    internal static Verification<T> Invalid(RejectionReason reason, string message) => new(null, [], reason, message);
}

/// <summary>Signs the bytes that travel and verifies them before parsing; never re-serializes to verify.</summary>
public static class SignedMessages
{
    public static SignedSummary SignSummary(Summary summary, NodeSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(key);
        var bytes = summary.ToByteArray();
        return new SignedSummary
        {
            SummaryBytes = ByteString.CopyFrom(bytes),
            Signature = ByteString.CopyFrom(key.Sign(SignatureDomain.Summary, bytes)),
            KeyId = key.KeyId,
        };
    }

    public static SignedReceipt SignReceipt(Receipt receipt, NodeSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        ArgumentNullException.ThrowIfNull(key);
        var bytes = receipt.ToByteArray();
        return new SignedReceipt
        {
            ReceiptBytes = ByteString.CopyFrom(bytes),
            Signature = ByteString.CopyFrom(key.Sign(SignatureDomain.Receipt, bytes)),
            KeyId = key.KeyId,
        };
    }

    public static SignedAnnouncement SignAnnouncement(Announcement announcement, NodeSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(announcement);
        ArgumentNullException.ThrowIfNull(key);
        var bytes = announcement.ToByteArray();
        return new SignedAnnouncement
        {
            AnnouncementBytes = ByteString.CopyFrom(bytes),
            Signature = ByteString.CopyFrom(key.Sign(SignatureDomain.Announcement, bytes)),
            KeyId = key.KeyId,
        };
    }

    /// <summary>Verifies a child's signed announcement against its enrolled key, then parses it.</summary>
    public static Verification<Announcement> VerifyAnnouncement(SignedAnnouncement signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var bytes = signed.AnnouncementBytes.Span;
        if (!NodeSigningKey.Verify(publicKeyBytes, SignatureDomain.Announcement, bytes, signed.Signature.Span))
        {
            return Verification<Announcement>.Invalid(RejectionReason.BadSignature, "announcement.signature does not verify with the enrolled key.");
        }

        try
        {
            return Verification<Announcement>.Valid(Announcement.Parser.ParseFrom(bytes), Digests.Sha256(bytes));
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Verification<Announcement>.Invalid(RejectionReason.MalformedSummary, "announcement.announcement_bytes is not an Announcement: " + ex.Message);
        }
    }

    /// <summary>Verifies a signed summary against a known public key, then parses it.</summary>
    public static Verification<Summary> VerifySummary(SignedSummary signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        if (signed.KeyId != KeyIds.FromPublicKey(publicKeyBytes))
        {
            return Verification<Summary>.Invalid(RejectionReason.UnknownSigner, $"key id '{signed.KeyId}' does not match the expected key.");
        }

        var bytes = signed.SummaryBytes.Span;
        if (!NodeSigningKey.Verify(publicKeyBytes, SignatureDomain.Summary, bytes, signed.Signature.Span))
        {
            return Verification<Summary>.Invalid(RejectionReason.BadSignature, "signed_summary.signature does not verify over summary_bytes.");
        }

        Summary summary;
        try
        {
            summary = Summary.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Verification<Summary>.Invalid(RejectionReason.MalformedSummary, "signed_summary.summary_bytes is not a Summary: " + ex.Message);
        }

        return Verification<Summary>.Valid(summary, Digests.Sha256(bytes));
    }

    /// <summary>Verifies a parent's signed receipt against its pinned public key, then parses it.</summary>
    public static Verification<Receipt> VerifyReceipt(SignedReceipt signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var bytes = signed.ReceiptBytes.Span;
        if (!NodeSigningKey.Verify(publicKeyBytes, SignatureDomain.Receipt, bytes, signed.Signature.Span))
        {
            return Verification<Receipt>.Invalid(RejectionReason.BadSignature, "receipt.signature does not verify with the pinned parent key.");
        }

        try
        {
            return Verification<Receipt>.Valid(Receipt.Parser.ParseFrom(bytes), Digests.Sha256(bytes));
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Verification<Receipt>.Invalid(RejectionReason.MalformedSummary, "receipt.receipt_bytes is not a Receipt: " + ex.Message);
        }
    }
}
