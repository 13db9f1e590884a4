using System.Text.Json;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using YamlDotNet.RepresentationModel;

namespace Federation.Tests.Deploy;

/// <summary>
/// The deploy files, read as a cluster or compose would read them: every YAML parses, the kustomization
/// names exactly the manifests there are, and each node's probes, ports and config agree with each other
/// and with what the node accepts. (Schemas: deploy/README.md says how to check them against the
/// Kubernetes API offline; this test needs nothing but the repository.)
/// </summary>
public sealed class DeployFilesTests
{
    private const string OperationsListen = "http://0.0.0.0:9464";

    private static readonly string s_deploy = Path.Combine(FindRepositoryRoot(), "deploy");

    private static readonly string s_k8s = Path.Combine(s_deploy, "k8s");

    [Fact]
    public void EveryYamlFile_Parses()
    {
        var files = Directory.EnumerateFiles(s_deploy, "*.*", SearchOption.AllDirectories)
            .Where(static f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Where(static f => !f.Contains("node_modules", StringComparison.Ordinal))
            .ToList();

        Assert.Contains(files, static f => f.EndsWith("compose.yaml", StringComparison.Ordinal));
        Assert.True(files.Count >= 7, string.Join(", ", files));
        foreach (var file in files)
        {
            var documents = Load(file);
            Assert.True(documents.Count > 0, $"{file} holds no document");
        }
    }

    [Fact]
    public void Kustomization_NamesEveryManifestThatExistsAndNoOther()
    {
        var kustomization = (YamlMappingNode)Load(Path.Combine(s_k8s, "kustomization.yaml")).Single();
        var resources = ((YamlSequenceNode)kustomization["resources"]).Select(static r => ((YamlScalarNode)r).Value!).Order().ToList();
        var manifests = Directory.EnumerateFiles(s_k8s, "*.yaml").Select(static f => Path.GetFileName(f)).Where(static f => f != "kustomization.yaml").Order().ToList();

        Assert.Equal(manifests, resources);
    }

    [Fact]
    public void EveryStatefulSet_ProbesHealthOnTheOperationsListenerItsConfigOpens()
    {
        var resources = Directory.EnumerateFiles(s_k8s, "*.yaml").SelectMany(Load).OfType<YamlMappingNode>().ToList();
        var statefulSets = resources.Where(static r => Text(r, "kind") == "StatefulSet").ToList();
        Assert.Equal(4, statefulSets.Count);
        foreach (var statefulSet in statefulSets)
        {
            var name = Text(Node(statefulSet, "metadata"), "name");
            var pod = Node(Node(Node(statefulSet, "spec"), "template"), "spec");
            var container = ((YamlSequenceNode)pod["containers"]).Cast<YamlMappingNode>().Single(static c => Text(c, "name") == "node");
            var ports = ((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>().ToDictionary(static p => Text(p, "name"), static p => Text(p, "containerPort"));
            Assert.Equal("5000", ports["grpc"]);
            Assert.Equal("9464", ports["ops"]);
            foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
            {
                var get = Node(Node(container, probe), "httpGet");
                Assert.True(Text(get, "path") == "/healthz" && Text(get, "port") == "ops", $"{name}: {probe} must GET /healthz on port ops");
            }

            // The config the pod mounts opens that listener, and the node accepts the address.
            var configMap = resources.Single(r => Text(r, "kind") == "ConfigMap" && Text(Node(r, "metadata"), "name") == name);
            using var config = JsonDocument.Parse(Text(Node(configMap, "data"), "node.json"));
            var listen = config.RootElement.GetProperty("Operations").GetProperty("Listen").GetString()!;
            Assert.Equal(OperationsListen, listen);
            Assert.Equal(9464, OperationsPlan.Decide(new OperationsOptions { Listen = listen })!.Port);
            Assert.Equal("https://0.0.0.0:5000", config.RootElement.GetProperty("Node").GetProperty("Listen").GetString());
            Assert.StartsWith("/etc/federation/tls/", config.RootElement.GetProperty("Tls").GetProperty("CertificatePath").GetString(), StringComparison.Ordinal);

            // The TLS files come from the node's Secret, mounted where the config looks for them.
            var mounts = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().ToDictionary(static m => Text(m, "name"), static m => Text(m, "mountPath"));
            Assert.Equal("/etc/federation/tls", mounts["tls"]);
            var volume = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>().Single(static v => Text(v, "name") == "tls");
            Assert.Equal(name + "-tls", Text(Node(volume, "secret"), "secretName"));

            var service = resources.Single(r => Text(r, "kind") == "Service" && Text(Node(r, "metadata"), "name") == name);
            var servicePorts = ((YamlSequenceNode)Node(service, "spec")["ports"]).Cast<YamlMappingNode>().ToDictionary(static p => Text(p, "name"), static p => Text(p, "targetPort"));
            Assert.Equal("ops", servicePorts["metrics"]);
        }

        // The policy admits the operations port only from the monitoring namespace.
        var policy = resources.Single(static r => Text(r, "kind") == "NetworkPolicy");
        var rules = ((YamlSequenceNode)Node(policy, "spec")["ingress"]).Cast<YamlMappingNode>().ToList();
        var opsRule = rules.Single(static r => ((YamlSequenceNode)r["ports"]).Cast<YamlMappingNode>().Any(static p => Text(p, "port") == "ops"));
        Assert.True(opsRule.Children.ContainsKey("from"));
    }

    [Fact]
    public void Compose_EveryNodeIsHealthCheckedAndPublishedOnLoopbackOnly()
    {
        var compose = (YamlMappingNode)Load(Path.Combine(s_deploy, "compose.yaml")).Single();
        var services = (YamlMappingNode)compose["services"];
        var nodes = services.Children.Where(static s => ((YamlScalarNode)s.Key).Value != "keys").ToList();
        Assert.Equal(4, nodes.Count);
        var anchor = Node(compose, "x-node");
        Assert.Contains("health", string.Join(' ', ((YamlSequenceNode)Node(anchor, "healthcheck")["test"]).Select(static t => ((YamlScalarNode)t).Value)), StringComparison.Ordinal);
        foreach (var (key, value) in nodes)
        {
            var node = (YamlMappingNode)value;
            var published = ((YamlSequenceNode)node["ports"]).Select(static p => ((YamlScalarNode)p).Value!).ToList();
            Assert.All(published, static p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
            Assert.Contains(published, static p => p.EndsWith(":9464", StringComparison.Ordinal));

            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_deploy, "compose", ((YamlScalarNode)key).Value + ".json")));
            Assert.Equal(OperationsListen, config.RootElement.GetProperty("Operations").GetProperty("Listen").GetString());
        }
    }

    private static List<YamlNode> Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return [.. stream.Documents.Select(static d => d.RootNode)];
    }

    private static YamlMappingNode Node(YamlNode mapping, string key) => (YamlMappingNode)((YamlMappingNode)mapping)[key];

    private static string Text(YamlNode mapping, string key) =>
        ((YamlMappingNode)mapping).Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value ?? string.Empty : string.Empty;

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Federation.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Federation.sln not found above the test folder.");
    }
}
