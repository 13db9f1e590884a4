using System.Net;
using Federation.Node.Configuration;

namespace Federation.Node.Security;

/// <summary>Raised at start when the transport settings would expose the node; the message is one line for the operator.</summary>
public sealed class TransportConfigurationException(string message) : Exception(message);

/// <summary>Where and how the node listens, decided from the settings before the host is built.</summary>
internal sealed record ListenerPlan(IPAddress Address, int Port, bool UseTls)
{
    /// <summary>
    /// TLS everywhere; plaintext only on a loopback address and only when Tls:AllowPlaintext says so.
    /// Anything else is refused here, before a socket is opened.
    /// </summary>
    public static ListenerPlan Decide(NodeOptions node, TlsOptions tls)
    {
        if (!Uri.TryCreate(node.Listen, UriKind.Absolute, out var listen) || (listen.Scheme != Uri.UriSchemeHttp && listen.Scheme != Uri.UriSchemeHttps))
        {
            throw new TransportConfigurationException($"Node:Listen '{node.Listen}' must be an https:// address such as https://0.0.0.0:5001.");
        }

        IPAddress address;
        if (listen.Host == "localhost")
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(listen.Host.Trim('[', ']'), out address!))
        {
            throw new TransportConfigurationException($"Node:Listen '{node.Listen}' must name an IP address (0.0.0.0 for all), not a host name.");
        }

        if (listen.Scheme == Uri.UriSchemeHttps)
        {
            if (!tls.IsConfigured || string.IsNullOrWhiteSpace(tls.KeyPath) || string.IsNullOrWhiteSpace(tls.CaPath))
            {
                throw new TransportConfigurationException(
                    $"Node:Listen '{node.Listen}' needs Tls:CertificatePath, Tls:KeyPath and Tls:CaPath (create them with `federation ca init` and `federation cert issue`).");
            }

            foreach (var (setting, path) in new[] { ("Tls:CertificatePath", tls.CertificatePath), ("Tls:KeyPath", tls.KeyPath), ("Tls:CaPath", tls.CaPath) })
            {
                if (!File.Exists(path))
                {
                    throw new TransportConfigurationException($"{setting} '{path}' does not exist.");
                }
            }

            return new ListenerPlan(address, listen.Port, UseTls: true);
        }

        if (!IPAddress.IsLoopback(address))
        {
            throw new TransportConfigurationException(
                $"Node:Listen '{node.Listen}' is plaintext on a non-loopback address: refused. Use https:// with a certificate (see README, Transport).");
        }

        if (!tls.AllowPlaintext)
        {
            throw new TransportConfigurationException(
                $"Node:Listen '{node.Listen}' is plaintext: set Tls:AllowPlaintext=true to allow it on loopback, or use https://.");
        }

        return new ListenerPlan(address, listen.Port, UseTls: false);
    }
}
