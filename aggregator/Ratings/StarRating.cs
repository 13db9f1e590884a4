using System.Globalization;
using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Aggregator.Ratings;

/// <summary>A rated unit's points: each assessment's item sum, and its bonus and penalty occurrences.</summary>
/// <param name="UnitId">The rated unit.</param>
/// <param name="Tier">Its tier label.</param>
/// <param name="Assessments">Each assessment's period and the sum of its items, in tenths.</param>
/// <param name="Adjustments">Occurrences per bonus or penalty item.</param>
/// <param name="ScoresVersion">The version of the scores the points come from.</param>
/// <param name="ScoresDigest">SHA-256 of those scores' stored bytes.</param>
public sealed record UnitPoints(
    string UnitId, string Tier, IReadOnlyList<AssessmentPoints> Assessments, IReadOnlyList<AdjustmentEntry> Adjustments, ulong ScoresVersion, byte[] ScoresDigest)
{
    /// <summary>The points of stored scores: each assessment's items summed.</summary>
    public static UnitPoints From(UnitScores scores, string tier, byte[] scoresDigest)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return new(scores.UnitId, tier,
            [.. scores.Assessments.Select(static a => new AssessmentPoints { Period = a.Period, PointsTenths = a.Items.Sum(static i => (long)i.PointsTenths) })],
            [.. scores.Adjustments], scores.Version, scoresDigest);
    }
}

/// <summary>Everything one statement is computed from. The caller supplies the instant, version and account.</summary>
public sealed record RatingInputs(
    string NodeId,
    string Tier,
    Period Year,
    ulong Version,
    DateTimeOffset RateTime,
    string Account,
    RatingSchemeIndex Scheme,
    IReadOnlyList<UnitPoints> Units,
    IReadOnlyList<string> UnratedUnitIds);

/// <summary>
/// Star rating (星级评定), deterministic and exact. For each unit: the monthly component is the mean of the
/// months' points, the quarterly the mean of the quarters', the annual the year's own (a source with nothing
/// entered is 0); the total is their weighted sum (weights in percent) plus bonuses (each item capped, then the
/// overall cap) minus penalties (each item capped; uncapped where the cap is 0). Everything is an exact
/// fraction: points are whole tenths, and the only divisions (by the number of months or quarters, by 100 for
/// the weights) are kept as denominators, so no rounding can move a unit across a threshold or past another.
/// Then: stars by the thresholds; the ranking by total, the scheme's tie breakers, then unit id; the quotas in
/// ranking order (five-star excess to four stars, lowest ranked first; then, while fewer than the required
/// share are at three or below, the lowest-ranked unit above three to three stars).
/// </summary>
public static class StarRating
{
    /// <summary>Computes the statement (unsigned). Entries must be valid for the scheme (see <see cref="ScoreEntries"/>).</summary>
    public static RatingStatement Rate(RatingInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var scheme = inputs.Scheme;
        var scored = inputs.Units.Select(u => Score(scheme, u)).ToList();
        scored.Sort((a, b) => Compare(scheme, a, b));

        var count = (uint)scored.Count;
        var stars = scored.Select(static s => s.EarnedStars).ToArray();
        var effects = Enumerable.Repeat(QuotaEffect.None, scored.Count).ToArray();
        var allowed = FiveStarAllowed(scheme.Scheme.Quotas, count);
        var fives = 0u;
        for (var i = 0; i < stars.Length; i++)
        {
            if (stars[i] == 5 && ++fives > allowed)
            {
                (stars[i], effects[i]) = (4, QuotaEffect.FiveStarQuota);
            }
        }

        var required = ThreeOrBelowRequired(scheme.Scheme.Quotas, count);
        var atThreeOrBelow = stars.Count(static s => s <= 3);
        for (var i = stars.Length - 1; i >= 0 && atThreeOrBelow < required; i--)
        {
            if (stars[i] > 3)
            {
                (stars[i], effects[i]) = (3, QuotaEffect.ThreeOrBelowShare);
                atThreeOrBelow++;
            }
        }

        var statement = new RatingStatement
        {
            NodeId = inputs.NodeId,
            Tier = inputs.Tier,
            Year = inputs.Year.ToString(),
            Version = inputs.Version,
            RateTime = Timestamp.FromDateTimeOffset(inputs.RateTime),
            Scheme = scheme.Scheme.Clone(),
            FiveStarAllowedCount = Math.Min(allowed, count),
            ThreeOrBelowRequiredCount = required,
            Account = inputs.Account,
        };
        for (var i = 0; i < scored.Count; i++)
        {
            statement.Units.Add(scored[i].ToProto((uint)i + 1, stars[i], effects[i]));
        }

        statement.UnratedUnitIds.AddRange(inputs.UnratedUnitIds.Order(StringComparer.Ordinal));
        statement.Histograms.AddRange(StarHistograms.Of(statement.Units));
        return statement;
    }

