namespace Federation.Node.Storage;

/// <summary>Storage failures that no retry can fix while the node runs.</summary>
internal static class StoreFaults
{
    // ENOSPC is 28 on Linux and macOS; .NET puts the errno in HResult there. On Windows the HResult wraps
    // ERROR_DISK_FULL (112) or ERROR_HANDLE_DISK_FULL (39).
    private const int EnospcErrno = 28;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>True when the exception, or one inside it, says the disk is full (LiteDB passes the IOException through, sometimes wrapped).</summary>
    public static bool IsDiskFull(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is IOException { HResult: EnospcErrno or WindowsDiskFull or WindowsHandleDiskFull })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Free bytes on the disk holding the folder; -1 when the system cannot say.</summary>
    public static long FreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>Rolls back after a failure that may also stop the rollback from writing; the node is stopping anyway.</summary>
    public static void TryRollback(NodeStore store)
    {
        try
        {
            store.Rollback();
        }
        catch (Exception ex) when (ex is IOException or LiteDB.LiteException or InvalidOperationException)
        {
            // Nothing was acknowledged; the log's uncommitted tail is ignored at the next start.
        }
    }
}
