using Federation.Node.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>Applies the "Limits" section to Kestrel: one place where every server limit is set.</summary>
internal static class KestrelLimits
{
    /// <summary>
    /// Binds and validates the "Limits" section and applies it. Runs when the server is configured at start;
    /// a bad setting stops the start with every failure named.
    /// </summary>
    public static LimitsOptions Apply(KestrelServerOptions kestrel, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(LimitsOptions.SectionName).Get<LimitsOptions>() ?? new LimitsOptions();
        var validation = new LimitsOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(LimitsOptions), validation.Failures);
        }

        var limits = kestrel.Limits;
        limits.MaxConcurrentConnections = options.MaxConcurrentConnections;
        limits.KeepAliveTimeout = options.KeepAliveTimeout;
        limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(options.MinRequestBodyBytesPerSecond, options.MinRequestBodyGracePeriod);
        limits.MaxRequestHeadersTotalSize = options.MaxRequestHeaderBytes;
        limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
        limits.Http2.MaxRequestHeaderFieldSize = options.MaxRequestHeaderBytes;
        limits.Http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
        limits.Http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
        return options;
    }
}
