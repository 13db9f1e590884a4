namespace Federation.Node.Configuration;

/// <summary>
/// Transport security (configuration section "Tls"). Every listener uses TLS with the node's
/// certificate; nodes authenticate each other with their certificates (mutual TLS) issued by the
/// deployment's CA. Plaintext is refused unless the listener is on loopback and <see cref="AllowPlaintext"/> is set.
/// </summary>
public sealed class TlsOptions
{
    public const string SectionName = "Tls";

    /// <summary>The node's certificate (PEM), issued by `federation cert issue`; its URI SAN names the node id.</summary>
    public string CertificatePath { get; set; } = string.Empty;

    /// <summary>The node certificate's private key (PEM, PKCS#8).</summary>
    public string KeyPath { get; set; } = string.Empty;

    /// <summary>The deployment CA's certificate (PEM): the only root trusted for peers' certificates.</summary>
    public string CaPath { get; set; } = string.Empty;

    /// <summary>Allows an http:// listener, only on a loopback address (trials and tests on one machine). Default false.</summary>
    public bool AllowPlaintext { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>People's access (configuration section "Access").</summary>
public sealed class AccessOptions
{
    public const string SectionName = "Access";

    /// <summary>
    /// The Unix socket on which the node answers admin calls from its own machine without a token; access
    /// is the socket file's (owner only). Empty means <c>admin.sock</c> in the data folder; "off" disables it.
    /// </summary>
    public string AdminSocketPath { get; set; } = string.Empty;

    /// <summary>Requests each caller (token, node or address) may make per second, sustained. Default 200.</summary>
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Requests a caller may make in a burst above the sustained rate. Default 400.</summary>
    public int Burst { get; set; } = 400;

    /// <summary>Longest validity of a token. Default 400 days.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromDays(400);
}
