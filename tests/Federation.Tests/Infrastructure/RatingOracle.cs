using Federation.Protos.V1;

namespace Federation.Tests.Infrastructure;

/// <summary>
/// Star rating computed independently of aggregator/Ratings, for tests to compare against: another representation
/// (every total scaled by one common factor to a whole number, instead of fractions), its own ordering and its own
/// quota loops. It reads the scheme's fields and nothing of the production code.
/// </summary>
public static class RatingOracle
{
    /// <summary>lcm(1..12): the mean of any number of months (or quarters) times this is a whole number of tenths.</summary>
    public const long Scale = 27_720;

    /// <summary>One unit's assessments (period, sum of its items in tenths) and its bonus and penalty occurrences.</summary>
    public sealed record UnitInput(string UnitId, IReadOnlyList<(string Period, long Tenths)> Assessments, IReadOnlyDictionary<string, int> Adjustments, string Tier = "");

    /// <summary>
    /// A unit's result. <see cref="Scaled"/> is the total in points times 1000 × <see cref="Scale"/> (tenths, percent weights, scale).
    /// Effect: "none", "five" (five-star quota) or "three" (share at three or below).
    /// </summary>
    public sealed record UnitResult(string UnitId, string Tier, long Scaled, long AnnualScaled, long QuarterlyScaled, long MonthlyScaled, uint Earned, uint Stars, int Rank, string Effect);

    public static List<UnitResult> Rate(RatingScheme scheme, IEnumerable<UnitInput> units)
    {
        var rows = new List<UnitResult>();
        foreach (var unit in units)
        {
            long monthSum = 0, quarterSum = 0, annual = 0;
            int months = 0, quarters = 0;
            foreach (var (period, tenths) in unit.Assessments)
            {
                if (period.Length == 4)
                {
                    annual += tenths;
                }
                else if (period[5] == 'Q')
                {
                    quarterSum += tenths;
                    quarters++;
                }
                else
                {
                    monthSum += tenths;
                    months++;
                }
            }

            var monthly = months == 0 ? 0 : monthSum * (Scale / months);
            var quarterly = quarters == 0 ? 0 : quarterSum * (Scale / quarters);
            var annualScaled = annual * Scale;
            long bonus = 0, penalty = 0;
            foreach (var (itemId, count) in unit.Adjustments)
            {
                var bonusItem = scheme.BonusItems.FirstOrDefault(b => b.Id == itemId);
                var item = bonusItem ?? scheme.PenaltyItems.First(p => p.Id == itemId);
                long points = (long)count * item.TenthsPerOccurrence;
                if (item.CapTenths > 0 && points > item.CapTenths)
                {
                    points = item.CapTenths;
                }

                if (bonusItem is null)
                {
                    penalty += points;
                }
                else
                {
                    bonus += points;
                }
            }

            if (scheme.BonusCapTenths > 0 && bonus > scheme.BonusCapTenths)
            {
                bonus = scheme.BonusCapTenths;
            }

            var w = scheme.Weights;
            var scaled = (w.MonthlyPercent * monthly) + (w.QuarterlyPercent * quarterly) + (w.AnnualPercent * annualScaled) + (100 * Scale * (bonus - penalty));
            uint earned = 0;
            foreach (var threshold in scheme.Thresholds.OrderByDescending(static t => t.Stars))
            {
                if (scaled >= threshold.MinTotalTenths * 100L * Scale)
                {
                    earned = threshold.Stars;
                    break;
                }
            }

            rows.Add(new UnitResult(unit.UnitId, unit.Tier, scaled, annualScaled, quarterly, monthly, earned, earned, 0, "none"));
        }

        rows.Sort((a, b) =>
        {
            if (a.Scaled != b.Scaled)
            {
                return b.Scaled.CompareTo(a.Scaled);
            }

            foreach (var breaker in scheme.TieBreakers)
            {
                var (x, y) = breaker switch
                {
                    TieBreaker.Annual => (a.AnnualScaled, b.AnnualScaled),
                    TieBreaker.Quarterly => (a.QuarterlyScaled, b.QuarterlyScaled),
                    _ => (a.MonthlyScaled, b.MonthlyScaled),
                };
                if (x != y)
                {
                    return y.CompareTo(x);
                }
            }

            return string.CompareOrdinal(a.UnitId, b.UnitId);
        });

        var n = rows.Count;
        var fiveAllowed = n;
        if (scheme.Quotas.HasFiveStarMaxCount)
        {
            fiveAllowed = Math.Min(fiveAllowed, (int)scheme.Quotas.FiveStarMaxCount);
        }

        if (scheme.Quotas.HasFiveStarMaxPercent)
        {
            fiveAllowed = Math.Min(fiveAllowed, n * (int)scheme.Quotas.FiveStarMaxPercent / 100);
        }

        var seenFive = 0;
        for (var i = 0; i < n; i++)
        {
            rows[i] = rows[i] with { Rank = i + 1 };
            if (rows[i].Stars == 5)
            {
                seenFive++;
                if (seenFive > fiveAllowed)
                {
                    rows[i] = rows[i] with { Stars = 4, Effect = "five" };
                }
            }
        }

        var needed = (int)Math.Ceiling(n * (int)scheme.Quotas.ThreeOrBelowMinPercent / 100.0m);
        var low = rows.Count(static r => r.Stars <= 3);
        for (var i = n - 1; i >= 0 && low < needed; i--)
        {
            if (rows[i].Stars > 3)
            {
                rows[i] = rows[i] with { Stars = 3, Effect = "three" };
                low++;
            }
        }

        return rows;
    }

