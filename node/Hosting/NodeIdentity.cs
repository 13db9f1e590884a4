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

    /// <summary>Marks a rotation the parent has not acknowledged yet; holds the old key id.</summary>
    public const string RotationFileName = "node.key-rotation";

    /// <summary>Where the old private key waits until the parent has the rotation it signs.</summary>
    public static string RetiredPath(string dataPath, string keyId) => Path.Combine(dataPath, $"{FileName}.{keyId}");

    /// <summary>
    /// Replaces node.key with a new key and keeps the old one beside it, marked as a rotation for the node
    /// to sign with the old key and deliver to its parent at its next start. The node must be stopped.
    /// </summary>
    /// <returns>The old key id and the new key (the caller disposes it).</returns>
    public static (string OldKeyId, NodeSigningKey NewKey) Rotate(string dataPath)
    {
        var path = Path.Combine(dataPath, FileName);
        if (!File.Exists(path))
        {
            throw new KeyFileMissingException(path, "is missing, so there is no key to rotate from", dataPath);
        }

        if (PendingRotation(dataPath) is { } pending)
        {
            throw new InvalidOperationException($"The rotation from key {pending} has not reached the parent yet; start the node so that it delivers it, then rotate again.");
        }

        using var old = LoadOrCreate(dataPath);

        // Order matters for a crash in between: the old key is kept first, then the mark, then node.key is
        // replaced atomically. A mark naming the current key means the replacement never happened; it is dropped.
        WriteAtomically(RetiredPath(dataPath, old.KeyId), old.ExportPrivateKeyBytes());
        WriteAtomically(Path.Combine(dataPath, RotationFileName), System.Text.Encoding.ASCII.GetBytes(old.KeyId));
        var seed = RandomNumberGenerator.GetBytes(NodeSigningKey.PrivateKeyByteCount);
        WriteAtomically(path, seed, overwrite: true);
        return (old.KeyId, NodeSigningKey.FromPrivateKeyBytes(seed));
    }

    /// <summary>The old key id of a rotation not yet delivered, or null.</summary>
    public static string? PendingRotation(string dataPath)
    {
        var path = Path.Combine(dataPath, RotationFileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>The kept old key of a pending rotation.</summary>
    public static NodeSigningKey LoadRetired(string dataPath, string keyId) => NodeSigningKey.FromPrivateKeyBytes(File.ReadAllBytes(RetiredPath(dataPath, keyId)));

    /// <summary>The parent holds the new key: the old private key is no longer needed and is deleted with the mark.</summary>
    public static void CompleteRotation(string dataPath, string oldKeyId)
    {
        File.Delete(RetiredPath(dataPath, oldKeyId));
        File.Delete(Path.Combine(dataPath, RotationFileName));
    }

    /// <summary>Writes a fresh key as node.key; the caller has made sure none is there or moved it aside.</summary>
    public static NodeSigningKey Create(string dataPath)
    {
        var seed = RandomNumberGenerator.GetBytes(NodeSigningKey.PrivateKeyByteCount);
        WriteAtomically(Path.Combine(dataPath, FileName), seed);
        return NodeSigningKey.FromPrivateKeyBytes(seed);
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> bytes, bool overwrite = false)
    {
        var temporary = path + ".tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, fileOptions))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        // Rename is atomic: a crash leaves either no key file or a whole one.
        File.Move(temporary, path, overwrite);
    }
}
