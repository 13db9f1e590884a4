using System.Net.Sockets;
using Federation.Node.Hosting;
using Federation.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Federation.Tests.Integration;

/// <summary>The server's connection limits are set on purpose: idle and stalled connections are closed.</summary>
public sealed class KestrelLimitsTests : IAsyncLifetime
{
    /// <summary>The HTTP/2 client connection preface (RFC 9113 §3.4) followed by an empty SETTINGS frame.</summary>
    private static readonly byte[] s_prefaceAndSettings =
    [
        .. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8,
        0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    private readonly TempFolder _folder = new();
    private WebApplication? _app;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _folder.Dispose();
    }

    [Fact]
    public async Task Connection_OpenedAndSilent_IsClosedByTheServer()
    {
        var (host, port) = await StartAsync(new() { ["Limits:KeepAliveTimeout"] = "00:00:01", ["Limits:RequestHeadersTimeout"] = "00:00:01" });
        using var client = new TcpClient();
        await client.ConnectAsync(host, port);

        await WaitUntilClosedAsync(client.GetStream());
    }

    [Fact]
    public async Task Connection_Http2PrefaceThenNothing_IsClosedByTheServer()
    {
        var (host, port) = await StartAsync(new() { ["Limits:KeepAliveTimeout"] = "00:00:01", ["Limits:RequestHeadersTimeout"] = "00:00:01" });
        using var client = new TcpClient();
        await client.ConnectAsync(host, port);
        var stream = client.GetStream();
        await stream.WriteAsync(s_prefaceAndSettings);

        await WaitUntilClosedAsync(stream);
    }

    [Fact]
    public async Task Connection_OverTheConnectionLimit_IsClosedByTheServer()
    {
        var (host, port) = await StartAsync(new() { ["Limits:MaxConcurrentConnections"] = "2" });
        using var first = new TcpClient();
        using var second = new TcpClient();
        using var third = new TcpClient();
        await first.ConnectAsync(host, port);
        await first.GetStream().WriteAsync(s_prefaceAndSettings);
        await second.ConnectAsync(host, port);
        await second.GetStream().WriteAsync(s_prefaceAndSettings);
        // The server answers a preface with its SETTINGS: both connections are accepted and open.
        Assert.True(await first.GetStream().ReadAsync(new byte[64]) > 0);
        Assert.True(await second.GetStream().ReadAsync(new byte[64]) > 0);

        await third.ConnectAsync(host, port);

        await WaitUntilClosedAsync(third.GetStream());
    }

    [Fact]
    public async Task Start_BadLimit_FailsNamingIt()
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(new() { ["Limits:MaxStreamsPerConnection"] = "0" }));

        Assert.Contains("Limits:MaxStreamsPerConnection", ex.Message, StringComparison.Ordinal);
    }

    private async Task<(string Host, int Port)> StartAsync(Dictionary<string, string?> limits)
    {
        var settings = new Dictionary<string, string?>(limits)
        {
            ["Node:Id"] = "3701",
            ["Node:Tier"] = "city",
            ["Node:DataPath"] = _folder.Sub("3701"),
            ["Node:Listen"] = "http://127.0.0.1:0",
            // Raw TCP probes need no TLS to be held open: plaintext on loopback, as the tests may use it.
            ["Tls:AllowPlaintext"] = "true",
        };
        _app = NodeHost.Build(null, settings, static builder => builder.Logging.ClearProviders());
        await _app.StartAsync();
        var address = new Uri(NodeHost.ListeningAddress(_app));
        return (address.Host, address.Port);
    }

    /// <summary>Reads (and discards whatever the server sends, such as SETTINGS or GOAWAY) until the server closes.</summary>
    private static async Task WaitUntilClosedAsync(NetworkStream stream)
    {
        using var guard = new CancellationTokenSource(Eventually.HangGuard);
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, guard.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A reset is a close too.
        }
    }
}
