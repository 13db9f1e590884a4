using Federation.Protos.V1;

namespace Federation.Aggregator.Reports;

/// <summary>The values a submission stores, given the previous version and the mode, and what it would drop.</summary>
/// <param name="Values">The values to store, sorted by indicator id.</param>
/// <param name="DroppedIndicatorIds">Indicators of the previous version a strict submission leaves out, sorted; empty otherwise.</param>
public sealed record MergedReport(IReadOnlyList<IndicatorValue> Values, IReadOnlyList<string> DroppedIndicatorIds);

/// <summary>
/// What a report is: the whole of a unit's figures for a period. A submission either states the whole
/// again (strict, replace) or updates the previous version (update). Pure.
/// </summary>
public static class ReportMerge
{
    /// <summary>
    /// The values to store. <paramref name="previous"/> is the previous version's values (empty for a first
    /// report); <paramref name="submitted"/> the validated values, sorted by indicator id.
    /// </summary>
    public static MergedReport Apply(SubmitMode mode, IReadOnlyList<IndicatorValue> previous, IReadOnlyList<IndicatorValue> submitted)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(submitted);
        if (mode == SubmitMode.Update)
        {
            var merged = previous.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal);
            foreach (var value in submitted)
            {
                merged[value.IndicatorId] = value;
            }

            return new MergedReport([.. merged.Values.OrderBy(static v => v.IndicatorId, StringComparer.Ordinal)], []);
        }

        if (mode == SubmitMode.Replace)
        {
            return new MergedReport(submitted, []);
        }

        var given = submitted.Select(static v => v.IndicatorId).ToHashSet(StringComparer.Ordinal);
        var dropped = previous.Select(static v => v.IndicatorId).Where(id => !given.Contains(id)).Order(StringComparer.Ordinal).ToList();
        return new MergedReport(submitted, dropped);
    }

    /// <summary>The refusal of a strict correction that would drop indicators, naming them (bounded).</summary>
    public static FieldViolation DroppedViolation(IReadOnlyList<string> droppedIndicatorIds)
    {
        ArgumentNullException.ThrowIfNull(droppedIndicatorIds);
        return new("values", RejectionReason.FieldsDropped, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"values leave out {droppedIndicatorIds.Count} indicator(s) the previous version had: {ReportRules.Names(droppedIndicatorIds)}; a report states all of the unit's figures: send them all, or set mode to SUBMIT_MODE_UPDATE (merge) or SUBMIT_MODE_REPLACE (drop them)."));
    }

    /// <summary>Every indicator whose value differs between the two versions, sorted by indicator id.</summary>
    public static IReadOnlyList<FieldChange> Diff(IReadOnlyList<IndicatorValue> previous, IReadOnlyList<IndicatorValue> current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        var before = previous.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal);
        var after = current.ToDictionary(static v => v.IndicatorId, StringComparer.Ordinal);
        var changes = new List<FieldChange>();
        foreach (var id in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var old = before.GetValueOrDefault(id);
            var @new = after.GetValueOrDefault(id);
            if (old is not null && @new is not null && old.Equals(@new))
            {
                continue;
            }

            var change = new FieldChange { IndicatorId = id };
            if (old is not null)
            {
                change.Old = old.Clone();
            }

            if (@new is not null)
            {
                change.New = @new.Clone();
            }

            changes.Add(change);
        }

        return changes;
    }
}
