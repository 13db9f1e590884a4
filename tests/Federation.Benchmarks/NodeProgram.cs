namespace Federation.Benchmarks;

/// <summary>
/// Which build of the node program a `federation serve` process runs, and the runtime settings (DOTNET_
/// environment variables) it starts with on top of the ones its runtimeconfig.json carries.
/// </summary>
internal sealed record NodeProgram(string Name, string AssemblyPath, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The folder beside the harness that the build publishes the node into, as the container image does.</summary>
    public const string PublishedFolderName = "node-published";

    /// <summary>federation.dll as `dotnet build` leaves it beside the harness: IL only, compiled by the JIT as it runs.</summary>
    public static NodeProgram Build { get; } = new("build", Path.Combine(AppContext.BaseDirectory, "federation.dll"), new Dictionary<string, string>());

    /// <summary>The node as `dotnet publish` makes it for the container image (ReadyToRun), published by the harness's build.</summary>
    public static NodeProgram Published { get; } = new("published", Path.Combine(AppContext.BaseDirectory, PublishedFolderName, "federation.dll"), new Dictionary<string, string>());

    /// <summary>The same program with more DOTNET_ settings.</summary>
    public NodeProgram With(string name, params (string Name, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return new NodeProgram(name, AssemblyPath, environment);
    }

    public bool Exists => File.Exists(AssemblyPath);
}
