using Federation.Protos.V1;
using Federation.Node.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>The channel to the parent, checked against the parent's node id, from the one channel factory.</summary>
internal sealed class ParentChannel(ChildChannels channels, IOptions<NodeOptions> options)
{
    public FederationService.FederationServiceClient Client =>
        new(channels.For(options.Value.Parent.Address, NullIfEmpty(options.Value.Parent.Id)));

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
