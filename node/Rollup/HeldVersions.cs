using Federation.Aggregator.Signing;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>
/// Keeps this node's summary versions above what its parent holds. A node restored from a backup has
/// forgotten versions it already delivered; reusing one would be refused as stale, or recorded as an
/// equivocation. The parent says what it holds (in the answer to an announcement); for each period where
/// that is ahead of this node, or the same version with other bytes, the next summary is numbered above it.
/// </summary>
internal sealed class HeldVersions(
    ParentChannel parent, NodeIdentity identity, NodeEndpoint endpoint, StoreWriter writer, IOptions<Configuration.OutboxOptions> outboxOptions,
    TimeProvider time, ILogger<HeldVersions> logger)
{
    /// <summary>Raises the version floors the parent's answer calls for; returns the periods raised.</summary>
    public Task<IReadOnlyList<string>> ApplyAsync(IEnumerable<HeldVersion> held, CancellationToken cancellationToken)
    {
        var list = held.ToList();
        if (list.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        return writer.ExecuteAsync<IReadOnlyList<string>>(context =>
        {
            var raised = new List<string>();
            foreach (var h in list)
            {
                var own = context.Store.Summaries.ById(h.Period);
                var heldVersion = (long)h.Version;
                var behind = own is null || own.Version < heldVersion || (own.Version == heldVersion && !own.Digest.AsSpan().SequenceEqual(h.Digest.Span));
                if (!behind || context.Store.VersionFloor(h.Period) >= heldVersion)
                {
                    continue;
                }

                context.Store.VersionFloors.Upsert(new VersionFloorDocument { Id = h.Period, Version = heldVersion });
                if (own is not null)
                {
                    // This node's figures are the truth after a restore: signed again above the parent's version, they replace it.
                    // A period it has no summary of keeps the parent's figures until something changes here.
                    context.MarkDirty(h.Period);
                }

                KeyLog.VersionRaised(logger, h.Period, heldVersion, own?.Version ?? 0);
                raised.Add(h.Period);
            }

            return raised;
        }, cancellationToken);
    }

    /// <summary>Asks the parent what it holds (a signed announcement) and raises the floors; true when <paramref name="period"/> was raised.</summary>
    public async Task<bool> RaiseAboveParentAsync(string period, CancellationToken cancellationToken) =>
        (await AnnounceAsync(cancellationToken)).Contains(period);

    /// <summary>Announces this node's address to the parent, signed with its current key, and raises the floors the answer calls for.</summary>
    public async Task<IReadOnlyList<string>> AnnounceAsync(CancellationToken cancellationToken)
    {
        var address = await endpoint.AddressAsync(cancellationToken);
        var announcement = new Announcement { NodeId = identity.NodeId, Address = address, AnnounceTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()) };
        var response = await parent.Client.AnnounceAsync(
            new AnnounceRequest { Announcement = SignedMessages.SignAnnouncement(announcement, identity.Key) },
            deadline: (time.GetUtcNow() + outboxOptions.Value.AttemptTimeout).UtcDateTime,
            cancellationToken: cancellationToken);
        return await ApplyAsync(response.HeldVersions, cancellationToken);
    }
}
