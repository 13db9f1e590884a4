using System.Globalization;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Protos.V1;

namespace Federation.Aggregator.Ratings;

/// <summary>One unit's change to its scores for a year, as a reviewer enters it.</summary>
/// <param name="UnitId">The rated unit.</param>
/// <param name="Assessments">Each replaces the stored assessment of its period; one without items removes it.</param>
/// <param name="Adjustments">When not null, replaces every stored bonus and penalty entry; null keeps them.</param>
/// <param name="Replace">The entry is the unit's whole scores for the year.</param>
public sealed record ScoreEntry(string UnitId, IReadOnlyList<Assessment> Assessments, IReadOnlyList<AdjustmentEntry>? Adjustments, bool Replace);

/// <summary>The outcome of checking a request's entries: the rated year, or what is wrong (capped).</summary>
public sealed record ScoreValidation(Period Year, IReadOnlyList<FieldViolation> Violations, int OmittedViolationCount)
{
    public bool IsValid => Violations.Count == 0;
}

/// <summary>
/// The rules for entered scores, checked before anything is stored, and how an entry changes what is
/// stored. Pure: the caller passes the instant ("has the period started?") and the previous scores.
/// </summary>
public static class ScoreEntries
{
    /// <summary>Most units in one request.</summary>
    public const int MaxUnits = 1_000;

    /// <summary>
    /// Checks the year and every entry against the scheme: ids, assessment periods (months and quarters of the
    /// year, or the year itself, started), items (known, once, 0 to their maximum), bonus and penalty items
    /// (known, once, 0 to <see cref="RatingSchemeIndex.MaxOccurrences"/>). Whether each unit is directly below
    /// the rating node is for the caller, which knows the node's units.
    /// </summary>
    public static ScoreValidation Validate(RatingSchemeIndex scheme, string year, IReadOnlyList<ScoreEntry> entries, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(entries);
        var violations = new List<FieldViolation>();
        if (CheckYear(year, now, out var rated) is { } badYear)
        {
            return new(default, [badYear], 0);
        }

        if (entries.Count == 0)
        {
            return new(rated, [new("units", RejectionReason.MissingField, "units is empty: name at least one unit to score.")], 0);
        }

        if (entries.Count > MaxUnits)
        {
            return new(rated, [new("units", RejectionReason.ValueTooLarge,
                string.Create(CultureInfo.InvariantCulture, $"units has {entries.Count} entries; at most {MaxUnits} in one request."))], 0);
        }

        var units = new HashSet<string>(StringComparer.Ordinal);
        for (var u = 0; u < entries.Count; u++)
        {
            var entry = entries[u];
            var prefix = string.Create(CultureInfo.InvariantCulture, $"units[{u}]");
            if (NodeIds.Check(entry.UnitId, prefix + ".unit_id") is { } badId)
            {
                violations.Add(badId);
                continue;
            }

            if (!units.Add(entry.UnitId))
            {
                violations.Add(new(prefix + ".unit_id", RejectionReason.DuplicateEntry, $"{prefix}.unit_id '{entry.UnitId}' appears more than once in the request."));
            }

            CheckAssessments(scheme, rated, entry, prefix, now, violations);
            CheckAdjustments(scheme, entry, prefix, violations);
        }

        var listed = violations.Take(ReportValidator.MaxListedViolations).ToList();
        return new(rated, listed, violations.Count - listed.Count);
    }

    /// <summary>Checks a rating year: a year (not a month, quarter or half) that has started.</summary>
    public static FieldViolation? CheckYear(string year, DateTimeOffset now, out Period rated)
    {
        if (NodeIds.CheckPeriod(year, "year", out rated) is { } badPeriod)
        {
            return badPeriod;
        }

        if (rated.Type != PeriodType.Year)
        {
            return new("year", RejectionReason.WrongPeriodType, $"year '{rated}' is not a year; ratings are per year, e.g. {rated.Year}.");
        }

        return rated.StartInstant > now ? new("year", RejectionReason.PeriodNotStarted, $"year {rated} has not started yet.") : null;
    }

