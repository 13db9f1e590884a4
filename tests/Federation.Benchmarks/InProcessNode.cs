using Federation.Node.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Federation.Benchmarks;

/// <summary>
/// A real node in the harness's process, built as `serve` builds it (<see cref="NodeHost.Build"/>):
/// Kestrel on 127.0.0.1 with TLS as deployed, its LiteDB file and key in its own data folder.
/// </summary>
internal sealed class InProcessNode : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessNode(WebApplication app, string dataPath)
    {
        _app = app;
        DataPath = dataPath;
        Address = NodeHost.ListeningAddress(app);
    }

    public string Address { get; }

    public string DataPath { get; }

    /// <param name="settings">Node settings beyond id, tier, data folder, listener, TLS and log level.</param>
    public static async Task<InProcessNode> StartAsync(string dataPath, BenchPki pki, string id, string tier, IReadOnlyDictionary<string, string?> settings)
    {
        Directory.CreateDirectory(dataPath);
        var all = new Dictionary<string, string?>(settings)
        {
            ["Node:Id"] = id,
            ["Node:Tier"] = tier,
            ["Node:DataPath"] = dataPath,
            ["Node:Listen"] = "https://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (name, value) in pki.TlsSettings(id, Path.Combine(dataPath, "tls")))
        {
            all[name] = value;
        }

        var app = NodeHost.Build(null, all);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new InProcessNode(app, dataPath);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
