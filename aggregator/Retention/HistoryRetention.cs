namespace Federation.Aggregator.Retention;

/// <summary>
/// One stored version of a report or a child's summary for a period: whose it is (the unit or the child),
/// its digest (lower-case hex SHA-256 of its bytes, as signed summaries cite it), when it was stored, and
/// whether it is the current one (the one totals are made of) or a replaced one kept in the history.
/// </summary>
public sealed record StoredVersion(string SourceId, string Digest, DateTimeOffset StoredAt, bool IsCurrent);

/// <summary>
/// One of the node's own signed summaries of a period: its digest, when it was built, whether it is the
/// current one, and the digests of the reports and child summaries it cites (its contributions).
/// </summary>
public sealed record OwnSummaryVersion(string Digest, DateTimeOffset BuiltAt, bool IsCurrent, IReadOnlyCollection<string> CitedDigests);

/// <summary>Everything the retention rule looks at for one period of one node.</summary>
/// <param name="Now">The instant of the decision.</param>
/// <param name="KeepReplacedFor">A version replaced less than this long ago is kept whatever else holds.</param>
/// <param name="ParentMayHoldAnyVersion">
/// True while the parent may hold any of the node's versions of the period: its newest version is not yet
/// acknowledged (an outbox row waits, or was refused). Once the parent acknowledged the current version, that
/// is the one it holds, and the one it cites.
/// </param>
/// <param name="OwnSummaries">The node's own summaries of the period, current and replaced.</param>
/// <param name="Reports">Reports of hosted units for the period, current and replaced.</param>
/// <param name="ChildSummaries">Summaries held for children for the period, current and replaced.</param>
/// <param name="Pinned">Digests kept whatever their age: a child summary an equivocation record holds as evidence.</param>
public sealed record RetentionInputs(
    DateTimeOffset Now,
    TimeSpan KeepReplacedFor,
    bool ParentMayHoldAnyVersion,
    IReadOnlyList<OwnSummaryVersion> OwnSummaries,
    IReadOnlyList<StoredVersion> Reports,
    IReadOnlyList<StoredVersion> ChildSummaries,
    IReadOnlySet<string> Pinned);

/// <summary>The replaced versions the rule lets go, by digest; everything else is kept.</summary>
public sealed record RetentionDecision(IReadOnlyList<string> OwnSummaryDigests, IReadOnlyList<string> ReportDigests, IReadOnlyList<string> ChildSummaryDigests)
{
    public int Count => OwnSummaryDigests.Count + ReportDigests.Count + ChildSummaryDigests.Count;
}

/// <summary>
/// Which replaced versions a node keeps. Pure: the caller passes what it stores for one period and the instant.
/// </summary>
/// <remarks>
/// <para>The rule keeps every version a proof can still be asked for, and lets the rest go once it has been
/// replaced for <see cref="RetentionInputs.KeepReplacedFor"/>. A node's own summary is kept when it is the current
/// one, when the parent may hold any version of the period (the newest is not acknowledged yet), or when it was
/// replaced recently. A report or child summary is kept when it is current, when a kept own summary cites it
/// (so that the proof of every kept summary still resolves to the bytes it cites), when it is pinned, or when
/// it was replaced recently.</para>
/// <para>A version is replaced when the next version of the same source (unit, child, or the node itself) is
/// stored; a version with no later one (a withdrawn report, a child summary set aside) has no known replacement
/// time and is kept. When a later version is itself gone, the one after it stands in, which only delays.</para>
/// <para>Laws (property-tested): current and pinned versions are never let go; nothing replaced less than
/// <c>KeepReplacedFor</c> ago is; every digest a kept own summary cites is kept; deciding again on what is left,
/// at the same instant, lets nothing more go; a later instant or a shorter <c>KeepReplacedFor</c> lets go a
/// superset.</para>
/// </remarks>
public static class HistoryRetention
{
    public static RetentionDecision Decide(RetentionInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.KeepReplacedFor < TimeSpan.Zero)
        {
            throw ThrowHelper.Argument(nameof(inputs), "KeepReplacedFor must not be negative.");
        }

        var ownReplaced = ReplacementTimes([.. inputs.OwnSummaries.Select(static s => new StoredVersion(string.Empty, s.Digest, s.BuiltAt, s.IsCurrent))]);
        var prunedOwn = new List<string>();
        var cited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var own in inputs.OwnSummaries)
        {
            if (own.IsCurrent || inputs.ParentMayHoldAnyVersion || inputs.Pinned.Contains(own.Digest) || Recent(ownReplaced.GetValueOrDefault(own.Digest), inputs))
            {
                cited.UnionWith(own.CitedDigests);
            }
            else
            {
                prunedOwn.Add(own.Digest);
            }
        }

        return new RetentionDecision(prunedOwn, Prunable(inputs.Reports, cited, inputs), Prunable(inputs.ChildSummaries, cited, inputs));
    }

    private static List<string> Prunable(IReadOnlyList<StoredVersion> versions, HashSet<string> cited, RetentionInputs inputs)
    {
        var replaced = ReplacementTimes(versions);
        return [.. versions
            .Where(v => !v.IsCurrent && !cited.Contains(v.Digest) && !inputs.Pinned.Contains(v.Digest) && !Recent(replaced.GetValueOrDefault(v.Digest), inputs))
            .Select(static v => v.Digest)];
    }

    /// <summary>True when the version must stay for its age: replaced less than KeepReplacedFor ago, or never known replaced.</summary>
    private static bool Recent(DateTimeOffset? replacedAt, RetentionInputs inputs) =>
        replacedAt is not { } at || inputs.Now - at < inputs.KeepReplacedFor;

    /// <summary>
    /// For each replaced version, when the next version of its source was stored (by time, the current one last
    /// among equal times; ties broken by digest, so the order is total). Current versions get none.
    /// </summary>
    private static Dictionary<string, DateTimeOffset?> ReplacementTimes(IReadOnlyList<StoredVersion> versions)
    {
        var times = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var source in versions.GroupBy(static v => v.SourceId, StringComparer.Ordinal))
        {
            var ordered = source.OrderBy(static v => v.StoredAt).ThenBy(static v => v.IsCurrent).ThenBy(static v => v.Digest, StringComparer.Ordinal).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                times[ordered[i].Digest] = ordered[i].IsCurrent || i + 1 == ordered.Count ? null : ordered[i + 1].StoredAt;
            }
        }

        return times;
    }
}