    private static void CheckAssessments(RatingSchemeIndex scheme, Period year, ScoreEntry entry, string prefix, DateTimeOffset now, List<FieldViolation> violations)
    {
        var periods = new HashSet<string>(StringComparer.Ordinal);
        for (var a = 0; a < entry.Assessments.Count; a++)
        {
            var assessment = entry.Assessments[a];
            var field = string.Create(CultureInfo.InvariantCulture, $"{prefix}.assessments[{a}]");
            if (NodeIds.CheckPeriod(assessment.Period, field + ".period", out var period) is { } badPeriod)
            {
                violations.Add(badPeriod);
                continue;
            }

            if (period.Year != year.Year || period.Type is not (PeriodType.Month or PeriodType.Quarter or PeriodType.Year))
            {
                violations.Add(new(field + ".period", RejectionReason.WrongPeriodType,
                    $"{field}.period '{period}' is not a month or quarter of {year} nor {year} itself."));
                continue;
            }

            if (period.StartInstant > now)
            {
                violations.Add(new(field + ".period", RejectionReason.PeriodNotStarted, $"{field}.period {period} has not started yet."));
            }

            if (!periods.Add(period.ToString()))
            {
                violations.Add(new(field + ".period", RejectionReason.DuplicateEntry, $"{field}.period {period} appears more than once for unit '{entry.UnitId}'."));
            }

            var items = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < assessment.Items.Count; i++)
            {
                var score = assessment.Items[i];
                var itemField = string.Create(CultureInfo.InvariantCulture, $"{field}.items[{i}]");
                if (!scheme.TryGetItem(score.ItemId, out var item))
                {
                    violations.Add(new(itemField + ".item_id", RejectionReason.UnknownRatingItem,
                        $"{itemField}.item_id '{Echo.Of(score.ItemId)}' is not a scored item of rating scheme {scheme.Scheme.Id} v{scheme.Scheme.Version}."));
                    continue;
                }

                if (!items.Add(item.Id))
                {
                    violations.Add(new(itemField + ".item_id", RejectionReason.DuplicateEntry, $"{itemField}.item_id '{item.Id}' appears more than once in {period}."));
                }

                if (score.PointsTenths < 0)
                {
                    violations.Add(new(itemField + ".points_tenths", RejectionReason.NegativeValue,
                        string.Create(CultureInfo.InvariantCulture, $"{itemField}.points_tenths is {score.PointsTenths} for '{item.Id}'; scores are 0 or more.")));
                }
                else if (score.PointsTenths > item.MaxTenths)
                {
                    violations.Add(new(itemField + ".points_tenths", RejectionReason.PointsAboveMaximum,
                        string.Create(CultureInfo.InvariantCulture, $"{itemField}.points_tenths is {score.PointsTenths} for '{item.Id}'; its maximum is {item.MaxTenths} tenths ({Points(item.MaxTenths)} points).")));
                }
            }
        }
    }

    private static void CheckAdjustments(RatingSchemeIndex scheme, ScoreEntry entry, string prefix, List<FieldViolation> violations)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (entry.Adjustments?.Count ?? 0); i++)
        {
            var adjustment = entry.Adjustments![i];
            var field = string.Create(CultureInfo.InvariantCulture, $"{prefix}.adjustments.entries[{i}]");
            if (!scheme.TryGetAdjustment(adjustment.ItemId, out var item, out _))
            {
                violations.Add(new(field + ".item_id", RejectionReason.UnknownRatingItem,
                    $"{field}.item_id '{Echo.Of(adjustment.ItemId)}' is not a bonus or penalty item of rating scheme {scheme.Scheme.Id} v{scheme.Scheme.Version}."));
                continue;
            }

            if (!seen.Add(item.Id))
            {
                violations.Add(new(field + ".item_id", RejectionReason.DuplicateEntry, $"{field}.item_id '{item.Id}' appears more than once."));
            }

            if (adjustment.Count < 0)
            {
                violations.Add(new(field + ".count", RejectionReason.NegativeValue,
                    string.Create(CultureInfo.InvariantCulture, $"{field}.count is {adjustment.Count} for '{item.Id}'; occurrences are 0 or more.")));
            }
            else if (adjustment.Count > RatingSchemeIndex.MaxOccurrences)
            {
                violations.Add(new(field + ".count", RejectionReason.ValueTooLarge,
                    string.Create(CultureInfo.InvariantCulture, $"{field}.count is {adjustment.Count} for '{item.Id}'; at most {RatingSchemeIndex.MaxOccurrences} occurrences a year.")));
            }
        }
    }

    /// <summary>
    /// What a valid entry makes of the stored scores (null: none yet). Assessments are keyed by their canonical
    /// period and sorted by it (ordinal), their items by id; adjustments by item id, without zero counts.
    /// Version, time and account are the caller's to set.
    /// </summary>
    public static UnitScores Apply(UnitScores? previous, ScoreEntry entry, Period year)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var assessments = new SortedDictionary<string, Assessment>(StringComparer.Ordinal);
        if (previous is not null && !entry.Replace)
        {
            foreach (var stored in previous.Assessments)
            {
                assessments[stored.Period] = stored;
            }
        }

        foreach (var assessment in entry.Assessments)
        {
            var period = Period.Parse(assessment.Period).ToString();
            if (assessment.Items.Count == 0)
            {
                assessments.Remove(period);
                continue;
            }

            var sorted = new Assessment { Period = period };
            sorted.Items.AddRange(assessment.Items.OrderBy(static i => i.ItemId, StringComparer.Ordinal).Select(static i => i.Clone()));
            assessments[period] = sorted;
        }

        IEnumerable<AdjustmentEntry> adjustments = entry.Adjustments ?? (entry.Replace ? [] : previous?.Adjustments ?? []);
        var scores = new UnitScores { UnitId = entry.UnitId, Year = year.ToString() };
        scores.Assessments.AddRange(assessments.Values);
        scores.Adjustments.AddRange(adjustments.Where(static a => a.Count > 0).OrderBy(static a => a.ItemId, StringComparer.Ordinal).Select(static a => a.Clone()));
        return scores;
    }

    /// <summary>True when two stored scores hold the same assessments and adjustments (version, time and account aside).</summary>
    public static bool SameScores(UnitScores? a, UnitScores b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return a is not null && a.UnitId == b.UnitId && a.Year == b.Year && a.Assessments.Equals(b.Assessments) && a.Adjustments.Equals(b.Adjustments);
    }

    private static string Points(long tenths) => (tenths / 10m).ToString("0.0", CultureInfo.InvariantCulture);
}
