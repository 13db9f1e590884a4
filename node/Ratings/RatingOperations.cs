using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Ratings;
using Federation.Aggregator.Reports;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Federation.Node.Ratings;

/// <summary>The year's statement after a change of scores, and whether a new version was signed.</summary>
internal sealed record RatingChange(SignedRatingStatement Statement, bool Changed);

/// <summary>A statement as read: the document, the version before it, and a unit's cited scores when asked.</summary>
internal sealed record StatementView(RatingStatementDocument Document, long PreviousVersion, byte[] UnitScoresBytes);

/// <summary>A page of consecutive-year flags and the two statements they compare.</summary>
internal sealed record FlagPage(IReadOnlyList<RatingFlag> Flags, string NextPageToken, ulong StatementVersion, ulong PreviousYearStatementVersion);

/// <summary>
/// Star rating of the units directly below this node: checks entered scores against the scheme, stores them
/// and, in the same transaction, computes, signs and keeps the year's new statement and marks the year's
/// summary for rebuild, so that its star histogram travels upward. The arithmetic is the core's
/// (<see cref="StarRating"/>); this class only gathers its inputs and keeps its outputs.
/// </summary>
internal sealed class RatingOperations(
    RatingSchemeIndex scheme, StoreWriter writer, NodeStore store, NodeIdentity identity, IOptions<RatingOptions> options, TimeProvider time)
{
    /// <summary>The label of a child that has sent no summary yet, so its tier is not known here.</summary>
    public const string UnknownTier = "unknown";

    private readonly string _hostedUnitTier = options.Value.HostedUnitTier;

    public RatingSchemeIndex Scheme => scheme;

    /// <summary>Stores the entries (all or none) and signs the year's new statement when anything changed.</summary>
    public async Task<Outcome<RatingChange>> SetScoresAsync(string year, IReadOnlyList<ScoreEntry> entries, string account, CancellationToken cancellationToken)
    {
        var validation = ScoreEntries.Validate(scheme, year, entries, time.GetUtcNow());
        if (!validation.IsValid)
        {
            return Rejection.Of(validation.Violations, validation.OmittedViolationCount);
        }

        var rated = validation.Year;
        var canonical = rated.ToString();
        return await writer.ExecuteAsync<Outcome<RatingChange>>(context =>
        {
            var s = context.Store;
            var below = DirectlyBelow(s, rated);
            var strangers = entries.Select(static (e, i) => (e.UnitId, Index: i)).Where(e => !below.ContainsKey(e.UnitId))
                .Select(e => new FieldViolation(string.Create(CultureInfo.InvariantCulture, $"units[{e.Index}].unit_id"), RejectionReason.NotDirectlyBelow,
                    $"unit '{e.UnitId}' is not directly below node {identity.NodeId} in {canonical}: a node rates its hosted units (active in the year) and its enrolled children."))
                .ToList();
            if (strangers.Count > 0)
            {
                return Rejection.Of([.. strangers.Take(ReportValidator.MaxListedViolations)], Math.Max(0, strangers.Count - ReportValidator.MaxListedViolations));
            }

            var now = context.UtcNow();
            var changed = false;
            foreach (var entry in entries)
            {
                changed |= Store(s, entry, rated, account, now);
            }

            var current = s.CurrentStatement(canonical);
            if (!changed && current is not null)
            {
                return new RatingChange(current.ToSigned(), Changed: false);
            }

            var signed = Rate(s, rated, below, account, now, current);
            if (signed is null)
            {
                return new RatingChange(current!.ToSigned(), Changed: false);
            }

            context.MarkDirty(canonical);
            return new RatingChange(signed.ToSigned(), Changed: true);
        }, cancellationToken);
    }

    /// <summary>A statement of a year: the current one (version 0) or the version asked, with a unit's cited scores when asked.</summary>
    public Outcome<StatementView> Get(string year, ulong version, string unitId)
    {
        if (CheckYear(year, out var canonical) is { } bad)
        {
            return bad;
        }

        return store.Read<Outcome<StatementView>>(s =>
        {
            var document = version == 0 ? s.CurrentStatement(canonical)
                : version > long.MaxValue ? null : s.RatingStatements().ById(RatingStatementDocument.KeyOf(canonical, (long)version));
            if (document is null)
            {
                return Rejection.Of(RejectionReason.NoFigures, version == 0
                    ? $"node {identity.NodeId} has rated nobody for {canonical}."
                    : string.Create(CultureInfo.InvariantCulture, $"node {identity.NodeId} has no statement version {version} for {canonical}."), version == 0 ? "year" : "version");
            }

            var previous = s.PreviousStatementVersion(canonical, document.Version);
            var scores = Array.Empty<byte>();
            if (unitId.Length > 0 && RatingStatement.Parser.ParseFrom(document.StatementBytes).Units.FirstOrDefault(u => u.UnitId == unitId) is { } unit)
            {
                scores = s.ScoresByDigest(canonical, unitId, unit.ScoresDigest.Span)?.Bytes ?? [];
            }

            return new StatementView(document, previous, scores);
        });
    }

    /// <summary>The consecutive-year flags of a year against the year before, sorted by unit id, after <paramref name="pageToken"/>.</summary>
    public Outcome<FlagPage> Flags(string year, int pageSize, string pageToken)
    {
        if (CheckYear(year, out var canonical) is { } bad)
        {
            return bad;
        }

        var parsed = Period.Parse(canonical);
        var (current, previous) = store.Read(s => (s.CurrentStatement(canonical), parsed.Year > 1 ? s.CurrentStatement(parsed.Previous().ToString()) : null));
        if (current is null)
        {
            return Rejection.Of(RejectionReason.NoFigures, $"node {identity.NodeId} has rated nobody for {canonical}.", "year");
        }

        if (previous is null)
        {
            return new FlagPage([], string.Empty, (ulong)current.Version, 0);
        }

        var all = RatingFlags.Between(RatingStatement.Parser.ParseFrom(previous.StatementBytes), RatingStatement.Parser.ParseFrom(current.StatementBytes))
            .Where(f => string.CompareOrdinal(f.UnitId, pageToken) > 0)
            .ToList();
        var page = all.Take(pageSize).ToList();
        return new FlagPage(page, all.Count > pageSize ? page[^1].UnitId : string.Empty, (ulong)current.Version, (ulong)previous.Version);
    }

    /// <summary>The hosted units active in the year and the enrolled children, with the tier label their stars count under.</summary>
    private Dictionary<string, string> DirectlyBelow(NodeStore s, Period year)
    {
        var below = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var unit in s.Units.FindAll().Where(u => UnitRules.IsExpected(u.RetiredFromPeriod, year)))
        {
            below[unit.Id] = _hostedUnitTier;
        }

        foreach (var child in s.Children.FindAll())
        {
            below[child.Id] = TierOf(s, child.Id);
        }

        return below;
    }

    /// <summary>A child's tier as a summary it sent states it; <see cref="UnknownTier"/> before its first, or for a label a parent would refuse.</summary>
    private static string TierOf(NodeStore s, string childId)
    {
        var held = s.AnySummaryOf(childId);
        var tier = held is null ? string.Empty : Summary.Parser.ParseFrom(held.SummaryBytes).Tier;
        return tier.Length is 0 or > StarHistograms.MaxTierLength || tier.Any(char.IsControl) ? UnknownTier : tier;
    }

    /// <summary>Applies one entry to the unit's stored scores; true when they changed. Runs inside the writer's transaction.</summary>
    private static bool Store(NodeStore s, ScoreEntry entry, Period year, string account, DateTimeOffset now)
    {
        var key = RatingScoresDocument.KeyOf(year.ToString(), entry.UnitId);
        var stored = s.RatingScores().ById(key);
        var previous = stored is null ? null : UnitScores.Parser.ParseFrom(stored.Bytes);
        var next = ScoreEntries.Apply(previous, entry, year);
        var empty = next.Assessments.Count == 0 && next.Adjustments.Count == 0;
        if (ScoreEntries.SameScores(previous, next) || (previous is null && empty))
        {
            return false;
        }

        if (stored is not null)
        {
            // Kept by digest: older statements cite it, and their units' scores must still be readable.
            s.RatingScoreHistory().Upsert(stored.ToHistory());
        }

        if (empty)
        {
            // Nothing left entered: the unit is unrated again, not rated at zero.
            s.RatingScores().Delete(key);
            return true;
        }

        next.Version = (ulong)((stored?.Version ?? 0) + 1);
        next.UpdateTime = Timestamp.FromDateTimeOffset(now);
        next.Account = account;
        var bytes = next.ToByteArray();
        s.RatingScores().Upsert(new RatingScoresDocument
        {
            Id = key,
            UnitId = entry.UnitId,
            Year = year.ToString(),
            Version = (long)next.Version,
            Bytes = bytes,
            Digest = Digests.Sha256(bytes),
            UpdateTicks = now.UtcTicks,
        });
        return true;
    }

    /// <summary>Computes and signs the year's statement from every stored score; null when it would equal the current one but for version and time.</summary>
    private RatingStatementDocument? Rate(
        NodeStore s, Period year, Dictionary<string, string> below, string account, DateTimeOffset now, RatingStatementDocument? current)
    {
        var canonical = year.ToString();
        var scored = s.ScoresOf(canonical).Where(d => below.ContainsKey(d.UnitId)).ToList();
        var points = scored.Select(d => UnitPoints.From(UnitScores.Parser.ParseFrom(d.Bytes), below[d.UnitId], d.Digest)).ToList();
        var unrated = below.Keys.Except(scored.Select(static d => d.UnitId), StringComparer.Ordinal).ToList();
        var version = VersionRules.NextVersion((ulong)(current?.Version ?? 0), now);
        var statement = StarRating.Rate(new RatingInputs(identity.NodeId, identity.Tier, year, version, now, account, scheme, points, unrated));
        if (current is not null && SameContent(statement, RatingStatement.Parser.ParseFrom(current.StatementBytes)))
        {
            return null;
        }

        var signed = SignedMessages.SignRatingStatement(statement, identity.Key);
        var document = new RatingStatementDocument
        {
            Id = RatingStatementDocument.KeyOf(canonical, (long)version),
            Year = canonical,
            Version = (long)version,
            StatementBytes = signed.StatementBytes.ToByteArray(),
            Signature = signed.Signature.ToByteArray(),
            KeyId = signed.KeyId,
            Digest = Digests.Sha256(signed.StatementBytes.Span),
            RateTicks = now.UtcTicks,
        };
        s.RatingStatements().Insert(document);
        return document;
    }

    /// <summary>True when two statements differ at most in version, time and account: the same scores, the same result.</summary>
    private static bool SameContent(RatingStatement rated, RatingStatement current)
    {
        var comparable = rated.Clone();
        comparable.Version = current.Version;
        comparable.RateTime = current.RateTime;
        comparable.Account = current.Account;
        return comparable.Equals(current);
    }

    private static Rejection? CheckYear(string year, out string canonical)
    {
        canonical = string.Empty;
        if (Aggregator.Identifiers.NodeIds.CheckPeriod(year, "year", out var period) is { } bad)
        {
            return Rejection.Of(bad);
        }

        if (period.Type != PeriodType.Year)
        {
            return Rejection.Of(RejectionReason.WrongPeriodType, $"year '{period}' is not a year; ratings are per year, e.g. {period.Year}.", "year");
        }

        canonical = period.ToString();
        return null;
    }
}

/// <summary>Reads the scheme a node rates by, refusing a bad one in one line.</summary>
internal static class RatingSchemeFile
{
    /// <summary>The default scheme for an empty path; otherwise the file's, checked.</summary>
    public static RatingSchemeIndex Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return RatingSchemeIndex.Default;
        }

        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RatingSchemeException($"Ratings:SchemePath {path} cannot be read: {ex.Message}");
        }

        return RatingSchemeIndex.TryParseJson(json, out var index, out var problem)
            ? index
            : throw new RatingSchemeException($"Ratings:SchemePath {path} is not a valid rating scheme: {problem}");
    }
}

/// <summary>A rating scheme the node cannot rate by; its message is the one line `serve` prints.</summary>
internal sealed class RatingSchemeException(string message) : Exception(message);
