using Microsoft.Extensions.Options;

namespace Federation.Node.Configuration;

/// <summary>
/// Connection and header limits of the node's HTTP/2 server (configuration section "Limits"), set on
/// purpose rather than left to Kestrel's defaults, so that idle, stalled or oversized connections cannot
/// pile up. Every node is a server to its children and its clients; none of these limits touch a
/// well-behaved peer.
/// </summary>
public sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Most TCP connections open at once; further ones are refused until one closes. Default 1,000.</summary>
    public long MaxConcurrentConnections { get; set; } = 1_000;

    /// <summary>Most concurrent HTTP/2 streams (calls) on one connection. Default 100.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>
    /// How long a connection with no call in progress stays open, including one that opened and never
    /// sent anything. Default 2 minutes (clients reconnect transparently).
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a client may take to send a call's headers. Default 10 s.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After this long without a frame from the client, the node sends an HTTP/2 PING, so that a peer that
    /// vanished without closing its connection is noticed. Default 30 s.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection whose PING is not answered within this time is closed. Default 20 s.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Slowest request body accepted, in bytes per second, after <see cref="MinRequestBodyGracePeriod"/>:
    /// a client trickling a body is cut off instead of holding a call open. Default 240 (Kestrel's).
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Time allowed before <see cref="MinRequestBodyBytesPerSecond"/> is enforced. Default 5 s.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest header block of one call, in bytes, and largest single header field. gRPC requests carry a few
    /// short headers; tokens fit easily. Default 16 KiB.
    /// </summary>
    public int MaxRequestHeaderBytes { get; set; } = 16 * 1024;
}

/// <summary>Checks the limits when the server starts, naming every bad one.</summary>
internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var failures = new List<string>();
        if (options.MaxConcurrentConnections < 1)
        {
            failures.Add("Limits:MaxConcurrentConnections must be at least 1.");
        }

        if (options.MaxStreamsPerConnection < 1)
        {
            failures.Add("Limits:MaxStreamsPerConnection must be at least 1.");
        }

        // Kestrel checks its timers once a second, so shorter timeouts would not be honoured.
        foreach (var (setting, value) in new[]
        {
            ("KeepAliveTimeout", options.KeepAliveTimeout),
            ("RequestHeadersTimeout", options.RequestHeadersTimeout),
            ("KeepAlivePingDelay", options.KeepAlivePingDelay),
            ("KeepAlivePingTimeout", options.KeepAlivePingTimeout),
        })
        {
            if (value < TimeSpan.FromSeconds(1))
            {
                failures.Add($"Limits:{setting} must be at least 1 second, not {value}.");
            }
        }

        if (options.MinRequestBodyBytesPerSecond <= 0 || options.MinRequestBodyGracePeriod < TimeSpan.FromSeconds(1))
        {
            failures.Add("Limits:MinRequestBodyBytesPerSecond must be positive and MinRequestBodyGracePeriod at least 1 second.");
        }

        if (options.MaxRequestHeaderBytes is < 4096 or > 1024 * 1024)
        {
            failures.Add("Limits:MaxRequestHeaderBytes must be between 4096 and 1048576.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
