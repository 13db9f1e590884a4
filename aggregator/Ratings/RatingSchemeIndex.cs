using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Federation.Aggregator.Identifiers;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Aggregator.Ratings;

/// <summary>
/// A validated rating scheme with lookups. Immutable. A scheme is configuration: <see cref="TryCreate"/>
/// says in one sentence what is wrong with a bad one, so that the node can refuse to start in one line.
/// </summary>
public sealed class RatingSchemeIndex
{
    /// <summary>Most scored items in a scheme (the documents' scheme has 54).</summary>
    public const int MaxItemCount = 200;

    /// <summary>Largest maximum of one item, and largest points of one adjustment occurrence, in tenths (1,000 points).</summary>
    public const int MaxItemTenths = 10_000;

    /// <summary>Most occurrences of one bonus or penalty item in a year.</summary>
    public const int MaxOccurrences = 10_000;

    /// <summary>Longest id or name in a scheme, in characters.</summary>
    private const int MaxTextLength = 200;

    private readonly FrozenDictionary<string, RatingItem> _items;
    private readonly FrozenDictionary<string, (AdjustmentItem Item, bool Penalty)> _adjustments;

    private RatingSchemeIndex(RatingScheme scheme)
    {
        Scheme = scheme;
        _items = scheme.Parts.SelectMany(static p => p.Items).ToFrozenDictionary(static i => i.Id, StringComparer.Ordinal);
        _adjustments = scheme.BonusItems.Select(static b => (b, false)).Concat(scheme.PenaltyItems.Select(static p => (p, true)))
            .ToFrozenDictionary(static a => a.Item1.Id, static a => a, StringComparer.Ordinal);
        Thresholds = [.. scheme.Thresholds];
        TieBreakers = [.. scheme.TieBreakers];
    }

    /// <summary>The scheme as loaded. Callers must not mutate it.</summary>
    public RatingScheme Scheme { get; }

    /// <summary>The star thresholds, five stars first.</summary>
    public IReadOnlyList<StarThreshold> Thresholds { get; }

    /// <summary>The tie breakers in order; the unit id comes after them.</summary>
    public IReadOnlyList<TieBreaker> TieBreakers { get; }

    /// <summary>The scheme built from DOMAIN.md and seed 004 that ships with the product.</summary>
    public static RatingSchemeIndex Default { get; } = LoadDefault();

    public bool TryGetItem(string itemId, [NotNullWhen(true)] out RatingItem? item) => _items.TryGetValue(itemId, out item);

    /// <summary>A bonus or penalty item, and whether it is a penalty.</summary>
    public bool TryGetAdjustment(string itemId, [NotNullWhen(true)] out AdjustmentItem? item, out bool penalty)
    {
        var found = _adjustments.TryGetValue(itemId, out var entry);
        (item, penalty) = found ? (entry.Item, entry.Penalty) : (null, false);
        return found;
    }

    /// <summary>Parses a scheme from its proto JSON form and checks it; <paramref name="problem"/> says what is wrong otherwise.</summary>
    public static bool TryParseJson(string json, [NotNullWhen(true)] out RatingSchemeIndex? index, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(json);
        RatingScheme scheme;
        try
        {
            scheme = new JsonParser(JsonParser.Settings.Default.WithIgnoreUnknownFields(false)).Parse<RatingScheme>(json);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            index = null;
            problem = "not a rating scheme in proto JSON: " + ex.Message;
            return false;
        }

        return TryCreate(scheme, out index, out problem);
    }

    /// <summary>Checks a scheme; <paramref name="problem"/> is one sentence naming the first rule it breaks.</summary>
    public static bool TryCreate(RatingScheme scheme, [NotNullWhen(true)] out RatingSchemeIndex? index, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        problem = Check(scheme);
        index = problem is null ? new RatingSchemeIndex(scheme.Clone()) : null;
        return problem is null;
    }

