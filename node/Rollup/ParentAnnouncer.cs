using Federation.Aggregator.Signing;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>
/// Tells the parent, signed, where this node answers pulls and queries, once it listens; retries with
/// a doubling delay until the parent takes it, so that a parent started (or enrolling this node) later
/// still learns the address.
/// </summary>
internal sealed class ParentAnnouncer(
    ParentChannel parent, NodeIdentity identity, NodeEndpoint endpoint, IOptions<NodeOptions> nodeOptions, IOptions<OutboxOptions> outboxOptions,
    HeldVersions heldVersions, TimeProvider time, ILogger<ParentAnnouncer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!nodeOptions.Value.Parent.IsConfigured)
        {
            return;
        }

        var options = outboxOptions.Value;
        var delay = options.RedeliveryBaseDelay;
        try
        {
            var address = await endpoint.AddressAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                var announcement = new Announcement { NodeId = identity.NodeId, Address = address, AnnounceTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()) };
                try
                {
                    var response = await parent.Client.AnnounceAsync(
                        new AnnounceRequest { Announcement = SignedMessages.SignAnnouncement(announcement, identity.Key) },
                        deadline: (time.GetUtcNow() + options.AttemptTimeout).UtcDateTime,
                        cancellationToken: stoppingToken);
                    AnnounceLog.Announced(logger, address);
                    await heldVersions.ApplyAsync(response.HeldVersions, stoppingToken);
                    return;
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.PermissionDenied or StatusCode.InvalidArgument)
                {
                    AnnounceLog.Refused(logger, ex.Status.Detail);
                    return;
                }
                catch (RpcException ex)
                {
                    AnnounceLog.Failed(logger, delay, ex.StatusCode);
                }

                await Task.Delay(delay, time, stoppingToken);
                delay = delay * 2 < options.RedeliveryMaxDelay ? delay * 2 : options.RedeliveryMaxDelay;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}

/// <summary>Source-generated log messages of the announcer.</summary>
internal static partial class AnnounceLog
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Announced {Address} to the parent")]
    public static partial void Announced(ILogger logger, string address);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "The parent is not reachable yet ({StatusCode}); announcing again in {Delay}")]
    public static partial void Failed(ILogger logger, TimeSpan delay, StatusCode statusCode);

    [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "The parent refused this node's announcement: {Reason}")]
    public static partial void Refused(ILogger logger, string reason);
}
