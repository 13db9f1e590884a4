using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Federation.Node.Storage;

/// <summary>Raised when a data folder that held data finds its database or log missing, truncated or damaged.</summary>
internal sealed class DataFolderDamagedException(string path, string problem, string dataPath)
    : Exception($"Refusing to start: {path} {problem}. Restore the data folder from a backup, or run `federation rebuild --data {dataPath}` to rebuild from what it still holds.")
{
    /// <summary>The damaged or missing file.</summary>
    public string FilePath { get; } = path;
}

/// <summary>
/// <c>node.manifest</c>: a fixed-size record beside the database saying that the folder holds data and
/// what LiteDB's two files held at the last write: the length and SHA-256 of the data file as of the last
/// checkpoint, and the length and SHA-256 of the log after the last transaction. At start, before LiteDB
/// opens (and silently starts empty, or replays a shorter log), the files must still begin with what was
/// recorded.
/// </summary>
/// <remarks>
/// Cheap by construction: the data file changes only at checkpoints, which this node makes itself
/// (LiteDB's automatic checkpoint is off), so its hash is computed only then; the log only grows between
/// checkpoints, so each transaction hashes just the pages it appended. The per-transaction record is one
/// 512-byte write in place without an fsync: it survives a killed process (the page cache does), and after
/// a power loss it can only be older than the files it describes, never ahead of them, because it is
/// written after LiteDB's own fsync. A checkpoint is the one step that rewrites history (the data file
/// grows, the log is emptied), so it is bracketed by two fsynced records: "checkpointing" before, in
/// which state only lengths are checked, and the new state after. Hashing the whole data file took most of a
/// checkpoint's time under the store's gate (67 ms of 78 ms for a file of tens of MB, measured under load), so
/// while the node runs it is hashed on another thread after the checkpoint; until the hash is recorded,
/// the record holds the data file's length alone and only that is checked. The data file does not change
/// until the next checkpoint, which discards a hash still being taken. Opening and closing hash at once.
/// </remarks>
internal sealed class StoreManifest : IDisposable
{
    public const string FileName = "node.manifest";
    private const int RecordByteCount = 512;
    private const string Magic = "federation data folder manifest v1";

    private readonly string _dataPath;
    private readonly string _databasePath;
    private readonly string _logPath;
    private readonly string _path;
    private readonly Lock _gate;
    private IncrementalHash _logHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private SafeFileHandle? _handle;
    private SafeFileHandle? _logReader;
    private long _logHashedBytes;
    private long _dataBytes;
    private string _dataSha256 = string.Empty;

    // Counts checkpoints begun: a data-file hash taken on another thread is recorded only if none began meanwhile.
    private long _checkpoints;

    /// <param name="gate">The lock every call to this manifest is made under; a hash taken on another thread takes it to record itself.</param>
    public StoreManifest(string dataPath, string databasePath, string logPath, Lock gate)
    {
        _gate = gate;
        _dataPath = dataPath;
        _databasePath = databasePath;
        _logPath = logPath;
        _path = Path.Combine(dataPath, FileName);
    }

    /// <summary>True when the folder has recorded that it holds data.</summary>
    public bool Exists => File.Exists(_path);

    /// <summary>
    /// Checks the files against the record, before LiteDB touches them. A folder without a manifest
    /// holds no data yet (or was written before manifests existed) and passes.
    /// </summary>
    /// <exception cref="DataFolderDamagedException">A file is missing, shorter than recorded, or differs from what was recorded.</exception>
    public void Verify()
    {
        if (!Exists)
        {
            return;
        }

        var record = Read();
        (_dataBytes, _dataSha256) = (record.DataBytes, record.DataSha256);
        CheckPrefix(_databasePath, record.DataBytes, record.Checkpointing || record.DataSha256.Length == 0 ? null : record.DataSha256);

        // While checkpointing the log may already be emptied into the data file; lengths are all that can be checked.
        if (!record.Checkpointing && record.LogBytes > 0)
        {
            CheckPrefix(_logPath, record.LogBytes, record.LogSha256);
        }
    }

