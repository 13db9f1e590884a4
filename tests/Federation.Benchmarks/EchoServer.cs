using System.Security.Cryptography.X509Certificates;
using Federation.Benchmarks.Echo;
using Federation.Node.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Federation.Benchmarks;

/// <summary>
/// The bare gRPC baseline: Kestrel on 127.0.0.1 over TLS with a node certificate, HTTP/2, one unary
/// method that answers with what it was sent. Nothing else runs behind it.
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private EchoServer(WebApplication app, X509Certificate2 certificate, string address)
    {
        _app = app;
        _certificate = certificate;
        Address = address;
    }

    public string Address { get; }

    public static async Task<EchoServer> StartAsync(string certificatePath, string keyPath)
    {
        var certificate = Pki.LoadWithKey(certificatePath, keyPath);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(certificate);
        }));
        var app = builder.Build();
        app.MapGrpcService<EchoEndpoint>();
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new BenchmarkException("the echo server has no addresses.");
        var address = addresses.Addresses.Single();
        return new EchoServer(app, certificate, address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }

    private sealed class EchoEndpoint : EchoService.EchoServiceBase
    {
        public override Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
            Task.FromResult(new EchoResponse { Payload = request.Payload });
    }
}
