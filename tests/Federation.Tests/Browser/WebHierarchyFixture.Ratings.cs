using Federation.Aggregator.Ratings;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Browser;

/// <summary>
/// The fixture's star ratings and grades, entered through the API as a reviewer and clerks would.
/// Changqing rates its three townships for 2025 and 2026 and Wenchang its three villages for 2026, with
/// item scores whose totals are known; every unit reports its grade (分类定级) for both years but Zhongcun,
/// which has none for 2026.
/// </summary>
public sealed partial class WebHierarchyFixture
{
    public const string RatedYear = "2026";
    public const string PreviousYear = "2025";
    public const string Zhongcun = "370126001001";

    /// <summary>
    /// Totals in tenths, the same in a month, a quarter and the year, so the weighted total is that number.
    /// With three units the default quotas allow no five-star unit and want one at three or below: Wenchang
    /// (95) is lowered to four stars; among the villages Dongcun (91) to four, and Nancun (82) to three.
    /// Guyunhu is at three or below both years.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Totals = new Dictionary<string, IReadOnlyDictionary<string, int>>
    {
        [PreviousYear] = new Dictionary<string, int> { [Wenchang] = 930, [Pingan] = 880, [Guyunhu] = 680 },
        [RatedYear] = new Dictionary<string, int> { [Wenchang] = 950, [Pingan] = 845, [Guyunhu] = 580 },
    };

    public static readonly IReadOnlyDictionary<string, int> VillageTotals = new Dictionary<string, int>
    {
        ["370113001001"] = 910, [Xicun] = 860, ["370113001003"] = 820,
    };

    /// <summary>Each unit's grade in 2025 and 2026 (null: none reported).</summary>
    public static readonly IReadOnlyDictionary<string, (string From, string? To)> Grades = new Dictionary<string, (string, string?)>
    {
        ["370113001001"] = ("fairly_good", "good"),
        [Xicun] = ("average", "average"),
        ["370113001003"] = ("poor", "average"),
        [Beicun] = ("average", "poor"),
        [Ancun] = ("fairly_good", "fairly_good"),
        [Zhongcun] = ("poor", null),
    };

    private async Task GradeAsync()
    {
        var hostOf = new Dictionary<string, string>
        {
            ["370113001001"] = Wenchang, [Xicun] = Wenchang, ["370113001003"] = Wenchang, [Ancun] = Pingan, [Beicun] = Beicun, [Zhongcun] = Zhongcun,
        };
        foreach (var (unit, (from, to)) in Grades)
        {
            foreach (var (year, grade) in new[] { (PreviousYear, (string?)from), (RatedYear, to) })
            {
                List<IndicatorValue> values =
                [
                    Reports.Count("party_members", 30), Reports.Flag("secretary_college_degree", true), Reports.Measure("secretary_age", 45),
                    Reports.Count("committee_posts", 5), Reports.Count("reserve_cadres", 5),
                ];
                if (grade is not null)
                {
                    values.Add(Reports.Category("classification_grade", grade));
                }

                await Hierarchy[hostOf[unit]].Reporting.SubmitReportAsync(new SubmitReportRequest { UnitId = unit, Period = year, Values = { values } }, deadline: Rpc.Deadline());
            }
        }
    }

    private async Task RateAsync()
    {
        var scheme = RatingSchemeIndex.Default.Scheme;
        var township = new RatingService.RatingServiceClient(Hierarchy[Wenchang].ChannelWith(Hierarchy[Wenchang].Tokens.Reviewer));
        await township.SetScoresAsync(Scores(scheme, RatedYear, VillageTotals), deadline: Rpc.Deadline());
        var county = new RatingService.RatingServiceClient(Hierarchy[Changqing].ChannelWith(Hierarchy[Changqing].Tokens.Reviewer));
        foreach (var (year, totals) in Totals)
        {
            await county.SetScoresAsync(Scores(scheme, year, totals), deadline: Rpc.Deadline());
        }

        // The county's year summary carries both tiers' stars once Wenchang's has reached it, and the city's once the county's has.
        foreach (var node in new[] { Hierarchy[Changqing], Hierarchy.Root })
        {
            await TestHierarchy.WaitForTotalsAsync(node, RatedYear, static t => HoldsAllStars(Summary.Parser.ParseFrom(t.SignedSummary.SummaryBytes)),
                $"the 2026 summary of {node.Id} to hold the townships' and the villages' stars");
        }
    }

    private static bool HoldsAllStars(Summary summary) =>
        summary.StarHistograms is { Count: 2 } tiers && tiers.All(static tier => tier.Counts.Sum(static c => (long)c.UnitCount) == 3);

    /// <summary>Every unit's scores: items filled to their maximum in scheme order until the total is reached.</summary>
    private static SetScoresRequest Scores(RatingScheme scheme, string year, IReadOnlyDictionary<string, int> totals)
    {
        var request = new SetScoresRequest { Year = year };
        foreach (var (unit, total) in totals)
        {
            var items = new List<ItemScore>();
            var left = total;
            foreach (var item in scheme.Parts.SelectMany(static p => p.Items).TakeWhile(_ => left > 0))
            {
                var points = Math.Min(item.MaxTenths, left);
                items.Add(new ItemScore { ItemId = item.Id, PointsTenths = points });
                left -= points;
            }

            var entry = new UnitScoresEntry { UnitId = unit, Replace = true };
            foreach (var period in new[] { year + "-01", year + "-Q1", year })
            {
                entry.Assessments.Add(new Assessment { Period = period, Items = { items } });
            }

            request.Units.Add(entry);
        }

        return request;
    }
}