    /// <summary>Records the state after a checkpoint: the data file whole, the log empty or as it stands. Fsynced.</summary>
    public void RecordCheckpoint()
    {
        (_dataBytes, _dataSha256) = HashFile(_databasePath);
        RecordLogAfterCheckpoint();
    }

    /// <summary>
    /// Records the state after a checkpoint with the data file's length alone (fsynced), and hashes the file on
    /// another thread, recording the hash (not fsynced) unless another checkpoint began meanwhile.
    /// </summary>
    public void RecordCheckpointHashingLater()
    {
        _dataBytes = File.Exists(_databasePath) ? new FileInfo(_databasePath).Length : 0;
        _dataSha256 = string.Empty;
        RecordLogAfterCheckpoint();
        var (bytes, checkpoint) = (_dataBytes, _checkpoints);
        _ = Task.Run(() => RecordDataHash(bytes, checkpoint));
    }

    private void RecordDataHash(long bytes, long checkpoint)
    {
        string sha256;
        try
        {
            sha256 = HashPrefix(_databasePath, bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The length stays the only check until the next checkpoint.
            return;
        }

        lock (_gate)
        {
            if (checkpoint == _checkpoints && _handle is { IsClosed: false })
            {
                _dataSha256 = sha256;
                Write(checkpointing: false, durable: false);
            }
        }
    }

    private void RecordLogAfterCheckpoint()
    {
        _logHash.Dispose();
        _logHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        _logHashedBytes = 0;
        _logReader?.Dispose();
        _logReader = null;
        AppendLog();
        Write(checkpointing: false, durable: true);
    }

    /// <summary>Marks that a checkpoint is about to rewrite the files. Fsynced.</summary>
    public void BeginCheckpoint()
    {
        _checkpoints++;
        Write(checkpointing: true, durable: true);
    }

    /// <summary>Records the log's first <paramref name="durableBytes"/>, made durable by the caller (not fsynced; see the remarks).</summary>
    public void RecordTransaction(long durableBytes)
    {
        AppendLog(durableBytes);
        Write(checkpointing: false, durable: false);
    }

    /// <summary>
    /// Fsyncs the log. LiteDB 5.0.21 writes a commit's log pages on the committing thread but does not fsync
    /// them (only checkpoints fsync, the data file); fsync on any descriptor of the file makes them durable.
    /// A read-only descriptor is enough on Linux and macOS, where fsync needs no write access.
    /// </summary>
    public void FlushLog()
    {
        if (_logReader is null)
        {
            if (!File.Exists(_logPath))
            {
                return;
            }

            _logReader = File.OpenHandle(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }

        RandomAccess.FlushToDisk(_logReader);
    }

    /// <summary>The log's current length in bytes.</summary>
    public long LogBytes => File.Exists(_logPath) ? new FileInfo(_logPath).Length : 0;

    public void Dispose()
    {
        _handle?.Dispose();
        _logReader?.Dispose();
        _logHash.Dispose();
    }

    /// <summary>Hashes the log on from where the last record stopped, up to <paramref name="upTo"/> bytes or its end.</summary>
    private void AppendLog(long upTo = long.MaxValue)
    {
        var length = LogBytes;
        if (length < _logHashedBytes)
        {
            throw new InvalidOperationException($"{_logPath} shrank outside a checkpoint.");
        }

        length = Math.Min(length, upTo);
        if (length <= _logHashedBytes)
        {
            return;
        }

        _logReader ??= File.OpenHandle(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[64 * 1024];
        while (_logHashedBytes < length)
        {
            var read = RandomAccess.Read(_logReader, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - _logHashedBytes)), _logHashedBytes);
            if (read == 0)
            {
                break;
            }

            _logHash.AppendData(buffer, 0, read);
            _logHashedBytes += read;
        }
    }

    private void Write(bool checkpointing, bool durable)
    {
        var text = new StringBuilder()
            .Append(Magic).Append('\n')
            .Append(CultureInfo.InvariantCulture, $"state={(checkpointing ? "checkpointing" : "open")}\n")
            .Append(CultureInfo.InvariantCulture, $"data_bytes={_dataBytes}\n")
            .Append(CultureInfo.InvariantCulture, $"data_sha256={_dataSha256}\n")
            .Append(CultureInfo.InvariantCulture, $"log_bytes={_logHashedBytes}\n")
            .Append(CultureInfo.InvariantCulture, $"log_sha256={Convert.ToHexStringLower(_logHash.GetCurrentHash())}\n")
            .ToString();
        var body = text + $"check={Check(text)}\n";
        var record = new byte[RecordByteCount];
        record.AsSpan().Fill((byte)' ');
        record[^1] = (byte)'\n';
        Encoding.ASCII.GetBytes(body, record);
        if (_handle is null)
        {
            // First record: written whole under another name and renamed, so the manifest never exists half-written.
            var temporary = _path + ".tmp";
            using (var created = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
            {
                RandomAccess.Write(created, record, 0);
                RandomAccess.FlushToDisk(created);
            }

            File.Move(temporary, _path, overwrite: true);
            _handle = File.OpenHandle(_path, FileMode.Open, FileAccess.ReadWrite);
            return;
        }

        // One sector-sized write in place: atomic on the devices this runs on.
        RandomAccess.Write(_handle, record, 0);
        if (durable)
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    private Record Read()
    {
        var text = File.ReadAllText(_path, Encoding.ASCII);
        var fields = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(static line => line.Split('=', 2))
            .Where(static parts => parts.Length == 2)
            .ToDictionary(static parts => parts[0], static parts => parts[1], StringComparer.Ordinal);
        var checkAt = text.IndexOf("check=", StringComparison.Ordinal);
        if (!text.StartsWith(Magic, StringComparison.Ordinal) || checkAt < 0 || !fields.TryGetValue("check", out var check) ||
            check != Check(text[..checkAt]) ||
            !long.TryParse(fields.GetValueOrDefault("data_bytes"), NumberStyles.None, CultureInfo.InvariantCulture, out var dataBytes) ||
            !long.TryParse(fields.GetValueOrDefault("log_bytes"), NumberStyles.None, CultureInfo.InvariantCulture, out var logBytes))
        {
            throw new DataFolderDamagedException(_path, "is not a readable manifest", _dataPath);
        }

        return new Record(fields.GetValueOrDefault("state") == "checkpointing", dataBytes, fields.GetValueOrDefault("data_sha256") ?? string.Empty,
            logBytes, fields.GetValueOrDefault("log_sha256") ?? string.Empty);
    }

    /// <summary>The file must exist, be at least as long as recorded, and (when a hash is given) begin with the recorded bytes.</summary>
    private void CheckPrefix(string path, long recordedBytes, string? recordedSha256)
    {
        if (!File.Exists(path))
        {
            throw new DataFolderDamagedException(path, "is missing, but the data folder recorded that it holds data", _dataPath);
        }

        var length = new FileInfo(path).Length;
        if (length < recordedBytes)
        {
            throw new DataFolderDamagedException(path, string.Create(CultureInfo.InvariantCulture,
                $"is truncated: {length} bytes, {recordedBytes} were recorded"), _dataPath);
        }

        if (recordedSha256 is not null && HashPrefix(path, recordedBytes) != recordedSha256)
        {
            throw new DataFolderDamagedException(path, string.Create(CultureInfo.InvariantCulture,
                $"is damaged: its first {recordedBytes} bytes differ from what was recorded"), _dataPath);
        }
    }

    private static (long Bytes, string Sha256) HashFile(string path)
    {
        if (!File.Exists(path))
        {
            return (0, Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty)));
        }

        var length = new FileInfo(path).Length;
        return (length, HashPrefix(path, length));
    }

    private static string HashPrefix(string path, long byteCount)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[64 * 1024];
        long offset = 0;
        while (offset < byteCount)
        {
            var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, byteCount - offset)), offset);
            if (read == 0)
            {
                break;
            }

            hash.AppendData(buffer, 0, read);
            offset += read;
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Check(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(text)))[..16];

    private readonly record struct Record(bool Checkpointing, long DataBytes, string DataSha256, long LogBytes, string LogSha256);
}
