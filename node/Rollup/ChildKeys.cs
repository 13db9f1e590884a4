using Federation.Aggregator;
using Federation.Aggregator.Signing;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Node.Rollup;

/// <summary>
/// What a parent records about its children's keys and versions: key rotations signed by the child's
/// current key, and the summary versions it holds for a child (so that a child restored from a backup
/// numbers its next summary above them).
/// </summary>
internal sealed class ChildKeys(NodeStore store, StoreWriter writer, NodeIdentity identity, ILogger<ChildKeys> logger)
{
    /// <summary>
    /// Moves a child's enrolment to its new key. Accepted only when signed by the child's current key;
    /// the old key is kept as retired (what it signed still verifies; nothing new signed with it is
    /// accepted, since pushes are looked up by current key). A repeat of an applied rotation succeeds again.
    /// </summary>
    /// <param name="signed">The rotation statement, signed with the child's current key.</param>
    /// <param name="cancellationToken">Stops the wait, not a write already queued.</param>
    /// <param name="expectedChildId">The node the caller's certificate names: a child rotates only its own key.</param>
    public async Task<Outcome<string>> RotateAsync(SignedKeyRotation? signed, CancellationToken cancellationToken, string? expectedChildId = null)
    {
        if (signed is null || signed.RotationBytes.IsEmpty)
        {
            return Rejection.Of(RejectionReason.MissingField, "rotation is required.", "rotation");
        }

        var child = store.Read(s => s.Children.FindOne(c => c.KeyId == signed.KeyId));
        if (child is null)
        {
            return Repeated(signed) is { } current
                ? current
                : Rejection.Of(RejectionReason.UnknownSigner,
                    $"rotation.key_id '{signed.KeyId}' is not the current key of any child enrolled at node {identity.NodeId}.", "rotation.key_id");
        }

        if (expectedChildId is not null && child.Id != expectedChildId)
        {
            return Rejection.Of(RejectionReason.SenderMismatch, $"node {expectedChildId} sent a rotation signed with the key of '{child.Id}'.", "rotation.key_id");
        }

        var verification = SignedMessages.VerifyKeyRotation(signed, child.PublicKey);
        if (!verification.IsValid)
        {
            return Rejection.Of(verification.Reason, verification.Message, "rotation");
        }

        var rotation = verification.Value!;
        if (rotation.NodeId != child.Id)
        {
            return Rejection.Of(RejectionReason.SenderMismatch, $"rotation.node_id '{rotation.NodeId}' was signed with the key enrolled for '{child.Id}'.", "rotation.node_id");
        }

        var newKey = rotation.NewPublicKey.ToByteArray();
        var newKeyId = KeyIds.FromPublicKey(newKey);
        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            var current = context.Store.Children.ById(child.Id);
            if (current is null || current.KeyId != signed.KeyId)
            {
                return Rejection.Of(RejectionReason.UnknownSigner, $"the key of child '{child.Id}' changed meanwhile.", "rotation.key_id");
            }

            if (context.Store.Children.FindOne(c => c.KeyId == newKeyId) is { } other)
            {
                return Rejection.Of(RejectionReason.MalformedKey, $"rotation.new_public_key is already enrolled for child '{other.Id}'.", "rotation.new_public_key");
            }

            current.RetiredKeys.Add(new RetiredKeyDocument { KeyId = current.KeyId, PublicKey = current.PublicKey, RetiredTicks = context.UtcNow().UtcTicks });
            current.PublicKey = newKey;
            current.KeyId = newKeyId;
            context.Store.Children.Update(current);
            KeyLog.Rotated(logger, child.Id, signed.KeyId, newKeyId);
            return newKeyId;
        }, cancellationToken);
    }

    /// <summary>The newest summary version held for the child whose current key has this id, per period.</summary>
    public IReadOnlyList<HeldVersion> HeldVersions(string keyId) => store.Read(s =>
    {
        var child = s.Children.FindOne(c => c.KeyId == keyId);
        return child is null
            ? (IReadOnlyList<HeldVersion>)[]
            : [.. s.ChildSummaries.Find(c => c.ChildId == child.Id)
                .OrderBy(static c => c.Period, StringComparer.Ordinal)
                .Select(static c => new HeldVersion { Period = c.Period, Version = (ulong)c.Version, Digest = ByteString.CopyFrom(c.Digest) })];
    });

    /// <summary>The current key id when this rotation was already applied (a child repeating it after a lost answer).</summary>
    private string? Repeated(SignedKeyRotation signed)
    {
        var child = store.Read(s => s.Children.FindAll().FirstOrDefault(c => c.RetiredKeys.Any(k => k.KeyId == signed.KeyId)));
        var retired = child?.RetiredKeys.First(k => k.KeyId == signed.KeyId);
        if (child is null || retired is null)
        {
            return null;
        }

        var verification = SignedMessages.VerifyKeyRotation(signed, retired.PublicKey);
        return verification.IsValid && verification.Value!.NodeId == child.Id && verification.Value.NewPublicKey.Span.SequenceEqual(child.PublicKey)
            ? child.KeyId
            : null;
    }
}

/// <summary>Source-generated log messages about keys.</summary>
internal static partial class KeyLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Child {ChildId} rotated its key from {OldKeyId} to {NewKeyId}; the old key is kept for what it signed")]
    public static partial void Rotated(ILogger logger, string childId, string oldKeyId, string newKeyId);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "The parent now holds key {KeyId} for this node")]
    public static partial void RotationDelivered(ILogger logger, string keyId);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "The parent refused this node's key rotation: {Reason}")]
    public static partial void RotationRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 603, Level = LogLevel.Information, Message = "The parent is not reachable for the key rotation yet ({StatusCode}); trying again in {Delay}")]
    public static partial void RotationPostponed(ILogger logger, TimeSpan delay, global::Grpc.Core.StatusCode statusCode);

    [LoggerMessage(EventId = 605, Level = LogLevel.Information, Message = "Announcing after the key rotation failed ({StatusCode}); the announcer keeps retrying")]
    public static partial void AnnounceAfterRotationFailed(ILogger logger, global::Grpc.Core.StatusCode statusCode);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "The parent holds version {HeldVersion} of {Period}, this node only {OwnVersion}; the next summary is numbered above it")]
    public static partial void VersionRaised(ILogger logger, string period, long heldVersion, long ownVersion);
}
