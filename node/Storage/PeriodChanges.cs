using System.Threading.Channels;

namespace Federation.Node.Storage;

/// <summary>
/// The periods that committed writes marked dirty, in commit order, for whoever rebuilds summaries. The
/// writer publishes here and knows nothing of rebuilds, so storage depends on nothing above it. The
/// marks are also persisted with each change, so a reader that starts late loses nothing.
/// </summary>
internal sealed class PeriodChanges
{
    private readonly Channel<string> _changed = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public ChannelReader<string> Reader => _changed.Reader;

    /// <summary>Called by the writer once the change that marked the periods is durable.</summary>
    public void Publish(IEnumerable<string> periods)
    {
        ArgumentNullException.ThrowIfNull(periods);
        foreach (var period in periods)
        {
            _changed.Writer.TryWrite(period);
        }
    }
}
