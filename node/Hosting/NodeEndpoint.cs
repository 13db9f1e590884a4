using Federation.Node.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>The address this node gives its parent: configured, or the one it listens on once started.</summary>
internal sealed class NodeEndpoint(IOptions<NodeOptions> options)
{
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the address once Kestrel listens.</summary>
    public async Task<string> AddressAsync(CancellationToken cancellationToken)
    {
        var listening = await _listening.Task.WaitAsync(cancellationToken);
        return string.IsNullOrWhiteSpace(options.Value.AdvertisedAddress) ? listening : options.Value.AdvertisedAddress;
    }

    /// <summary>Completes with the address Kestrel listens on, whatever is advertised (the page calls its own node there).</summary>
    public Task<string> ListeningAsync(CancellationToken cancellationToken) => _listening.Task.WaitAsync(cancellationToken);

    public void SetListening(string address) => _listening.TrySetResult(address);
}
