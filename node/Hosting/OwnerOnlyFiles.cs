using System.Runtime.InteropServices;

namespace Federation.Node.Hosting;

/// <summary>
/// Everything a node writes is its own: the data folder holds every report, summary and token record,
/// so the process creates files owner-only (umask 077) before it creates any, and an existing data
/// folder it owns is made owner-only at start. Other accounts on the machine are outsiders, as any
/// caller without a token is.
/// </summary>
internal static class OwnerOnlyFiles
{
    private const uint OwnerOnlyMask = 0b_000_111_111; // 077

    /// <summary>Sets the process umask and makes the data folder owner-only; best effort where the OS says no.</summary>
    public static void Apply(string dataPath)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        _ = Umask(OwnerOnlyMask);
        if (string.IsNullOrWhiteSpace(dataPath))
        {
            return;
        }

        var full = Path.GetFullPath(dataPath);
        if (!Directory.Exists(full))
        {
            Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return;
        }

        try
        {
            File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (UnauthorizedAccessException)
        {
            // A volume root owned by another account (a container's mounted volume): its owner decides.
        }
    }

    [DllImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint Umask(uint mask);
}