    /// <summary>True when <paramref name="score"/> (points, a fraction) equals <paramref name="scaled"/> / (1000 × Scale).</summary>
    public static bool Same(long scaled, ExactScore score) =>
        (Int128)scaled * score.Denominator == (Int128)score.Numerator * 1000 * Scale;

    /// <summary>The two-year flags from two years' results: ("five", previous, now) or ("three", previous, now), by unit id.</summary>
    public static List<(string UnitId, string Kind, uint Previous, uint Now)> Flags(IEnumerable<UnitResult> previousYear, IEnumerable<UnitResult> year)
    {
        var before = previousYear.ToDictionary(static r => r.UnitId, static r => r.Stars);
        var flags = new List<(string, string, uint, uint)>();
        foreach (var r in year.OrderBy(static r => r.UnitId, StringComparer.Ordinal))
        {
            if (!before.TryGetValue(r.UnitId, out var previous))
            {
                continue;
            }

            if (previous == 5 && r.Stars == 5)
            {
                flags.Add((r.UnitId, "five", previous, r.Stars));
            }
            else if (previous <= 3 && r.Stars <= 3)
            {
                flags.Add((r.UnitId, "three", previous, r.Stars));
            }
        }

        return flags;
    }
}

/// <summary>Generated scores: a unit at a "level" scores about that share of each item's maximum, with noise.</summary>
public static class RatingData
{
    /// <summary>
    /// One unit's whole year: the given months and quarters, the annual assessment, and random bonus and penalty
    /// occurrences; returns the request entry and the oracle's input (item sums per assessment).
    /// </summary>
    public static (UnitScoresEntry Entry, RatingOracle.UnitInput Input) Unit(
        Random rng, RatingScheme scheme, string unitId, int year, double level, int monthCount, int quarterCount, bool annual, string tier = "")
    {
        var entry = new UnitScoresEntry { UnitId = unitId, Replace = true, Adjustments = new AdjustmentSet() };
        var sums = new List<(string, long)>();
        var periods = Enumerable.Range(1, monthCount).Select(m => $"{year}-{m:D2}")
            .Concat(Enumerable.Range(1, quarterCount).Select(q => $"{year}-Q{q}"))
            .Concat(annual ? [$"{year}"] : []);
        foreach (var period in periods)
        {
            var assessment = new Assessment { Period = period };
            foreach (var item in scheme.Parts.SelectMany(static p => p.Items))
            {
                var points = Math.Clamp((int)Math.Round(level * item.MaxTenths) + rng.Next(-5, 6), 0, item.MaxTenths);
                assessment.Items.Add(new ItemScore { ItemId = item.Id, PointsTenths = points });
            }

            entry.Assessments.Add(assessment);
            sums.Add((period, assessment.Items.Sum(static i => (long)i.PointsTenths)));
        }

        var adjustments = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in scheme.BonusItems.Concat(scheme.PenaltyItems))
        {
            var count = rng.Next(0, 4);
            if (count > 0)
            {
                adjustments[item.Id] = count;
                entry.Adjustments.Entries.Add(new AdjustmentEntry { ItemId = item.Id, Count = count });
            }
        }

        return (entry, new RatingOracle.UnitInput(unitId, sums, adjustments, tier));
    }
}
