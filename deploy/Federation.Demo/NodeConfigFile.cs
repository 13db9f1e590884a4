using System.Text.Encodings.Web;
using System.Text.Json;

namespace Federation.Demo;

/// <summary>Writes a node's JSON configuration (see node/Configuration/NodeOptions.cs for the fields).</summary>
internal static class NodeConfigFile
{
    public const string FileName = "node.json";

    // Keep the Chinese names readable for whoever opens the file.
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the file into the node's data folder and returns its path.</summary>
    public static string Write(
        DemoHierarchy hierarchy, DemoNode node, string dataPath, IReadOnlyDictionary<string, string> publicKeys, string parentAddress)
    {
        var options = new Dictionary<string, object>
        {
            ["Id"] = node.Id,
            ["Tier"] = node.Tier,
            ["DisplayName"] = node.DisplayName,
            ["Listen"] = "https://127.0.0.1:0",
            ["DataPath"] = dataPath,
        };
        if (node.ParentId is { } parentId)
        {
            options["Parent"] = new { Id = parentId, Address = parentAddress, PublicKey = publicKeys[parentId] };
        }

        var children = hierarchy.ChildrenOf(node.Id).ToList();
        if (children.Count == 0)
        {
            // A village with its own machine hosts exactly one unit: itself.
            options["HostedUnits"] = new[] { new { node.Id, node.DisplayName } };
        }
        else
        {
            options["Children"] = children
                .Select(c => new { c.Id, PublicKey = publicKeys[c.Id], c.DisplayName, ExpectedLeafCount = hierarchy.LeafCountUnder(c.Id) })
                .ToArray();
        }

        var tls = Path.Combine(dataPath, "tls");
        var document = new Dictionary<string, object>
        {
            ["Node"] = options,
            ["Tls"] = new { CertificatePath = Path.Combine(tls, "node.crt"), KeyPath = Path.Combine(tls, "node.key.pem"), CaPath = Path.Combine(tls, "ca.crt") },
            ["Logging"] = new { LogLevel = new Dictionary<string, string> { ["Default"] = "Information", ["Microsoft.AspNetCore"] = "Warning" } },
        };
        var path = Path.Combine(dataPath, FileName);
        File.WriteAllText(path, JsonSerializer.Serialize(document, s_json));
        return path;
    }
}