    private static string? Check(RatingScheme scheme)
    {
        if (!IsId(scheme.Id) || scheme.Version == 0)
        {
            return "the scheme needs an id (letters, digits, '-', '_', '.') and a version of 1 or more.";
        }

        if (scheme.Parts.Count == 0)
        {
            return "the scheme has no parts.";
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        var itemCount = 0;
        foreach (var part in scheme.Parts)
        {
            if (!IsId(part.Id) || !ids.Add(part.Id) || part.Items.Count == 0 || Long(part.NameZh, part.NameEn))
            {
                return $"part '{Echo.Of(part.Id)}' needs a unique id and at least one item.";
            }

            foreach (var item in part.Items)
            {
                if (!IsId(item.Id) || !ids.Add(item.Id) || Long(item.NameZh, item.NameEn))
                {
                    return $"item id '{Echo.Of(item.Id)}' is empty, not an id, or repeated (ids are unique across parts, items and bonus and penalty items).";
                }

                if (item.MaxTenths is < 1 or > MaxItemTenths)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"item '{item.Id}' has max_tenths {item.MaxTenths}; it must be 1 to {MaxItemTenths}.");
                }

                itemCount++;
            }
        }

        if (itemCount > MaxItemCount)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the scheme has {itemCount} items; at most {MaxItemCount} are allowed.");
        }

        var weights = scheme.Weights ?? new SourceWeights();
        if ((ulong)weights.MonthlyPercent + weights.QuarterlyPercent + weights.AnnualPercent != 100)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"the weights add up to {(ulong)weights.MonthlyPercent + weights.QuarterlyPercent + weights.AnnualPercent} (monthly {weights.MonthlyPercent} + quarterly {weights.QuarterlyPercent} + annual {weights.AnnualPercent}); they must add up to 100.");
        }

        foreach (var adjustment in scheme.BonusItems.Concat(scheme.PenaltyItems))
        {
            if (!IsId(adjustment.Id) || !ids.Add(adjustment.Id) || Long(adjustment.NameZh, adjustment.NameEn))
            {
                return $"bonus or penalty item id '{Echo.Of(adjustment.Id)}' is empty, not an id, or repeated.";
            }

            if (adjustment.TenthsPerOccurrence is < 1 or > MaxItemTenths || adjustment.CapTenths < 0)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"bonus or penalty item '{adjustment.Id}' needs tenths_per_occurrence of 1 to {MaxItemTenths} and a cap_tenths of 0 (uncapped) or more.");
            }
        }

        if (scheme.BonusCapTenths < 0)
        {
            return "bonus_cap_tenths must be 0 (no overall cap) or more.";
        }

        return CheckThresholds(scheme) ?? CheckQuotasAndTies(scheme);
    }

    private static string? CheckThresholds(RatingScheme scheme)
    {
        var stars = scheme.Thresholds.Select(static t => t.Stars).ToList();
        if (!stars.SequenceEqual([5u, 4u, 3u, 2u, 1u]))
        {
            return $"thresholds must list 5, 4, 3, 2 and 1 stars in that order, not [{string.Join(", ", stars)}].";
        }

        for (var i = 1; i < scheme.Thresholds.Count; i++)
        {
            if (scheme.Thresholds[i].MinTotalTenths >= scheme.Thresholds[i - 1].MinTotalTenths)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"thresholds must descend: {scheme.Thresholds[i].Stars} stars need {scheme.Thresholds[i].MinTotalTenths} tenths, not less than {scheme.Thresholds[i - 1].Stars} stars' {scheme.Thresholds[i - 1].MinTotalTenths}.");
            }
        }

        return null;
    }

    private static string? CheckQuotasAndTies(RatingScheme scheme)
    {
        var quotas = scheme.Quotas ?? new StarQuotas();
        if ((quotas.HasFiveStarMaxPercent && quotas.FiveStarMaxPercent > 100) || quotas.ThreeOrBelowMinPercent > 100)
        {
            return "quota percents must be 0 to 100.";
        }

        if (scheme.TieBreakers.Contains(TieBreaker.Unspecified) || scheme.TieBreakers.Distinct().Count() != scheme.TieBreakers.Count)
        {
            return "tie_breakers must name ANNUAL, QUARTERLY or MONTHLY, each at most once.";
        }

        return null;
    }

    private static bool IsId(string id) => NodeIds.IsValid(id);

    private static bool Long(string zh, string en) => zh.Length > MaxTextLength || en.Length > MaxTextLength;

    private static RatingSchemeIndex LoadDefault()
    {
        using var stream = typeof(RatingSchemeIndex).Assembly.GetManifestResourceStream("Federation.Aggregator.default-rating-scheme.json")
            ?? throw ThrowHelper.InvalidOperation("The default rating scheme is not embedded.");
        using var reader = new StreamReader(stream);
        return TryParseJson(reader.ReadToEnd(), out var index, out var problem)
            ? index
            : throw ThrowHelper.InvalidOperation("The default rating scheme is invalid: " + problem);
    }
}
