using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Federation.Tests.Infrastructure;

/// <summary>
/// An address that exists before the server behind it. It binds 127.0.0.1 port 0 itself and holds the
/// port for its whole life, closing every connection until <see cref="ForwardTo"/> names a server
/// (itself started on port 0), then relaying bytes both ways. Reserving a free port and binding it
/// later races every other process on the machine; holding the port cannot collide.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, bool> _open = new();
    private readonly Task _accepting;
    private volatile IPEndPoint? _target;

    public TcpForwarder()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>The address to give a node as its parent's; TLS passes through the relay untouched.</summary>
    public string Address => $"https://127.0.0.1:{Port}";

    /// <summary>From now on, relays new connections to the server listening on <paramref name="address"/> (https://host:port).</summary>
    public void ForwardTo(string address)
    {
        var uri = new Uri(address);
        _target = new IPEndPoint(IPAddress.TryParse(uri.Host, out var ip) ? ip : IPAddress.Loopback, uri.Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        foreach (var client in _open.Keys)
        {
            client.Dispose();
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            if (_target is not { } target)
            {
                // Nobody behind the address yet: the caller sees its connection closed, as with a server that is down.
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client, target);
        }
    }

    private async Task RelayAsync(TcpClient client, IPEndPoint target)
    {
        using var upstream = new TcpClient();
        _open[client] = true;
        _open[upstream] = true;
        try
        {
            await upstream.ConnectAsync(target, _stop.Token);
            var down = client.GetStream();
            var up = upstream.GetStream();
            await Task.WhenAny(down.CopyToAsync(up, _stop.Token), up.CopyToAsync(down, _stop.Token));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side went away; closing both below tells the other.
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(upstream, out _);
            client.Dispose();
        }
    }
}
