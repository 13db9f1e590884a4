using System.Text.Json;

namespace Federation.Benchmarks;

/// <summary>The configuration file of a township node process the harness starts alone: its hosted villages, TLS from the run's CA, quiet logs.</summary>
internal static class TownshipConfig
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>Writes <c>node.json</c> into <paramref name="dataPath"/>, with <paramref name="sections"/> beside the common ones, and returns its path.</summary>
    public static string Write(string nodeId, string dataPath, BenchPki pki, IEnumerable<string> unitIds, IReadOnlyDictionary<string, object> sections)
    {
        var (certificate, key) = pki.IssueNode(nodeId, Path.Combine(dataPath, "tls"));
        var document = new Dictionary<string, object>
        {
            ["Node"] = new Dictionary<string, object>
            {
                ["Id"] = nodeId,
                ["Tier"] = "township",
                ["Listen"] = "https://127.0.0.1:0",
                ["DataPath"] = dataPath,
                ["HostedUnits"] = unitIds.Select(static id => new { Id = id }).ToArray(),
            },
            ["Tls"] = new { CertificatePath = certificate, KeyPath = key, pki.CaPath },
            ["Logging"] = new { LogLevel = new Dictionary<string, string> { ["Default"] = "Warning" } },
        };
        foreach (var (name, section) in sections)
        {
            document[name] = section;
        }

        var path = Path.Combine(dataPath, "node.json");
        File.WriteAllText(path, JsonSerializer.Serialize(document, s_json));
        return path;
    }
}
