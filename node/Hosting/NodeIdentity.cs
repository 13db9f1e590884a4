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

/// <summary>Raised when a data folder that holds data has lost its signing key, or holds an unreadable one.</summary>
internal sealed class KeyFileMissingException(string path, string problem, string dataPath)
    : Exception($"Refusing to start: {path} {problem}. Restore node.key from a backup; if it is lost for good, run `federation key replace-lost --data {dataPath}` and enrol the new public key at the parent again.");

/// <summary>
/// The signing key file: the raw 32-byte Ed25519 private key, created on first start with mode 0600
/// (owner read/write only). It is replaced only by an explicit rotation (<c>federation key rotate</c>),
/// which keeps the old key beside it as <c>node.key.&lt;key id&gt;</c>.
/// </summary>
internal static class NodeKeyFile
{
    public const string FileName = "node.key";

    /// <summary>
    /// Loads the key, or creates it in a folder that holds no data yet. A folder that holds data and no
    /// key is refused: a silently new key would be unknown to the parent, and every summary signed with it refused.
    /// </summary>
    public static NodeSigningKey LoadOrCreate(string dataPath)
    {
        Directory.CreateDirectory(dataPath);
        var path = Path.Combine(dataPath, FileName);
        if (File.Exists(path))
        {
            var bytes = File.ReadAllBytes(path);
            return bytes.Length == NodeSigningKey.PrivateKeyByteCount
                ? NodeSigningKey.FromPrivateKeyBytes(bytes)
                : throw new KeyFileMissingException(path, $"is {bytes.Length} bytes, not a {NodeSigningKey.PrivateKeyByteCount}-byte Ed25519 key", dataPath);
        }

        if (HoldsData(dataPath))
        {
            throw new KeyFileMissingException(path, "is missing, but the data folder holds a database", dataPath);
        }

        return Create(dataPath);
    }

    /// <summary>True when the folder holds a database (or recorded that it did).</summary>
    public static bool HoldsData(string dataPath) =>
        File.Exists(Path.Combine(dataPath, Storage.StoreManifest.FileName)) ||
        (File.Exists(Path.Combine(dataPath, Storage.NodeStore.DatabaseFileName)) && new FileInfo(Path.Combine(dataPath, Storage.NodeStore.DatabaseFileName)).Length > 0);

    /// <summary>Writes a fresh key as node.key; the caller has made sure none is there or moved it aside.</summary>
    public static NodeSigningKey Create(string dataPath)
    {
        var path = Path.Combine(dataPath, FileName);
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
