using System.Security.Cryptography;
using Federation.Aggregator.Signing;
using Federation.Node.Configuration;

namespace Federation.Node.Hosting;

/// <summary>Who this node is: its id, tier, name and signing key.</summary>
internal sealed class NodeIdentity(NodeOptions options, NodeSigningKey key) : IDisposable
{
    public string NodeId { get; } = options.Id;

    public string Tier { get; } = options.Tier;

    public string DisplayName { get; } = options.EffectiveDisplayName;

    public NodeSigningKey Key { get; } = key;

    public void Dispose() => Key.Dispose();
}

/// <summary>
/// The signing key file: the raw 32-byte Ed25519 private key, created on first start with mode 0600
/// (owner read/write only) and never rewritten.
/// </summary>
internal static class NodeKeyFile
{
    public const string FileName = "node.key";

    public static NodeSigningKey LoadOrCreate(string dataPath)
    {
        Directory.CreateDirectory(dataPath);
        var path = Path.Combine(dataPath, FileName);
        if (File.Exists(path))
        {
            return NodeSigningKey.FromPrivateKeyBytes(File.ReadAllBytes(path));
        }

        var seed = RandomNumberGenerator.GetBytes(NodeSigningKey.PrivateKeyByteCount);
        var temporary = path + ".tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, fileOptions))
        {
            stream.Write(seed);
            stream.Flush(flushToDisk: true);
        }

        // Rename is atomic: a crash leaves either no key file or a whole one.
        File.Move(temporary, path, overwrite: false);
        return NodeSigningKey.FromPrivateKeyBytes(seed);
    }
}
