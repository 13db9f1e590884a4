using System.Net;
using System.Net.Sockets;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Integration;

/// <summary>The address tests give a parent that starts later: it closes connections until told where the parent listens.</summary>
public sealed class TcpForwarderTests
{
    [Fact]
    public async Task Connect_BeforeForwardTo_IsClosed_AndAfterwardsReachesTheServerStartedLater()
    {
        await using var forwarder = new TcpForwarder();
        using (var early = new TcpClient())
        {
            await early.ConnectAsync(IPAddress.Loopback, forwarder.Port);
            Assert.Equal(0, await ReadOrClosedAsync(early));
        }

        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        forwarder.ForwardTo($"http://127.0.0.1:{((IPEndPoint)server.LocalEndpoint).Port}");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, forwarder.Port);
        using var accepted = await server.AcceptTcpClientAsync();
        await client.GetStream().WriteAsync("ping"u8.ToArray());
        var received = new byte[4];
        await accepted.GetStream().ReadExactlyAsync(received);
        await accepted.GetStream().WriteAsync("pong"u8.ToArray());
        var answered = new byte[4];
        await client.GetStream().ReadExactlyAsync(answered);

        Assert.Equal("ping"u8.ToArray(), received);
        Assert.Equal("pong"u8.ToArray(), answered);
    }

    /// <summary>Bytes read before the peer closed: 0 when it closed (cleanly or with a reset) without sending any.</summary>
    private static async Task<int> ReadOrClosedAsync(TcpClient client)
    {
        try
        {
            return await client.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(Eventually.HangGuard);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
