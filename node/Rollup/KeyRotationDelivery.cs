using Federation.Aggregator.Signing;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>
/// Delivers a pending key rotation (made by `federation key rotate` while the node was stopped) to the
/// parent: the statement is signed with the old key, which the parent still enrols. Retries with a
/// doubling delay until the parent answers; meanwhile pushes signed with the new key wait in the outbox.
/// </summary>
internal sealed class KeyRotationDelivery(
    ParentChannel parent, NodeIdentity identity, OutboxSignal outboxSignal, HeldVersions heldVersions, IOptions<NodeOptions> nodeOptions,
    IOptions<OutboxOptions> outboxOptions, TimeProvider time, ILogger<KeyRotationDelivery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var dataPath = nodeOptions.Value.DataPath;
        if (NodeKeyFile.PendingRotation(dataPath) is not { } oldKeyId)
        {
            return;
        }

        // The mark names the current key when the rotation stopped before node.key was replaced; nothing changed.
        if (oldKeyId == identity.Key.KeyId || !nodeOptions.Value.Parent.IsConfigured)
        {
            NodeKeyFile.CompleteRotation(dataPath, oldKeyId);
            return;
        }

        SignedKeyRotation signed;
        using (var oldKey = NodeKeyFile.LoadRetired(dataPath, oldKeyId))
        {
            signed = SignedMessages.SignKeyRotation(new KeyRotation
            {
                NodeId = identity.NodeId,
                OldKeyId = oldKeyId,
                NewPublicKey = ByteString.CopyFrom(identity.Key.PublicKeyBytes),
                RotateTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            }, oldKey);
        }

        var options = outboxOptions.Value;
        var delay = options.RedeliveryBaseDelay;
        try
        {
            while (true)
            {
                try
                {
                    var response = await parent.Client.RotateKeyAsync(
                        new RotateKeyRequest { Rotation = signed }, deadline: (time.GetUtcNow() + options.AttemptTimeout).UtcDateTime, cancellationToken: stoppingToken);
                    NodeKeyFile.CompleteRotation(dataPath, oldKeyId);
                    KeyLog.RotationDelivered(logger, response.KeyId);
                    outboxSignal.Notify();
                    await AnnounceAgainAsync(stoppingToken);
                    return;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.FailedPrecondition)
                {
                    KeyLog.RotationRefused(logger, ex.Status.Detail);
                    return;
                }
                catch (RpcException ex)
                {
                    // Unavailable, or Unauthenticated from a parent that has not enrolled this node yet: both can change.
                    KeyLog.RotationPostponed(logger, delay, ex.StatusCode);
                }

                await Task.Delay(delay, time, stoppingToken);
                delay = delay * 2 < options.RedeliveryMaxDelay ? delay * 2 : options.RedeliveryMaxDelay;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; the mark stays and the rotation is delivered at the next start.
        }
    }

    /// <summary>
    /// The announcement made at start was signed with the new key before the parent knew it, and waits to be
    /// retried; announcing now tells the parent this node's address without that wait.
    /// </summary>
    private async Task AnnounceAgainAsync(CancellationToken stoppingToken)
    {
        try
        {
            await heldVersions.AnnounceAsync(stoppingToken);
        }
        catch (RpcException ex)
        {
            // The announcer keeps retrying on its own.
            KeyLog.AnnounceAfterRotationFailed(logger, ex.StatusCode);
        }
    }
}