    /// <summary>
    /// Recomputes a statement from what it embeds (its scheme, each unit's assessment points and adjustments)
    /// and lists every difference from what it states; empty when it holds. For auditors: it needs nothing else.
    /// </summary>
    public static IReadOnlyList<string> Recheck(RatingStatement statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        if (statement.Scheme is null)
        {
            return ["the statement embeds no scheme."];
        }

        if (!RatingSchemeIndex.TryCreate(statement.Scheme, out var scheme, out var problem))
        {
            return [$"the statement's scheme is not a valid scheme: {problem}"];
        }

        if (!Period.TryParse(statement.Year, out var year) || year.Type != PeriodType.Year)
        {
            return [$"the statement's year '{statement.Year}' is not a year."];
        }

        if (statement.Units.Select(static u => u.UnitId).Distinct(StringComparer.Ordinal).Count() != statement.Units.Count)
        {
            return ["the statement rates a unit more than once."];
        }

        foreach (var unit in statement.Units)
        {
            if (unit.Adjustments.FirstOrDefault(a => !scheme.TryGetAdjustment(a.ItemId, out _, out _) || a.Count < 0) is { } unknown)
            {
                return [$"{unit.UnitId}: adjustment '{unknown.ItemId}' is not an item of the embedded scheme, or has a negative count."];
            }

            if (unit.Assessments.FirstOrDefault(a => !Period.TryParse(a.Period, out var p) || p.Year != year.Year || p.Type == PeriodType.Half) is { } odd)
            {
                return [$"{unit.UnitId}: assessment period '{odd.Period}' is not a month or quarter of {year} nor the year."];
            }
        }

        RatingStatement recomputed;
        try
        {
            recomputed = Rate(new RatingInputs(
                statement.NodeId, statement.Tier, year, statement.Version, statement.RateTime?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch, statement.Account, scheme,
                [.. statement.Units.Select(static u => new UnitPoints(u.UnitId, u.Tier, [.. u.Assessments],
                    [.. u.Adjustments.Select(static a => new AdjustmentEntry { ItemId = a.ItemId, Count = a.Count })], u.ScoresVersion, u.ScoresDigest.ToByteArray()))],
                [.. statement.UnratedUnitIds]));
        }
        catch (OverflowException)
        {
            return ["the statement's points are too large to add up."];
        }

        if (statement.RateTime is null)
        {
            recomputed.RateTime = null;
        }

        var differences = new List<string>();
        var stated = statement.Units.ToDictionary(static u => u.UnitId, StringComparer.Ordinal);
        foreach (var unit in recomputed.Units)
        {
            if (stated.TryGetValue(unit.UnitId, out var claimed) && !claimed.Equals(unit))
            {
                differences.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{unit.UnitId}: stated rank {claimed.Rank}, {claimed.Stars} stars, total {claimed.Total?.Display}; recomputed rank {unit.Rank}, {unit.Stars} stars, total {unit.Total.Display}."));
            }
        }

        if (differences.Count == 0 && !recomputed.Equals(statement))
        {
            differences.Add("the statement's order, histograms or quota counts differ from the recomputation.");
        }

        return differences;
    }

    /// <summary>How many units the five-star quota lets stay: the smaller of the count and the percent (rounded down); all when neither is set.</summary>
    public static uint FiveStarAllowed(StarQuotas? quotas, uint ratedCount)
    {
        var allowed = ratedCount;
        if (quotas is { HasFiveStarMaxCount: true })
        {
            allowed = Math.Min(allowed, quotas.FiveStarMaxCount);
        }

        if (quotas is { HasFiveStarMaxPercent: true })
        {
            allowed = Math.Min(allowed, (uint)((ulong)ratedCount * quotas.FiveStarMaxPercent / 100));
        }

        return allowed;
    }

    /// <summary>How many units must be at three stars or below: the percent of the rated units, rounded up.</summary>
    public static uint ThreeOrBelowRequired(StarQuotas? quotas, uint ratedCount) =>
        (uint)(((ulong)ratedCount * (quotas?.ThreeOrBelowMinPercent ?? 0) + 99) / 100);

