namespace Federation.Node.Configuration;

/// <summary>
/// The operations listener (configuration section "Operations"): Prometheus metrics at <c>/metrics</c> and
/// the node's health at <c>/healthz</c>, in plain HTTP/1.1 because that is what scrapers and HTTP probes
/// speak. It serves nothing else, whatever the request: no figure, id or token ever crosses it.
/// </summary>
public sealed class OperationsOptions
{
    public const string SectionName = "Operations";

    /// <summary>
    /// Where the listener binds, e.g. http://127.0.0.1:9464 (an IP address and a port; 0 picks a free one).
    /// Empty, the default, opens no such port and collects no metrics: an unauthenticated port is opened
    /// only where an operator names it. In a pod it is http://0.0.0.0:9464, for the kubelet and the scraper.
    /// </summary>
    public string Listen { get; set; } = string.Empty;
}
