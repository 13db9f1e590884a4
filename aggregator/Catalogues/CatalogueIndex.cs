using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Aggregator.Catalogues;

/// <summary>A validated catalogue with fast lookups. Immutable: build a new one for a new version.</summary>
public sealed class CatalogueIndex
{
    private readonly FrozenDictionary<string, Indicator> _byId;
    private readonly FrozenDictionary<PeriodType, uint> _dueDays;
    private readonly FrozenDictionary<PeriodType, IReadOnlyList<string>> _required;
    private Aggregation.AggregateLayout? _aggregateLayout;

    private CatalogueIndex(Catalogue catalogue)
    {
        Catalogue = catalogue;
        _byId = catalogue.Indicators.ToFrozenDictionary(static i => i.Id, StringComparer.Ordinal);
        _dueDays = catalogue.PeriodRules.ToFrozenDictionary(static r => r.PeriodType, static r => r.DueDaysAfterEnd);
        Indicators = [.. catalogue.Indicators];
        Ratios = [.. catalogue.Indicators.Where(static i => i.Kind == ValueKind.Ratio)];
        Rules = [.. catalogue.Rules];
        LedgerCategories = [.. catalogue.LedgerCategories];
        LedgerIndicators = catalogue.Indicators
            .Where(static i => i.LedgerCount != LedgerCount.Unspecified)
            .ToFrozenDictionary(static i => i.LedgerCount, static i => i.Id);
        _required = catalogue.Indicators
            .SelectMany(static i => i.RequiredFor.Select(t => (Type: t, i.Id)))
            .GroupBy(static p => p.Type)
            .ToFrozenDictionary(static g => g.Key, static g => (IReadOnlyList<string>)[.. g.Select(static p => p.Id)]);
    }

    /// <summary>The cross-indicator rules, in catalogue order.</summary>
    public IReadOnlyList<ValidationRule> Rules { get; }

    /// <summary>The |modified z-score| above which a value is an outlier.</summary>
    public double OutlierThreshold => Catalogue.OutlierThreshold > 0 ? Catalogue.OutlierThreshold : Reports.Outliers.DefaultThreshold;

    /// <summary>The indicators every report of a period type must hold, in display order.</summary>
    public IReadOnlyList<string> RequiredFor(PeriodType type) => _required.TryGetValue(type, out var ids) ? ids : [];

    /// <summary>The catalogue as received or shipped. Callers must not mutate it.</summary>
    public Catalogue Catalogue { get; }

    public uint Version => Catalogue.Version;

    /// <summary>All indicators in display order.</summary>
    public IReadOnlyList<Indicator> Indicators { get; }

    /// <summary>The derived RATIO indicators.</summary>
    public IReadOnlyList<Indicator> Ratios { get; }

    /// <summary>The categories of rectification ledger items, in display order.</summary>
    public IReadOnlyList<Category> LedgerCategories { get; }

    /// <summary>The indicators computed from the rectification ledger, by the count each is (at most one each).</summary>
    public IReadOnlyDictionary<LedgerCount, string> LedgerIndicators { get; }

    /// <summary>
    /// True for an indicator whose unit values come from the rectification ledger, not from reports: one marked
    /// <c>ledger_count</c>, or a ratio of such indicators. A unit may have ledger items without a report, so these
    /// are bounded by the leaves expected, not the leaves reported.
    /// </summary>
    public bool IsFromLedger(Indicator indicator)
    {
        ArgumentNullException.ThrowIfNull(indicator);
        return indicator.LedgerCount != LedgerCount.Unspecified ||
               (indicator.Kind == ValueKind.Ratio && indicator.Ratio is { } ratio &&
                (IsMarked(ratio.NumeratorIndicatorId) || IsMarked(ratio.DenominatorIndicatorId)));

        bool IsMarked(string id) => TryGet(id, out var part) && part.LedgerCount != LedgerCount.Unspecified;
    }

    /// <summary>The indicators numbered for merging (built on first use; the same for every caller).</summary>
    internal Aggregation.AggregateLayout AggregateLayout => _aggregateLayout ??= new Aggregation.AggregateLayout(this);

    /// <summary>The catalogue built from DOMAIN.md that ships with the product.</summary>
    public static CatalogueIndex Default { get; } = Create(LoadDefault());

    public bool TryGet(string indicatorId, [NotNullWhen(true)] out Indicator? indicator) =>
        _byId.TryGetValue(indicatorId, out indicator);

    public Indicator Get(string indicatorId) =>
        TryGet(indicatorId, out var indicator) ? indicator : throw ThrowHelper.Argument(nameof(indicatorId), $"Unknown indicator '{indicatorId}'.");

    /// <summary>Days after a period's end within which reports are on time; null when the catalogue sets none.</summary>
    public uint? DueDaysAfterEnd(PeriodType type) => _dueDays.TryGetValue(type, out var days) ? days : null;

    /// <summary>Parses a catalogue from its proto JSON form and validates it.</summary>
    public static CatalogueIndex ParseJson(string json) =>
        Create(new JsonParser(JsonParser.Settings.Default.WithIgnoreUnknownFields(false)).Parse<Catalogue>(json));

