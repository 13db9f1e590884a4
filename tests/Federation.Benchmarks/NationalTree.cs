using System.Diagnostics;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Benchmarks;

/// <summary>Signing keys for every node of a tree, from a pool: an Ed25519 verification costs the same whatever the key.</summary>
internal sealed class KeyPool : IDisposable
{
    public const int Size = 1024;
    private readonly NodeSigningKey[] _keys;

    public KeyPool()
    {
        _keys = [.. Enumerable.Range(0, Size).Select(static i =>
            NodeSigningKey.FromPrivateKeyBytes(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))))];
    }

    /// <summary>The key of node <paramref name="index"/> of tier <paramref name="level"/> (−1: the nation).</summary>
    public NodeSigningKey For(int level, int index) => _keys[(int)((((long)(level + 1) * 7919) + index) % Size)];

    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }
}

/// <summary>What one build of the whole tree did and cost.</summary>
internal sealed record TreeRun(
    TimeSpan Elapsed, long VerifyCount, long VerifiedBytes, long SignCount, long SignedBytes, SignedSummary Root, MemoryUse Memory)
{
    public int MeanVerifiedBytes => VerifyCount == 0 ? 0 : (int)(VerifiedBytes / VerifyCount);

    public int MeanSignedBytes => SignCount == 0 ? 0 : (int)(SignedBytes / SignCount);
}

/// <summary>
/// A national tree built in one process through the aggregator's public API, as its nodes would build
/// it: each node verifies and checks what its children send, then rebuilds and signs its own summary
/// (see <see cref="SummaryWork"/>). Counties are built in parallel, each with its townships and villages;
/// then cities, provinces and the nation, each tier in parallel. Two shapes: every village a node of its
/// own (its summary signed by it and verified by its township), or townships hosting their villages'
/// reports. Only the counties' summaries and the path to one village are kept, as nodes keep only theirs.
/// </summary>
internal sealed class NationalTree(TreeShape shape, SummaryWork work, VillageReports reports, KeyPool keys)
{
    public const string NationId = "CN";
    private const int Township = 3;
    private const int Village = 4;
    private static readonly string[] s_tiers = ["nation", .. TreeShape.Tiers];

    private readonly string[][] _ids = BuildIds(shape);

    /// <summary>
    /// Each village's report digest (32 bytes each), worked out before any timing: a node hashes a report once,
    /// when it stores it, and a rebuild reads the stored digest beside the stored bytes.
    /// </summary>
    private byte[]? _reportDigests;
    private long _verifyCount;
    private long _verifiedBytes;
    private long _signCount;
    private long _signedBytes;

    public TreeShape Shape => shape;

    /// <summary>The village whose path to the nation a correction rebuilds: one in the middle.</summary>
    public int PathVillage => shape.VillageCount / 2;

    /// <summary>The sum of every village's party members, worked out from the sample rows alone.</summary>
    public long ExpectedPartyMembers()
    {
        long sum = 0;
        for (var v = 0; v < shape.VillageCount; v++)
        {
            sum += reports.PartyMembersOf(v);
        }

        return sum;
    }

    public TreeRun Build(bool villagesAsNodes, TreePath? path)
    {
        _reportDigests ??= ReportDigests();
        (_verifyCount, _verifiedBytes, _signCount, _signedBytes) = (0, 0, 0, 0);
        using var probe = MemoryProbe.Start();
        var watch = Stopwatch.StartNew();
        var counties = new SignedSummary[shape.Counts[2]];
        Parallel.For(0, counties.Length, county => counties[county] = BuildCounty(county, villagesAsNodes, path));
        var cities = BuildTier(1, counties, path);
        var provinces = BuildTier(0, cities, path);
        var root = BuildNode(-1, 0, provinces, 0..provinces.Length, path);
        watch.Stop();
        return new TreeRun(watch.Elapsed, _verifyCount, _verifiedBytes, _signCount, _signedBytes, root, probe.Stop());
    }

