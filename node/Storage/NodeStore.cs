using System.Globalization;
using LiteDB;

namespace Federation.Node.Storage;

/// <summary>A unit this node hosts, as a submission checks it: retired from <paramref name="RetiredFromPeriod"/> on (empty while active).</summary>
internal sealed record HostedUnitStatus(string Id, string RetiredFromPeriod);

/// <summary>Where the log stood after a commit: its length in bytes, and how many checkpoints came before it.</summary>
internal readonly record struct LogMark(long Bytes, long Checkpoint);

/// <summary>Raised when a second process tries to open a data folder that a running node holds.</summary>
internal sealed class DataFolderInUseException(string dataPath, Exception inner)
    : Exception($"Another process is using the data folder '{dataPath}'.", inner);

/// <summary>
/// The node's one LiteDB file, opened once per process in direct mode and guarded by a lock file so
/// that a second process cannot open the same folder. Writes go through <see cref="StoreWriter"/>.
/// </summary>
internal sealed class NodeStore : IDisposable
{
    public const string DatabaseFileName = "node.db";
    public const string LockFileName = "node.lock";

    /// <summary>LiteDB 5's write-ahead log beside <see cref="DatabaseFileName"/>.</summary>
    public const string LogFileName = "node-log.db";

    /// <summary>
    /// The log is moved into the data file once it grows past this: 4,000 pages (32 MB). At LiteDB's own default of
    /// 1,000 pages a node taking reports checkpointed several times a second under load; a longer log repeats the
    /// pages written most often (indexes, the dirty marks), so each page copied carries more commits (measured: a
    /// quarter of the checkpoints, each 3 times as long). A start replays at most this much log.
    /// </summary>
    private const long CheckpointLogBytes = 4000 * 8192;

    private const int SchemaVersion = 4;
    private readonly FileStream _lock;
    private readonly Lock _gate = new();
    private readonly StoreManifest _manifest;

    // Hosted units as read inside the writer's transactions or under the gate; emptied on every change to units and on
    // rollback, so it never holds what the store does not. Bounded, past which units are read from the store.
    private const int MaxHostedUnitsRemembered = 65_536;
    private readonly Dictionary<string, HostedUnitStatus> _hostedUnits = new(StringComparer.Ordinal);

    // Checkpoints made since opening: a log mark taken before the last one is in the data file already.
    private long _checkpointCount;