    /// <summary>Validates a catalogue; throws when it is inconsistent, because a catalogue is configuration.</summary>
    public static CatalogueIndex Create(Catalogue catalogue)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var indicator in catalogue.Indicators)
        {
            if (string.IsNullOrWhiteSpace(indicator.Id) || !ids.Add(indicator.Id))
            {
                throw ThrowHelper.InvalidCatalogue($"indicator id '{indicator.Id}' is empty or repeated.");
            }

            if (indicator.Kind == ValueKind.Unspecified)
            {
                throw ThrowHelper.InvalidCatalogue($"indicator '{indicator.Id}' has no kind.");
            }

            if (indicator.Kind == ValueKind.Category && indicator.Categories.Count == 0)
            {
                throw ThrowHelper.InvalidCatalogue($"category indicator '{indicator.Id}' lists no categories.");
            }

            if (indicator.Categories.Any(static c => c.PromotionTargetPercent > 100))
            {
                throw ThrowHelper.InvalidCatalogue($"indicator '{indicator.Id}' has a promotion target above 100%.");
            }

            if (indicator.Target is { } target &&
                (target.Comparison == Comparison.Unspecified || target.ThresholdDenominator <= 0 || target.ThresholdNumerator < 0))
            {
                throw ThrowHelper.InvalidCatalogue($"indicator '{indicator.Id}' has an invalid target.");
            }

            if (indicator.RequiredFor.Count > 0 && (indicator.Kind == ValueKind.Ratio || indicator.RequiredFor.Contains(PeriodType.Unspecified)))
            {
                throw ThrowHelper.InvalidCatalogue($"indicator '{indicator.Id}' cannot be required (a ratio, or an unspecified period type).");
            }

            // A ledger count is a number of items: a COUNT, computed, so never required of a report.
            if (indicator.LedgerCount != LedgerCount.Unspecified && (indicator.Kind != ValueKind.Count || indicator.RequiredFor.Count > 0))
            {
                throw ThrowHelper.InvalidCatalogue($"indicator '{indicator.Id}' is computed from the ledger: it must be a COUNT and cannot be required.");
            }
        }

        if (catalogue.Indicators.Where(static i => i.LedgerCount != LedgerCount.Unspecified).GroupBy(static i => i.LedgerCount).FirstOrDefault(static g => g.Count() > 1) is { } twice)
        {
            throw ThrowHelper.InvalidCatalogue($"more than one indicator is the ledger count {twice.Key}.");
        }

        var ledgerCodes = new HashSet<string>(StringComparer.Ordinal);
        if (catalogue.LedgerCategories.FirstOrDefault(c => string.IsNullOrWhiteSpace(c.Code) || !ledgerCodes.Add(c.Code)) is { } badCategory)
        {
            throw ThrowHelper.InvalidCatalogue($"ledger category code '{badCategory.Code}' is empty or repeated.");
        }

        var kinds = catalogue.Indicators.ToDictionary(static i => i.Id, static i => i.Kind, StringComparer.Ordinal);
        foreach (var ratio in catalogue.Indicators.Where(static i => i.Kind == ValueKind.Ratio))
        {
            if (ratio.Ratio is null ||
                kinds.GetValueOrDefault(ratio.Ratio.NumeratorIndicatorId) != ValueKind.Count ||
                kinds.GetValueOrDefault(ratio.Ratio.DenominatorIndicatorId) != ValueKind.Count)
            {
                throw ThrowHelper.InvalidCatalogue($"ratio '{ratio.Id}' must name two COUNT indicators.");
            }
        }

        CheckRules(catalogue, kinds);
        return new CatalogueIndex(catalogue);
    }

    private static void CheckRules(Catalogue catalogue, Dictionary<string, ValueKind> kinds)
    {
        if (double.IsNaN(catalogue.OutlierThreshold) || catalogue.OutlierThreshold < 0)
        {
            throw ThrowHelper.InvalidCatalogue("outlier_threshold must be 0 (the default) or positive.");
        }

        var ruleIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in catalogue.Rules)
        {
            // Only numbers compare; a category has no order and a ratio is not reported.
            static bool Comparable(ValueKind kind) => kind is ValueKind.Count or ValueKind.Measure;
            if (string.IsNullOrWhiteSpace(rule.Id) || !ruleIds.Add(rule.Id) ||
                !Comparable(kinds.GetValueOrDefault(rule.LeftIndicatorId)) || !Comparable(kinds.GetValueOrDefault(rule.RightIndicatorId)) ||
                rule.Comparison == Comparison.Unspecified || rule.Severity == RuleSeverity.Unspecified)
            {
                throw ThrowHelper.InvalidCatalogue($"rule '{rule.Id}' needs a unique id, two COUNT or MEASURE indicators, a comparison and a severity.");
            }
        }
    }

    private static Catalogue LoadDefault()
    {
        using var stream = typeof(CatalogueIndex).Assembly.GetManifestResourceStream("Federation.Aggregator.default-catalogue.json")
            ?? throw ThrowHelper.InvalidOperation("The default catalogue is not embedded.");
        using var reader = new StreamReader(stream);
        return new JsonParser(JsonParser.Settings.Default).Parse<Catalogue>(reader.ReadToEnd());
    }
}