    /// <summary>
    /// Corrects the path village's report (its party members raised by <paramref name="delta"/>) and rebuilds
    /// only its path: the village, then each ancestor verifying its child's new summary and rebuilding from
    /// what it holds, up to the nation. Returns the time it took and the nation's new summary.
    /// </summary>
    public (TimeSpan Elapsed, SignedSummary Root) CorrectPath(TreePath path, SampleReports samples, int delta)
    {
        var village = PathVillage;
        var id = path.Ids[Village + 1];
        var report = new UnitReport
        {
            UnitId = id,
            Period = work.PeriodText,
            Version = (ulong)delta + 1,
            ReceiveTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(work.Now),
            Values = { samples.ValuesFor(village, delta) },
        }.ToByteArray();
        var digest = Digests.Sha256(report);
        var watch = Stopwatch.StartNew();
        var signed = work.Rebuild(id, "village", path.Versions[Village + 1], [SummaryWork.Hosted(id, report, digest)], [], keys.For(Village, village));
        path.Versions[Village + 1] = SummaryWork.VersionOf(signed);
        var (childLevel, childIndex) = (Village, village);
        for (var level = Township; level >= -1; level--)
        {
            var held = path.Held[level + 1];
            var received = work.Receive(signed, keys.For(childLevel, childIndex).PublicKeyBytes);
            held[held.FindIndex(h => h.ChildId == received.ChildId)] = received;
            var index = path.Indexes[level + 1];
            signed = work.Rebuild(path.Ids[level + 1], s_tiers[level + 1], path.Versions[level + 1], [], held, keys.For(level, index));
            path.Versions[level + 1] = SummaryWork.VersionOf(signed);
            (childLevel, childIndex) = (level, index);
        }

        watch.Stop();
        return (watch.Elapsed, signed);
    }

    /// <summary>The path from the nation down to <see cref="PathVillage"/>, to be filled by a build.</summary>
    public TreePath NewPath()
    {
        var indexes = new int[s_tiers.Length];
        indexes[Village + 1] = PathVillage;
        for (var level = Village; level >= 1; level--)
        {
            indexes[level] = shape.ParentOf(level, indexes[level + 1]);
        }

        indexes[0] = 0;
        var ids = new string[s_tiers.Length];
        ids[0] = NationId;
        for (var level = 0; level <= Township; level++)
        {
            ids[level + 1] = _ids[level][indexes[level + 1]];
        }

        var township = indexes[Township + 1];
        ids[Village + 1] = VillageId(_ids[Township][township], PathVillage, shape.ChildrenOf(Township, township).Start.Value);
        return new TreePath(indexes, ids, new List<HeldSummary>[s_tiers.Length], new ulong[s_tiers.Length]);
    }

    /// <summary>The nation's party members total and reported leaves, read from its signed summary.</summary>
    public static (long PartyMembers, uint Reported) Totals(SignedSummary root)
    {
        var summary = Summary.Parser.ParseFrom(root.SummaryBytes);
        var members = summary.Aggregates.FirstOrDefault(static a => a.IndicatorId == SampleReports.PartyMembers)?.Total ?? -1;
        return (members, summary.Coverage.ReportedLeafCount);
    }

    private SignedSummary[] BuildTier(int level, SignedSummary[] children, TreePath? path)
    {
        var signed = new SignedSummary[shape.Counts[level]];
        Parallel.For(0, signed.Length, index => signed[index] = BuildNode(level, index, children, shape.ChildrenOf(level, index), path));
        return signed;
    }

    /// <summary>A node above the townships: receive each child's summary, rebuild, sign.</summary>
    private SignedSummary BuildNode(int level, int index, SignedSummary[] children, Range range, TreePath? path)
    {
        var (first, count) = range.GetOffsetAndLength(children.Length);
        var held = new List<HeldSummary>(count);
        for (var c = first; c < first + count; c++)
        {
            held.Add(Receive(children[c], level + 1, c));
        }

        return Rebuild(level, index, level < 0 ? NationId : _ids[level][index], [], held, path);
    }

    private SignedSummary BuildCounty(int county, bool villagesAsNodes, TreePath? path)
    {
        var (first, count) = shape.ChildrenOf(2, county).GetOffsetAndLength(shape.Counts[Township]);
        var held = new List<HeldSummary>(count);
        for (var township = first; township < first + count; township++)
        {
            held.Add(Receive(BuildTownship(township, villagesAsNodes, path), Township, township));
        }

        return Rebuild(2, county, _ids[2][county], [], held, path);
    }

