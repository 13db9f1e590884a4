using Federation.Protos.V1;

namespace Federation.Aggregator.Ratings;

/// <summary>
/// What two years' stars in a row mean (seed 004, 深化结果运用): five stars two years running puts the
/// secretary and leadership first for honours; three stars or below two years running means a talk, no
/// promotion and a written self-examination. Judged on published stars (after the quotas).
/// </summary>
public static class RatingFlags
{
    /// <summary>The consequence of a flag, in Chinese and English.</summary>
    public static (string Zh, string En) ConsequenceOf(RatingFlagKind kind) => kind switch
    {
        RatingFlagKind.FiveStarsTwoYears => (
            "连续2年被评定为五星级：同等条件下，党（工）委书记及班子优先作为评先树优推荐对象。",
            "Five stars two years running: other things being equal, the secretary and the leadership are recommended first for honours."),
        RatingFlagKind.ThreeOrBelowTwoYears => (
            "连续2年被评定为三星级及以下：由组织部部长谈话提醒；书记、分管副书记、组织委员不得提拔使用，并向上级作出书面检查。",
            "Three stars or below two years running: a talk with the head of the organisation department; the secretary, the deputy secretary in charge and the organisation member are not promoted and submit a written self-examination."),
        _ => (string.Empty, string.Empty),
    };

    /// <summary>
    /// The units rated in both statements whose published stars are five in both, or three or below in both,
    /// sorted by unit id. A unit rated in only one of the years has no flag.
    /// </summary>
    public static IReadOnlyList<RatingFlag> Between(RatingStatement previousYear, RatingStatement year)
    {
        ArgumentNullException.ThrowIfNull(previousYear);
        ArgumentNullException.ThrowIfNull(year);
        var before = previousYear.Units.GroupBy(static u => u.UnitId, StringComparer.Ordinal).ToDictionary(static g => g.Key, static g => g.First().Stars, StringComparer.Ordinal);
        var flags = new List<RatingFlag>();
        foreach (var unit in year.Units.OrderBy(static u => u.UnitId, StringComparer.Ordinal))
        {
            if (!before.TryGetValue(unit.UnitId, out var earlier))
            {
                continue;
            }

            var kind = (earlier, unit.Stars) switch
            {
                (5, 5) => RatingFlagKind.FiveStarsTwoYears,
                (<= 3, <= 3) => RatingFlagKind.ThreeOrBelowTwoYears,
                _ => RatingFlagKind.Unspecified,
            };
            if (kind == RatingFlagKind.Unspecified)
            {
                continue;
            }

            var (zh, en) = ConsequenceOf(kind);
            flags.Add(new RatingFlag { UnitId = unit.UnitId, Kind = kind, PreviousYearStars = earlier, Stars = unit.Stars, ConsequenceZh = zh, ConsequenceEn = en });
        }

        return flags;
    }
}
