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
        var (bytes, signature, keyId) = Sign(summary, key, SignatureDomain.Summary);
        return new SignedSummary { SummaryBytes = bytes, Signature = signature, KeyId = keyId };
    }

    public static SignedReceipt SignReceipt(Receipt receipt, NodeSigningKey key)
    {
        var (bytes, signature, keyId) = Sign(receipt, key, SignatureDomain.Receipt);
        return new SignedReceipt { ReceiptBytes = bytes, Signature = signature, KeyId = keyId };
    }

    public static SignedAnnouncement SignAnnouncement(Announcement announcement, NodeSigningKey key)
    {
        var (bytes, signature, keyId) = Sign(announcement, key, SignatureDomain.Announcement);
        return new SignedAnnouncement { AnnouncementBytes = bytes, Signature = signature, KeyId = keyId };
    }

    /// <summary>Signs a rotation to <paramref name="rotation"/>'s new key with the old key it replaces.</summary>
    public static SignedKeyRotation SignKeyRotation(KeyRotation rotation, NodeSigningKey oldKey)
    {
        var (bytes, signature, keyId) = Sign(rotation, oldKey, SignatureDomain.KeyRotation);
        return new SignedKeyRotation { RotationBytes = bytes, Signature = signature, KeyId = keyId };
    }

    /// <summary>
    /// Verifies a key rotation against the signer's current (old) key, then parses it; valid only when it
    /// names that key as the old one and carries a well-formed, different new key.
    /// </summary>
    public static Verification<KeyRotation> VerifyKeyRotation(SignedKeyRotation signed, ReadOnlySpan<byte> currentPublicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var currentKeyId = KeyIds.FromPublicKey(currentPublicKeyBytes);
        var verification = VerifyThenParse(signed.RotationBytes, signed.Signature, currentPublicKeyBytes, SignatureDomain.KeyRotation, KeyRotation.Parser,
            "rotation.signature does not verify with the enrolled key.", "rotation.rotation_bytes is not a KeyRotation: ");
        if (!verification.IsValid)
        {
            return verification;
        }

        var rotation = verification.Value!;
        if (rotation.OldKeyId != currentKeyId || signed.KeyId != currentKeyId)
        {
            return Verification<KeyRotation>.Invalid(RejectionReason.UnknownSigner, $"the rotation replaces key id '{rotation.OldKeyId}', not the enrolled key '{currentKeyId}'.");
        }

        if (!NodeSigningKey.IsValidPublicKey(rotation.NewPublicKey.Span) || rotation.NewPublicKey.Span.SequenceEqual(currentPublicKeyBytes))
        {
            return Verification<KeyRotation>.Invalid(RejectionReason.MalformedKey, "rotation.new_public_key must be a raw 32-byte Ed25519 public key other than the old one.");
        }

        return verification;
    }

    /// <summary>Verifies a signed summary against a known public key, then parses it.</summary>
    public static Verification<Summary> VerifySummary(SignedSummary signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        if (!KeyIds.Matches(signed.KeyId, publicKeyBytes))
        {
            return Verification<Summary>.Invalid(RejectionReason.UnknownSigner, $"key id '{signed.KeyId}' does not match the expected key.");
        }

        return VerifyThenParse(signed.SummaryBytes, signed.Signature, publicKeyBytes, SignatureDomain.Summary, Summary.Parser,
            "signed_summary.signature does not verify over summary_bytes.", "signed_summary.summary_bytes is not a Summary: ");
    }

    /// <summary>Verifies a parent's signed receipt against its pinned public key, then parses it.</summary>
    public static Verification<Receipt> VerifyReceipt(SignedReceipt signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        return VerifyThenParse(signed.ReceiptBytes, signed.Signature, publicKeyBytes, SignatureDomain.Receipt, Receipt.Parser,
            "receipt.signature does not verify with the pinned parent key.", "receipt.receipt_bytes is not a Receipt: ");
    }

    /// <summary>Verifies a child's signed announcement against its enrolled key, then parses it.</summary>
    public static Verification<Announcement> VerifyAnnouncement(SignedAnnouncement signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        return VerifyThenParse(signed.AnnouncementBytes, signed.Signature, publicKeyBytes, SignatureDomain.Announcement, Announcement.Parser,
            "announcement.signature does not verify with the enrolled key.", "announcement.announcement_bytes is not an Announcement: ");
    }

    /// <summary>Signs a review decision with the deciding node's key.</summary>
    public static SignedDecision SignDecision(Decision decision, NodeSigningKey key)
    {
        var (bytes, signature, keyId) = Sign(decision, key, SignatureDomain.Decision);
        return new SignedDecision { DecisionBytes = bytes, Signature = signature, KeyId = keyId };
    }

    /// <summary>
    /// Verifies a review decision against the deciding node's public key, then parses it; valid only when the
    /// key id is that key's and the decision names a kind and a subject. Anyone holding the key can run this offline.
    /// </summary>
    public static Verification<Decision> VerifyDecision(SignedDecision signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        if (!KeyIds.Matches(signed.KeyId, publicKeyBytes))
        {
            return Verification<Decision>.Invalid(RejectionReason.UnknownSigner, $"key id '{signed.KeyId}' does not match the expected key.");
        }

        var verification = VerifyThenParse(signed.DecisionBytes, signed.Signature, publicKeyBytes, SignatureDomain.Decision, Decision.Parser,
            "decision.signature does not verify over decision_bytes.", "decision.decision_bytes is not a Decision: ");
        if (verification.IsValid && (verification.Value!.Kind == DecisionKind.Unspecified || verification.Value.Subject == DecisionSubject.Unspecified))
        {
            return Verification<Decision>.Invalid(RejectionReason.MissingField, "a decision must name its kind and its subject.");
        }

        return verification;
    }

    /// <summary>Signs a star-rating statement with the rating node's key.</summary>
    public static SignedRatingStatement SignRatingStatement(RatingStatement statement, NodeSigningKey key)
    {
        var (bytes, signature, keyId) = Sign(statement, key, SignatureDomain.RatingStatement);
        return new SignedRatingStatement { StatementBytes = bytes, Signature = signature, KeyId = keyId };
    }

    /// <summary>
    /// Verifies a rating statement against the rating node's public key, then parses it; valid only when the key
    /// id is that key's and the statement names its node and year. Anyone holding the key can run this offline.
    /// </summary>
    public static Verification<RatingStatement> VerifyRatingStatement(SignedRatingStatement signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        if (!KeyIds.Matches(signed.KeyId, publicKeyBytes))
        {
            return Verification<RatingStatement>.Invalid(RejectionReason.UnknownSigner, $"key id '{signed.KeyId}' does not match the expected key.");
        }

        var verification = VerifyThenParse(signed.StatementBytes, signed.Signature, publicKeyBytes, SignatureDomain.RatingStatement, RatingStatement.Parser,
            "statement.signature does not verify over statement_bytes.", "statement.statement_bytes is not a RatingStatement: ");
        if (verification.IsValid && (verification.Value!.NodeId.Length == 0 || verification.Value.Year.Length == 0))
        {
            return Verification<RatingStatement>.Invalid(RejectionReason.MissingField, "a rating statement must name its node and year.");
        }

        return verification;
    }

    /// <summary>Signs a rectification ledger step with the signing node's key.</summary>
    public static SignedLedgerStep SignLedgerStep(LedgerStep step, NodeSigningKey key)
    {
        var (bytes, signature, keyId) = Sign(step, key, SignatureDomain.LedgerStep);
        return new SignedLedgerStep { StepBytes = bytes, Signature = signature, KeyId = keyId };
    }

    /// <summary>
    /// Verifies a rectification ledger step against the signing node's public key, then parses it; valid only when the
    /// key id is that key's and the step names a kind. Anyone holding the key can run this offline.
    /// </summary>
    public static Verification<LedgerStep> VerifyLedgerStep(SignedLedgerStep signed, ReadOnlySpan<byte> publicKeyBytes)
    {
        ArgumentNullException.ThrowIfNull(signed);
        if (!KeyIds.Matches(signed.KeyId, publicKeyBytes))
        {
            return Verification<LedgerStep>.Invalid(RejectionReason.UnknownSigner, $"key id '{signed.KeyId}' does not match the expected key.");
        }

        var verification = VerifyThenParse(signed.StepBytes, signed.Signature, publicKeyBytes, SignatureDomain.LedgerStep, LedgerStep.Parser,
            "step.signature does not verify over step_bytes.", "step.step_bytes is not a LedgerStep: ");
        return verification.IsValid && verification.Value!.Kind == LedgerStepKind.Unspecified
            ? Verification<LedgerStep>.Invalid(RejectionReason.MissingField, "a ledger step must name its kind.")
            : verification;
    }

    private static (ByteString Bytes, ByteString Signature, string KeyId) Sign(IMessage message, NodeSigningKey key, SignatureDomain domain)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(key);

        // The same bytes as ToByteArray; this array is never written again, so the ByteString may wrap it.
        var bytes = new byte[message.CalculateSize()];
        message.WriteTo(bytes.AsSpan());
        Span<byte> signature = stackalloc byte[NodeSigningKey.SignatureByteCount];
        key.Sign(domain, bytes, signature);
        return (UnsafeByteOperations.UnsafeWrap(bytes), ByteString.CopyFrom(signature), key.KeyId);
    }

    /// <summary>The one verification path: the signature over the exact bytes first, parsing only after.</summary>
    private static Verification<T> VerifyThenParse<T>(
        ByteString bytes, ByteString signature, ReadOnlySpan<byte> publicKeyBytes, SignatureDomain domain, MessageParser<T> parser, string badSignature, string malformed)
        where T : class, IMessage<T>
    {
        if (!NodeSigningKey.Verify(publicKeyBytes, domain, bytes.Span, signature.Span))
        {
            return Verification<T>.Invalid(RejectionReason.BadSignature, badSignature);
        }

        try
        {
            return Verification<T>.Valid(parser.ParseFrom(bytes), Digests.Sha256(bytes.Span));
        }
        catch (InvalidProtocolBufferException ex)
        {
            return Verification<T>.Invalid(RejectionReason.MalformedSummary, malformed + ex.Message);
        }
    }
}
