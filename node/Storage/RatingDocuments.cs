using System.Globalization;
using Federation.Protos.V1;
using Google.Protobuf;
using LiteDB;

namespace Federation.Node.Storage;

/// <summary>
/// A unit's current scores for a year (id "year|unit", so that a year's scores are one id prefix), or a
/// replaced version in the history (id = digest hex). The bytes are the stored UnitScores a statement cites.
/// </summary>
internal sealed class RatingScoresDocument
{
    public string Id { get; set; } = string.Empty;

    public string UnitId { get; set; } = string.Empty;

    public string Year { get; set; } = string.Empty;

    public long Version { get; set; }

    /// <summary>The serialized UnitScores, whose SHA-256 the statement cites.</summary>
    public byte[] Bytes { get; set; } = [];

    public byte[] Digest { get; set; } = [];

    public long UpdateTicks { get; set; }

    public static string KeyOf(string year, string unitId) => year + "|" + unitId;

    /// <summary>The same document keyed by its digest, for the history.</summary>
    public RatingScoresDocument ToHistory() => History.KeyedByDigest((RatingScoresDocument)MemberwiseClone(), Digest, static (d, id) => d.Id = id);
}

/// <summary>
/// A signed rating statement, kept for good: id "year|version", the version zero-padded to 20 digits so that
/// a year's statements are one id prefix and sort oldest first. The bytes are exactly as signed.
/// </summary>
internal sealed class RatingStatementDocument
{
    public string Id { get; set; } = string.Empty;

    public string Year { get; set; } = string.Empty;

    public long Version { get; set; }

    public byte[] StatementBytes { get; set; } = [];

    public byte[] Signature { get; set; } = [];

    public string KeyId { get; set; } = string.Empty;

    public byte[] Digest { get; set; } = [];

    public long RateTicks { get; set; }

    public static string KeyOf(string year, long version) => year + "|" + version.ToString("D20", CultureInfo.InvariantCulture);

    /// <summary>The wire form, from the stored bytes.</summary>
    public SignedRatingStatement ToSigned() => new()
    {
        StatementBytes = ByteString.CopyFrom(StatementBytes),
        Signature = ByteString.CopyFrom(Signature),
        KeyId = KeyId,
    };
}

/// <summary>Collection names of star rating, fixed: renaming one is a migration. Ids are prefixes, so no index is needed.</summary>
internal static class RatingCollections
{
    public const string Scores = "rating_scores";
    public const string ScoreHistory = "rating_score_history";
    public const string Statements = "rating_statements";
}

/// <summary>Star-rating lookups over the store, for the writer and readers alike.</summary>
internal static class RatingLookups
{
    /// <summary>Each unit's current scores, by "year|unit".</summary>
    public static ILiteCollection<RatingScoresDocument> RatingScores(this NodeStore store) =>
        store.Database.GetCollection<RatingScoresDocument>(RatingCollections.Scores);

    /// <summary>Replaced scores, by digest.</summary>
    public static ILiteCollection<RatingScoresDocument> RatingScoreHistory(this NodeStore store) =>
        store.Database.GetCollection<RatingScoresDocument>(RatingCollections.ScoreHistory);

    /// <summary>Every signed statement, by "year|version".</summary>
    public static ILiteCollection<RatingStatementDocument> RatingStatements(this NodeStore store) =>
        store.Database.GetCollection<RatingStatementDocument>(RatingCollections.Statements);

    /// <summary>The current scores of every unit for a year.</summary>
    public static List<RatingScoresDocument> ScoresOf(this NodeStore store, string year) =>
        [.. store.RatingScores().Find(Query.StartsWith("_id", year + "|"))];

    /// <summary>
    /// The year's current (newest) statement; null when the node rated nobody that year. Ids sort by version, so
    /// only the last one of the year is read, however many versions are kept.
    /// </summary>
    public static RatingStatementDocument? CurrentStatement(this NodeStore store, string year) =>
        store.RatingStatements().Query().Where(IdsFrom(year + "|", year + "}")).OrderByDescending("_id").Limit(1).FirstOrDefault();

    /// <summary>The version of the year's statement before <paramref name="version"/>; 0 when it is the first.</summary>
    public static long PreviousStatementVersion(this NodeStore store, string year, long version) =>
        store.RatingStatements().Query().Where(IdsFrom(year + "|", RatingStatementDocument.KeyOf(year, version)))
            .OrderByDescending("_id").Limit(1).FirstOrDefault()?.Version ?? 0;

    /// <summary>One summary held from a child (the last by period id), or null when it has sent none.</summary>
    public static ChildSummaryDocument? AnySummaryOf(this NodeStore store, string childId) =>
        store.ChildSummaries.Query().Where(IdsFrom(childId + "|", childId + "}")).OrderByDescending("_id").Limit(1).FirstOrDefault();

    /// <summary>
    /// Ids from <paramref name="first"/> (inclusive) to <paramref name="end"/> (exclusive). "x|" to "x}" holds every id
    /// starting "x|" ('}' follows '|'). A range, not LIKE: LiteDB 5.0.21 reads nothing for a LIKE prefix walked in
    /// descending order (checked here), and the newest is the last id.
    /// </summary>
    private static BsonExpression IdsFrom(string first, string end) => Query.And(Query.GTE("_id", first), Query.LT("_id", end));

    /// <summary>A unit's scores with this digest, current or replaced.</summary>
    public static RatingScoresDocument? ScoresByDigest(this NodeStore store, string year, string unitId, ReadOnlySpan<byte> digest) =>
        store.RatingScores().ById(RatingScoresDocument.KeyOf(year, unitId)) is { } current && current.Digest.AsSpan().SequenceEqual(digest)
            ? current
            : store.RatingScoreHistory().ById(Convert.ToHexStringLower(digest));
}
