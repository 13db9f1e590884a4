using Federation.Node.Configuration;

namespace Federation.Node.Security;

/// <summary>
/// The node's admin socket: a Unix domain socket in the data folder, owner-only, on which admin calls
/// need no token. Whoever can open the file already runs as the node's user on its machine.
/// </summary>
public static class AdminSocket
{
    public const string FileName = "admin.sock";

    /// <summary>Unix socket paths are limited to 108 bytes; keep a margin.</summary>
    private const int MaxPathLength = 100;

    /// <summary>The socket's path, or null when it is turned off (or the platform has none).</summary>
    internal static string? PathFor(AccessOptions access, string dataPath)
    {
        if (string.Equals(access.AdminSocketPath, "off", StringComparison.OrdinalIgnoreCase) || OperatingSystem.IsWindows() ||
            string.IsNullOrWhiteSpace(dataPath))
        {
            return null;
        }

        var path = Path.GetFullPath(string.IsNullOrWhiteSpace(access.AdminSocketPath) ? Path.Combine(dataPath, FileName) : access.AdminSocketPath);
        return path.Length <= MaxPathLength
            ? path
            : throw new TransportConfigurationException(
                $"The admin socket path '{path}' is longer than {MaxPathLength} characters; set Access:AdminSocketPath to a shorter path, or to \"off\".");
    }

    /// <summary>Removes a socket file left by a node that stopped abruptly, unless a running node holds the folder.</summary>
    public static void Prepare(string socketPath, string dataPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
        if (!File.Exists(socketPath))
        {
            return;
        }

        try
        {
            // The folder's lock file is held by a running node; if we can take it, the socket is stale.
            using var probe = new FileStream(Path.Combine(dataPath, Storage.NodeStore.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new Storage.DataFolderInUseException(dataPath, ex);
        }

        File.Delete(socketPath);
    }

    /// <summary>Owner read/write only, whatever the umask was when Kestrel created it.</summary>
    public static void Restrict(string socketPath)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(socketPath))
        {
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public static void Remove(string socketPath)
    {
        try
        {
            File.Delete(socketPath);
        }
        catch (IOException)
        {
            // Best effort: the next start removes a stale socket.
        }
    }
}