    private SignedSummary BuildTownship(int township, bool villagesAsNodes, TreePath? path)
    {
        var (first, count) = shape.ChildrenOf(Township, township).GetOffsetAndLength(shape.VillageCount);
        var hosted = new List<StoredReportInput>(villagesAsNodes ? 0 : count);
        var held = new List<HeldSummary>(villagesAsNodes ? count : 0);
        var townshipId = _ids[Township][township];
        for (var village = first; village < first + count; village++)
        {
            var id = VillageId(townshipId, village, first);
            var report = reports.Bytes(village, id);
            var unit = SummaryWork.Hosted(id, report, _reportDigests!.AsSpan(village * Sha256Bytes, Sha256Bytes).ToArray());
            if (villagesAsNodes)
            {
                var signed = Rebuild(Village, village, id, [unit], [], path);
                held.Add(Receive(signed, Village, village));
            }
            else
            {
                hosted.Add(unit);
            }
        }

        return Rebuild(Township, township, townshipId, hosted, held, path);
    }

    private HeldSummary Receive(SignedSummary signed, int level, int index)
    {
        Interlocked.Increment(ref _verifyCount);
        Interlocked.Add(ref _verifiedBytes, SummaryWork.PrefixByteCount + signed.SummaryBytes.Length);
        return work.Receive(signed, keys.For(level, index).PublicKeyBytes);
    }

    private SignedSummary Rebuild(int level, int index, string id, IReadOnlyList<StoredReportInput> hosted, List<HeldSummary> held, TreePath? path)
    {
        var signed = work.Rebuild(id, s_tiers[level + 1], 0, hosted, held, keys.For(level, index));
        Interlocked.Increment(ref _signCount);
        Interlocked.Add(ref _signedBytes, SummaryWork.PrefixByteCount + signed.SummaryBytes.Length);
        if (path is not null && path.Indexes[level + 1] == index)
        {
            path.Held[level + 1] = held;
            path.Versions[level + 1] = SummaryWork.VersionOf(signed);
        }

        return signed;
    }

    private string VillageId(string townshipId, int village, int firstVillage) => shape.ChildId(townshipId, Village, village, firstVillage);

    private const int Sha256Bytes = 32;

    private byte[] ReportDigests()
    {
        var digests = new byte[shape.VillageCount * Sha256Bytes];
        Parallel.For(0, shape.Counts[Township], township =>
        {
            var (first, count) = shape.ChildrenOf(Township, township).GetOffsetAndLength(shape.VillageCount);
            for (var village = first; village < first + count; village++)
            {
                var report = reports.Bytes(village, VillageId(_ids[Township][township], village, first));
                System.Security.Cryptography.SHA256.HashData(report, digests.AsSpan(village * Sha256Bytes, Sha256Bytes));
            }
        });
        return digests;
    }

    /// <summary>Ids of provinces, cities, counties and townships (villages are named when built).</summary>
    private static string[][] BuildIds(TreeShape shape)
    {
        var ids = new string[Village][];
        ids[0] = [.. Enumerable.Range(0, shape.Counts[0]).Select(p => shape.ChildId(string.Empty, 0, p, 0))];
        for (var level = 1; level < Village; level++)
        {
            var parents = ids[level - 1];
            ids[level] = new string[shape.Counts[level]];
            for (var parent = 0; parent < parents.Length; parent++)
            {
                var (first, count) = shape.ChildrenOf(level - 1, parent).GetOffsetAndLength(shape.Counts[level]);
                for (var child = first; child < first + count; child++)
                {
                    ids[level][child] = shape.ChildId(parents[parent], level, child, first);
                }
            }
        }

        return ids;
    }
}

/// <summary>
/// The nodes from the nation down to one village (index 0 the nation, then province … village): their
/// indexes, ids, the child summaries each holds and the version each last signed.
/// </summary>
internal sealed record TreePath(int[] Indexes, string[] Ids, List<HeldSummary>[] Held, ulong[] Versions);