    private static Scored Score(RatingSchemeIndex scheme, UnitPoints unit)
    {
        long monthSum = 0, quarterSum = 0, annual = 0;
        long months = 0, quarters = 0;
        var hasAnnual = false;
        foreach (var assessment in unit.Assessments)
        {
            switch (Period.Parse(assessment.Period).Type)
            {
                case PeriodType.Month:
                    monthSum = checked(monthSum + assessment.PointsTenths);
                    months++;
                    break;
                case PeriodType.Quarter:
                    quarterSum = checked(quarterSum + assessment.PointsTenths);
                    quarters++;
                    break;
                case PeriodType.Year:
                    annual = checked(annual + assessment.PointsTenths);
                    hasAnnual = true;
                    break;
                default:
                    throw ThrowHelper.Argument(nameof(unit), $"Assessment period '{assessment.Period}' of unit '{unit.UnitId}' is a half-year.");
            }
        }

        var applied = new List<AppliedAdjustment>();
        long bonus = 0, penalty = 0;
        foreach (var entry in unit.Adjustments.OrderBy(static a => a.ItemId, StringComparer.Ordinal))
        {
            if (!scheme.TryGetAdjustment(entry.ItemId, out var item, out var isPenalty))
            {
                throw ThrowHelper.Argument(nameof(unit), $"Adjustment '{entry.ItemId}' of unit '{unit.UnitId}' is not in the scheme.");
            }

            var points = checked((long)entry.Count * item.TenthsPerOccurrence);
            if (item.CapTenths > 0)
            {
                points = Math.Min(points, item.CapTenths);
            }

            applied.Add(new AppliedAdjustment { ItemId = item.Id, Penalty = isPenalty, Count = entry.Count, PointsTenths = points });
            (bonus, penalty) = isPenalty ? (bonus, checked(penalty + points)) : (checked(bonus + points), penalty);
        }

        if (scheme.Scheme.BonusCapTenths > 0)
        {
            bonus = Math.Min(bonus, scheme.Scheme.BonusCapTenths);
        }

        // One common denominator: 1000 (tenths × percent) times the number of months and of quarters.
        var weights = scheme.Scheme.Weights;
        var m = Math.Max(months, 1);
        var q = Math.Max(quarters, 1);
        var numerator = checked((weights.MonthlyPercent * monthSum * q) + (weights.QuarterlyPercent * quarterSum * m) + (weights.AnnualPercent * annual * m * q)
            + (100 * m * q * (bonus - penalty)));
        var total = new Rational(numerator, 1000 * m * q);
        var missing = new List<AssessmentSource>();
        if (months == 0)
        {
            missing.Add(AssessmentSource.Monthly);
        }

        if (quarters == 0)
        {
            missing.Add(AssessmentSource.Quarterly);
        }

        if (!hasAnnual)
        {
            missing.Add(AssessmentSource.Annual);
        }

        return new Scored(unit, new Rational(monthSum, 10 * m), new Rational(quarterSum, 10 * q), new Rational(annual, 10), total, bonus, penalty,
            applied, missing, EarnedStars(scheme, total));
    }

    private static uint EarnedStars(RatingSchemeIndex scheme, Rational total)
    {
        foreach (var threshold in scheme.Thresholds)
        {
            if (total >= new Rational(threshold.MinTotalTenths, 10))
            {
                return threshold.Stars;
            }
        }

        return 0;
    }

    /// <summary>Rank order: the higher total first, then each tie breaker's component higher first, then unit id ascending (ordinal).</summary>
    private static int Compare(RatingSchemeIndex scheme, Scored a, Scored b)
    {
        var byTotal = b.Total.CompareTo(a.Total);
        if (byTotal != 0)
        {
            return byTotal;
        }

        foreach (var breaker in scheme.TieBreakers)
        {
            var byComponent = breaker switch
            {
                TieBreaker.Annual => b.Annual.CompareTo(a.Annual),
                TieBreaker.Quarterly => b.Quarterly.CompareTo(a.Quarterly),
                _ => b.Monthly.CompareTo(a.Monthly),
            };
            if (byComponent != 0)
            {
                return byComponent;
            }
        }

        return string.CompareOrdinal(a.Points.UnitId, b.Points.UnitId);
    }

    private sealed record Scored(
        UnitPoints Points, Rational Monthly, Rational Quarterly, Rational Annual, Rational Total, long Bonus, long Penalty,
        IReadOnlyList<AppliedAdjustment> Applied, IReadOnlyList<AssessmentSource> Missing, uint EarnedStars)
    {
        public UnitRating ToProto(uint rank, uint stars, QuotaEffect effect)
        {
            var rating = new UnitRating
            {
                UnitId = Points.UnitId,
                Tier = Points.Tier,
                Rank = rank,
                Stars = stars,
                EarnedStars = EarnedStars,
                QuotaEffect = effect,
                Total = ExactScores.ToProto(Total),
                Monthly = ExactScores.ToProto(Monthly),
                Quarterly = ExactScores.ToProto(Quarterly),
                Annual = ExactScores.ToProto(Annual),
                BonusTenths = Bonus,
                PenaltyTenths = Penalty,
                ScoresVersion = Points.ScoresVersion,
                ScoresDigest = ByteString.CopyFrom(Points.ScoresDigest),
            };
            rating.Assessments.AddRange(Points.Assessments.OrderBy(static a => a.Period, StringComparer.Ordinal).Select(static a => a.Clone()));
            rating.Adjustments.AddRange(Applied);
            rating.MissingSources.AddRange(Missing);
            return rating;
        }
    }
}