    public NodeStore(string dataPath)
    {
        DataPath = dataPath;
        Directory.CreateDirectory(dataPath);
        try
        {
            // FileShare.None takes an exclusive advisory lock on Unix, released by the kernel if the process dies.
            _lock = new FileStream(Path.Combine(dataPath, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new DataFolderInUseException(dataPath, ex);
        }

        // Checked before LiteDB opens: it would otherwise start empty on a lost file, or replay a shorter log.
        _manifest = new StoreManifest(dataPath, Path.Combine(dataPath, DatabaseFileName), Path.Combine(dataPath, LogFileName), _gate);
        try
        {
            _manifest.Verify();
        }
        catch
        {
            _manifest.Dispose();
            _lock.Dispose();
            throw;
        }

        var connection = new ConnectionString
        {
            Filename = Path.Combine(dataPath, DatabaseFileName),
            Connection = ConnectionType.Direct,
            Collation = new Collation(CultureInfo.InvariantCulture.LCID, CompareOptions.Ordinal),
        };
        Database = new LiteDatabase(connection, CreateMapper());

        // Checkpoints are made here and nowhere else, so that the manifest can bracket each one.
        Database.CheckpointSize = 0;
        Migrate();

        // LiteDB 5.0.20 wrote every commit, the first after opening included, from a background task it did not
        // wait for; 5.0.21 writes on the committing thread and Commit fsyncs the log. The open count is still
        // written and checkpointed here, so that the node starts on an empty log the manifest has recorded.
        Database.GetCollection(Collections.Meta).Upsert(new BsonDocument { ["_id"] = "opened", ["count"] = OpenCount() + 1 });
        CheckpointNow();
    }

    public LiteDatabase Database { get; }

    /// <summary>The data folder.</summary>
    public string DataPath { get; }

    /// <summary>
    /// A test seam on the commit path: runs just before each commit and may throw, as a full disk does.
    /// Keyed by data folder so that nodes in one test process do not see each other's faults.
    /// </summary>
    internal static System.Collections.Concurrent.ConcurrentDictionary<string, Action> CommitFaults { get; } = new(StringComparer.Ordinal);

    /// <summary>A test seam on the fsync of the log: runs just before it and may throw, as a failing disk does. Keyed by data folder.</summary>
    internal static System.Collections.Concurrent.ConcurrentDictionary<string, Action> FlushFaults { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Commits the open transaction and makes it durable at once: <see cref="CommitToLog"/>, <see cref="FlushLog"/>,
    /// <see cref="RecordDurable"/>. For a process that writes alone (the command line); call under the gate.
    /// </summary>
    public void Commit() => RecordDurable(FlushLog(CommitToLog()));

    /// <summary>
    /// Commits the open transaction into the log, where reads see it, but not yet durably: acknowledge it only after
    /// <see cref="FlushLog"/> and <see cref="RecordDurable"/>. Returns where the log then stands. Call under the gate.
    /// </summary>
    public LogMark CommitToLog()
    {
        if (CommitFaults.TryGetValue(DataPath, out var fault))
        {
            fault();
        }

        Database.Commit();
        return new LogMark(_manifest.LogBytes, _checkpointCount);
    }

    /// <summary>
    /// Makes every commit made so far durable (fsyncs the log; see StoreManifest.FlushLog for why LiteDB's commit alone
    /// is not). Needs no gate, so that commits go on meanwhile, but one caller at a time: the one that checkpoints.
    /// </summary>
    public LogMark FlushLog(LogMark upTo)
    {
        if (FlushFaults.TryGetValue(DataPath, out var fault))
        {
            fault();
        }

        _manifest.FlushLog();
        return upTo;
    }

    /// <summary>
    /// Records in the manifest that the log is durable up to <paramref name="mark"/> (unless a checkpoint since moved
    /// it into the data file), and checkpoints when the log has grown long. Call under the gate, after <see cref="FlushLog"/>.
    /// </summary>
    public void RecordDurable(LogMark mark)
    {
        if (mark.Checkpoint == _checkpointCount)
        {
            _manifest.RecordTransaction(mark.Bytes);
        }

        if (_manifest.LogBytes > CheckpointLogBytes)
        {
            CheckpointNow();
        }
    }

    /// <summary>Rolls back the open transaction; LiteDB may still have appended to the log, which the next record covers. Call under the gate.</summary>
    public void Rollback()
    {
        // What the rolled-back transaction read or wrote may be remembered: forget it all.
        _hostedUnits.Clear();
        Database.Rollback();
    }

    /// <summary>
    /// Moves the log into the data file, the manifest bracketing the step (see <see cref="StoreManifest"/>); the
    /// data file is hashed at once when <paramref name="hashNow"/>, else on another thread.
    /// </summary>
    private void CheckpointNow(bool hashNow = false)
    {
        _checkpointCount++;
        _manifest.BeginCheckpoint();
        Database.Checkpoint();
        if (hashNow)
        {
            _manifest.RecordCheckpoint();
        }
        else
        {
            _manifest.RecordCheckpointHashingLater();
        }
    }

    /// <summary>
    /// Serializes every use of the database. LiteDB 5.0.20 corrupts its page share counters ("share
    /// counter must be > 0 in Release()", after which the engine refuses all work) when reads on other
    /// threads race a write transaction, as seen here under load; the gate stays with 5.0.21, whose one
    /// reported regression (upstream #2523) is also a reader racing the writer. The writer holds the gate
    /// for each short synchronous transaction; readers go through <see cref="Read"/>.
    /// </summary>
    public Lock Gate => _gate;

    /// <summary>Runs a read under the gate; the result must be materialized (no lazy enumerables).</summary>
    public T Read<T>(Func<NodeStore, T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (_gate)
        {
            return read(this);
        }
    }

    /// <summary>The units this node hosts. Write them with <see cref="InsertUnit"/> and <see cref="UpdateUnit"/>, which keep <see cref="HostedUnit"/> true.</summary>
    public ILiteCollection<UnitDocument> Units => Database.GetCollection<UnitDocument>(Collections.Units);

    /// <summary>
    /// A hosted unit as every submission checks it (hosted, retired from when), from memory after the first read:
    /// the lookup cost a sixth of a submission's time in the writer (measured). Call under the gate.
    /// </summary>
    public HostedUnitStatus? HostedUnit(string unitId)
    {
        if (_hostedUnits.TryGetValue(unitId, out var known))
        {
            return known;
        }

        if (Units.ById(unitId) is not { } unit)
        {
            return null;
        }

        var hosted = new HostedUnitStatus(unit.Id, unit.RetiredFromPeriod);
        if (_hostedUnits.Count < MaxHostedUnitsRemembered)
        {
            _hostedUnits[unitId] = hosted;
        }

        return hosted;
    }

    public void InsertUnit(UnitDocument unit)
    {
        _hostedUnits.Clear();
        Units.Insert(unit);
    }

    public void UpdateUnit(UnitDocument unit)
    {
        _hostedUnits.Clear();
        Units.Update(unit);
    }

    public ILiteCollection<ChildDocument> Children => Database.GetCollection<ChildDocument>(Collections.Children);

    public ILiteCollection<ReportDocument> Reports => Database.GetCollection<ReportDocument>(Collections.Reports);

    public ILiteCollection<ChildSummaryDocument> ChildSummaries => Database.GetCollection<ChildSummaryDocument>(Collections.ChildSummaries);

    public ILiteCollection<SummaryDocument> Summaries => Database.GetCollection<SummaryDocument>(Collections.Summaries);

    public ILiteCollection<OutboxDocument> Outbox => Database.GetCollection<OutboxDocument>(Collections.Outbox);

    public ILiteCollection<DirtyDocument> Dirty => Database.GetCollection<DirtyDocument>(Collections.Dirty);

    public ILiteCollection<EquivocationDocument> Equivocations => Database.GetCollection<EquivocationDocument>(Collections.Equivocations);

    // History: every version that was replaced, by digest, so that proofs of older summaries can still be
    // built. Only replaced versions are copied here: the current one lives in its own collection, and a
    // first report (the common case) then costs one document, not two. LiteDB fsyncs every dirty page
    // at commit, so a second document under a random key would halve the submission rate (measured).

    /// <summary>Replaced report versions, by digest.</summary>
    public ILiteCollection<ReportDocument> ReportHistory => Database.GetCollection<ReportDocument>(Collections.ReportHistory);

    /// <summary>Replaced child summaries, by digest.</summary>
    public ILiteCollection<ChildSummaryDocument> ChildSummaryHistory => Database.GetCollection<ChildSummaryDocument>(Collections.ChildSummaryHistory);

    public ILiteCollection<StaleDocument> Stale => Database.GetCollection<StaleDocument>(Collections.Stale);

    /// <summary>Replaced summaries this node signed, by digest.</summary>
    public ILiteCollection<SummaryDocument> SummaryHistory => Database.GetCollection<SummaryDocument>(Collections.SummaryHistory);

    /// <summary>Versions the parent holds, by period; the next summary is numbered above them.</summary>
    public ILiteCollection<VersionFloorDocument> VersionFloors => Database.GetCollection<VersionFloorDocument>(Collections.VersionFloors);

    /// <summary>Signed review decisions, kept for good.</summary>
    public ILiteCollection<DecisionDocument> Decisions => Database.GetCollection<DecisionDocument>(Collections.Decisions);

    /// <summary>The state the last decision about each subject and period left.</summary>
    public ILiteCollection<ReviewStateDocument> ReviewStates => Database.GetCollection<ReviewStateDocument>(Collections.ReviewStates);

    /// <summary>Rectification ledger items of the units this node hosts.</summary>
    public ILiteCollection<LedgerItemDocument> LedgerItems => Database.GetCollection<LedgerItemDocument>(Collections.LedgerItems);

    /// <summary>Signed ledger steps, kept for good.</summary>
    public ILiteCollection<LedgerStepDocument> LedgerSteps => Database.GetCollection<LedgerStepDocument>(Collections.LedgerSteps);

    /// <summary>Ledger tallies this node's summaries cited, by digest.</summary>
    public ILiteCollection<LedgerTallyDocument> LedgerTallyBytes => Database.GetCollection<LedgerTallyDocument>(Collections.LedgerTallies);

    /// <summary>The version the next summary of the period must exceed because the parent already holds it (0 when none).</summary>
    public long VersionFloor(string period) => VersionFloors.ById(period)?.Version ?? 0;

    /// <summary>A unit's report with this digest, current or replaced.</summary>
    public ReportDocument? ReportByDigest(string unitId, string period, ReadOnlySpan<byte> digest) =>
        Reports.ById(ReportDocument.KeyOf(unitId, period)) is { } current && current.Digest.AsSpan().SequenceEqual(digest)
            ? current
            : ReportHistory.ById(Convert.ToHexStringLower(digest));

    /// <summary>A child's summary with this digest, current or replaced.</summary>
    public ChildSummaryDocument? ChildSummaryByDigest(string childId, string period, ReadOnlySpan<byte> digest) =>
        ChildSummaries.ById(ChildSummaryDocument.KeyOf(childId, period)) is { } current && current.Digest.AsSpan().SequenceEqual(digest)
            ? current
            : ChildSummaryHistory.ById(Convert.ToHexStringLower(digest));

    /// <summary>This node's summary with this digest, current or replaced.</summary>
    public SummaryDocument? SummaryByDigest(string period, ReadOnlySpan<byte> digest) =>
        Summaries.ById(period) is { } current && current.Digest.AsSpan().SequenceEqual(digest)
            ? current
            : SummaryHistory.ById(Convert.ToHexStringLower(digest));

    public void Dispose()
    {
        lock (_gate)
        {
            // Checkpointing first leaves a folder that a copy (a backup) takes whole: node.db alone.
            try
            {
                CheckpointNow(hashNow: true);
            }
            catch (Exception ex) when (ex is IOException or LiteException)
            {
                // A full disk or a failed write closed the engine (LiteDB does on any IOException): the log
                // stays as it is and is recorded so below; the next start replays it.
            }

            _manifest.BeginCheckpoint();
            Database.Dispose();
            _manifest.RecordCheckpoint();
            _manifest.Dispose();
        }

        _lock.Dispose();
    }

    private long OpenCount() =>
        Database.GetCollection(Collections.Meta).ById("opened") is { } doc ? doc["count"].AsInt64 : 0;

    private static BsonMapper CreateMapper() => new()
    {
        SerializeNullValues = false,
        TrimWhitespace = false,
        EmptyStringToNull = false,
        EnumAsInteger = true,
    };

    /// <summary>Schema changes are numbered <c>UserVersion</c> steps; indexes are declared here and nowhere else.</summary>
    private void Migrate()
    {
        if (Database.UserVersion < 1)
        {
            Reports.EnsureIndex(static r => r.Period);
            ChildSummaries.EnsureIndex(static s => s.Period);
            Outbox.EnsureIndex(static o => o.NextAttemptTicks);
            Equivocations.EnsureIndex(static e => e.ChildId);
            Children.EnsureIndex(static c => c.KeyId, unique: true);
            Stale.EnsureIndex(static s => s.Period);
            Database.UserVersion = 1;
        }

        if (Database.UserVersion < 2)
        {
            Decisions.EnsureIndex(static d => d.SubjectKey);
            Database.UserVersion = 2;
        }

        if (Database.UserVersion < 3)
        {
            LedgerItems.EnsureIndex(static i => i.Period);
            LedgerItems.EnsureIndex(static i => i.OverdueFromTicks);
            LedgerItems.EnsureIndex(static i => i.ListDigest);
            LedgerSteps.EnsureIndex(static s => s.ItemKey);
            Database.UserVersion = 3;
        }

        if (Database.UserVersion < 4)
        {
            // The retention rule reads a period's replaced versions (node/Retention).
            ReportHistory.EnsureIndex(static r => r.Period);
            ChildSummaryHistory.EnsureIndex(static s => s.Period);
            SummaryHistory.EnsureIndex(static s => s.Period);
            Database.UserVersion = SchemaVersion;
        }
    }

    /// <summary>Collection names, fixed: renaming one is a migration.</summary>
    internal static class Collections
    {
        public const string Meta = "meta";
        public const string Units = "units";
        public const string Children = "children";
        public const string Reports = "reports";
        public const string ChildSummaries = "child_summaries";
        public const string Summaries = "summaries";
        public const string Outbox = "outbox";
        public const string Dirty = "dirty";
        public const string Equivocations = "equivocations";
        public const string ReportHistory = "report_history";
        public const string ChildSummaryHistory = "child_summary_history";
        public const string SummaryHistory = "summary_history";
        public const string Stale = "stale";
        public const string VersionFloors = "version_floors";
        public const string Decisions = "decisions";
        public const string ReviewStates = "review_states";
        public const string LedgerItems = "ledger_items";
        public const string LedgerSteps = "ledger_steps";
        public const string LedgerTallies = "ledger_tallies";
    }
}
