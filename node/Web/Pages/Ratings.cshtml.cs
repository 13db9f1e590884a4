using System.Globalization;
using Federation.Node.Application;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Mvc;
using PeriodValue = Federation.Aggregator.Periods.Period;

namespace Federation.Node.Web.Pages;

/// <summary>A unit or node directly below the rating node, as the page names and links it.</summary>
internal sealed record RatedLink(string Id, string Name, string? Href);

/// <summary>
/// A node's signed star rating for a year (GetRatings): the ranking with earned and awarded stars and what the
/// quotas did, the scheme's quotas, the statement's version and key; the stars across the subtree from the
/// node's year summary (GetTotals), drawn as bars; the two-years-running flags (ListRatingFlags). A ranked
/// child node links to its own ratings page, which the API routes down the tree.
/// </summary>
public sealed class RatingsModel : WebPageModel
{
    private const int FlagPageSize = 1000;
    private const int MaxFlagPages = 20;
    private const int MaxYearLength = 16;

    /// <summary>The rated year (<c>?year=</c>); by default the year of the period the person was looking at.</summary>
    [BindProperty(SupportsGet = true, Name = "year")]
    public string? Year { get; set; }

    internal RatingStatement? Statement { get; private set; }

    internal string KeyId { get; private set; } = string.Empty;

    /// <summary>The scheme's quotas and what they did, one line.</summary>
    internal string? QuotaLine { get; private set; }

    internal string? ThresholdLine { get; private set; }

    internal string? StatementLine { get; private set; }

    /// <summary>Units directly below without scores for the year.</summary>
    internal List<RatedLink> Unrated { get; } = [];

    /// <summary>With no statement of its own: the nodes directly below, whose ratings pages may have one.</summary>
    internal List<RatedLink> Below { get; } = [];

    /// <summary>The subtree's star histogram as SVG built by <see cref="SvgChart"/> (every text in it escaped); null when there is none.</summary>
    internal string? Chart { get; private set; }

    internal string? HistogramNotice { get; private set; }

    internal string? FlagsLine { get; private set; }

    internal WebTable? Ranking { get; private set; }

    internal WebTable? Histogram { get; private set; }

    internal WebTable? Flags { get; private set; }

    internal override string DownloadLabel => Year ?? PeriodText;

    protected override string? Explain(string reason) => reason is "MALFORMED_PERIOD" or "WRONG_PERIOD_TYPE" ? T["error.year"] : null;

    protected override async Task LoadAsync(CancellationToken cancellationToken)
    {
        Year = string.IsNullOrWhiteSpace(Year)
            ? (PeriodValue.TryParse(PeriodText, out var period) ? period.Year : CurrentYear).ToString(CultureInfo.InvariantCulture)
            : Year.Trim() is { Length: > MaxYearLength } longer ? longer[..MaxYearLength] : Year.Trim();
        Title = T.Format("ratings.title", TargetNodeOrSelf, TargetNodeOrSelf, Year);
        var channel = await Api.ChannelAsync(cancellationToken);
        var ratings = new RatingService.RatingServiceClient(channel);
        var query = new QueryService.QueryServiceClient(channel);

        // The statement first: a refusal (scope, role, a node not below) is the page's answer.
        GetRatingsResponse? rated = null;
        try
        {
            rated = await ratings.GetRatingsAsync(new GetRatingsRequest { NodeId = TargetNode, Year = Year }, Api.Call(Session!, cancellationToken));
        }
        catch (RpcException ex) when (ApiProblems.Reason(ex) == "NO_FIGURES")
        {
            // No statement of its own: still the subtree's stars and the nodes below to go to.
        }

        var summary = await YearSummaryAsync(query, cancellationToken);
        var name = summary?.DisplayName is { Length: > 0 } known ? known : TargetNodeOrSelf;
        var nodeId = rated?.NodeId ?? summary?.NodeId ?? TargetNodeOrSelf;
        Title = T.Format("ratings.title", name, nodeId, Year);
        var below = await AllPages.GetDrillDownAsync(query,
            new GetDrillDownRequest { NodeId = TargetNode, Period = Year, PageSize = 1000 }, () => Api.Call(Session!, cancellationToken), MaxListingPages);
        var links = below.Rows.ToDictionary(
            static r => r.SourceId,
            r => new RatedLink(r.SourceId, r.DisplayName, r.Kind == ContributionKind.ChildSummary ? Link("/ratings", r.SourceId, ("year", Year)) : null),
            StringComparer.Ordinal);
        RatedLink LinkOf(string id) => links.TryGetValue(id, out var link) ? link : new RatedLink(id, string.Empty, null);

        if (rated is null)
        {
            Notice = T.Format("ratings.none", name, Year);
            Below.AddRange(links.Values.Where(static l => l.Href is not null).OrderBy(static l => l.Id, StringComparer.Ordinal));
        }
        else
        {
            Statement = RatingStatement.Parser.ParseFrom(rated.Statement.StatementBytes);
            KeyId = rated.Statement.KeyId;
            Describe(Statement);
            Ranking = RankingTable(Statement, LinkOf);
            Unrated.AddRange(Statement.UnratedUnitIds.Select(LinkOf));
            Flags = await FlagsTableAsync(ratings, LinkOf, cancellationToken);
        }

        Histogram = HistogramTable(summary?.StarHistograms ?? []);
        Tables.AddRange(new[] { Ranking, Histogram, Flags }.OfType<WebTable>());
    }

    /// <summary>The node's signed summary for the year, read for its star histograms and its name; null when it has none.</summary>
    private async Task<(string NodeId, string DisplayName, IReadOnlyList<StarHistogram> StarHistograms)?> YearSummaryAsync(
        QueryService.QueryServiceClient query, CancellationToken cancellationToken)
    {
        try
        {
            var totals = await query.GetTotalsAsync(new GetTotalsRequest { NodeId = TargetNode, Period = Year }, Api.Call(Session!, cancellationToken));
            var histograms = totals.SignedSummary is { } signed ? Summary.Parser.ParseFrom(signed.SummaryBytes).StarHistograms : [];
            return (totals.NodeId, totals.DisplayName, histograms);
        }
        catch (RpcException ex) when (ApiProblems.Reason(ex) == "NO_FIGURES")
        {
            return null;
        }
    }

    private void Describe(RatingStatement statement)
    {
        var scheme = statement.Scheme;
        var quotas = scheme.Quotas ?? new StarQuotas();
        var limits = new List<string>();
        if (quotas.HasFiveStarMaxPercent)
        {
            limits.Add(string.Create(CultureInfo.InvariantCulture, $"{quotas.FiveStarMaxPercent}%"));
        }

        if (quotas.HasFiveStarMaxCount)
        {
            limits.Add(T.Format("quotas.count", quotas.FiveStarMaxCount));
        }

        var parts = new List<string>
        {
            limits.Count == 0 ? T["quotas.five-any"] : T.Format("quotas.five", string.Join(" / ", limits), statement.FiveStarAllowedCount),
        };
        if (quotas.ThreeOrBelowMinPercent > 0)
        {
            parts.Add(T.Format("quotas.three", quotas.ThreeOrBelowMinPercent, statement.ThreeOrBelowRequiredCount));
        }

        parts.Add(T.Format("quotas.applied",
            statement.Units.Count(static u => u.QuotaEffect == QuotaEffect.FiveStarQuota),
            statement.Units.Count(static u => u.QuotaEffect == QuotaEffect.ThreeOrBelowShare)));
        QuotaLine = T.Format("quotas", string.Join(T.Language == WebLanguage.Zh ? "；" : "; ", parts));
        ThresholdLine = T.Format("thresholds", T.List(scheme.Thresholds.OrderByDescending(static t => t.Stars)
            .Select(t => T.Format("threshold", T.Stars(t.Stars), (t.MinTotalTenths / 10m).ToString("0.#", CultureInfo.InvariantCulture)))));
        StatementLine = T.Format("statement", T.Language == WebLanguage.Zh ? scheme.NameZh : scheme.NameEn, scheme.Version, statement.Version,
            FigureCells.Time(statement.RateTime), statement.Account, KeyId);
    }

    private WebTable RankingTable(RatingStatement statement, Func<string, RatedLink> linkOf)
    {
        var table = new WebTable("ranking", T["ranking"],
        [
            new(T["rank"], Numeric: true), new(T["code"]), new(T["name"]), new(T["total-score"], Numeric: true), new(T["earned-stars"]),
            new(T["awarded-stars"]), new(T["quota-effect"]), new(T["missing-sources"]),
        ]);
        foreach (var unit in statement.Units)
        {
            var link = linkOf(unit.UnitId);
            var lowered = unit.QuotaEffect is QuotaEffect.FiveStarQuota or QuotaEffect.ThreeOrBelowShare;
            var effect = unit.QuotaEffect switch
            {
                QuotaEffect.FiveStarQuota => T["quota.five"],
                QuotaEffect.ThreeOrBelowShare => T.Format("quota.three", unit.EarnedStars),
                _ => string.Empty,
            };
            var total = unit.Total?.Display ?? string.Empty;
            table.Rows.Add(new WebRow(
            [
                new WebCell(unit.Rank.ToString(CultureInfo.InvariantCulture), unit.Rank, "0"),
                new WebCell(unit.UnitId) { Href = link.Href },
                new WebCell(link.Name) { Href = link.Href },
                double.TryParse(total, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? new WebCell(total, number, "0.00") : new WebCell(total),
                T.Stars(unit.EarnedStars),
                lowered ? new WebCell(T.Stars(unit.Stars) + " ▼") { Css = "lowered", Hint = effect } : new WebCell(T.Stars(unit.Stars)),
                lowered ? new WebCell(effect) { Css = "lowered" } : new WebCell(string.Empty),
                T.List(unit.MissingSources.Select(s => T["source." + s])),
            ], unit.UnitId));
        }

        return table;
    }

    private WebTable HistogramTable(IReadOnlyList<StarHistogram> histograms)
    {
        var stars = new uint[] { 5, 4, 3, 2, 1, 0 };
        var labels = stars.Select(s => s == 0 ? T["no-star"] : T.Format("stars.n", s)).ToList();
        var columns = new List<WebColumn> { new(T["tier"]), new(T["rating-nodes"], Numeric: true) };
        columns.AddRange(labels.Select(static l => new WebColumn(l, Numeric: true)));
        columns.Add(new WebColumn(T["rated-units"], Numeric: true));
        var table = new WebTable("histogram", T.Format("histogram", Year!), columns);
        var series = new List<BarSeries>();
        foreach (var histogram in histograms)
        {
            var counts = stars.Select(s => (long)(histogram.Counts.FirstOrDefault(c => c.Stars == s)?.UnitCount ?? 0)).ToList();
            var cells = new List<WebCell> { T.Tier(histogram.Tier), FigureCells.Count(histogram.RatingNodeCount) };
            cells.AddRange(counts.Select(static c => FigureCells.Count(c)));
            cells.Add(FigureCells.Count(counts.Sum()));
            table.Rows.Add(new WebRow(cells, histogram.Tier));
            series.Add(new BarSeries(T.Tier(histogram.Tier), counts));
        }

        if (series.Count > 0)
        {
            Chart = SvgChart.Bars(labels, series, table.Title);
        }
        else
        {
            HistogramNotice = T.Format("histogram.none", Year!);
        }

        return table;
    }

    private async Task<WebTable> FlagsTableAsync(RatingService.RatingServiceClient ratings, Func<string, RatedLink> linkOf, CancellationToken cancellationToken)
    {
        var table = new WebTable("flags", T["flags"],
            [new(T["code"]), new(T["name"]), new(T["flag"]), new(T["previous-stars"]), new(T["stars-now"]), new(T["consequence"])])
        {
            EmptyText = T["flags.none"],
        };
        var token = string.Empty;
        ListRatingFlagsResponse page;
        var pages = 0;
        do
        {
            page = await ratings.ListRatingFlagsAsync(
                new ListRatingFlagsRequest { NodeId = TargetNode, Year = Year, PageSize = FlagPageSize, PageToken = token }, Api.Call(Session!, cancellationToken));
            foreach (var flag in page.Flags)
            {
                var link = linkOf(flag.UnitId);
                table.Rows.Add(new WebRow(
                [
                    new WebCell(flag.UnitId) { Href = link.Href },
                    link.Name,
                    T["flag." + flag.Kind],
                    T.Stars(flag.PreviousYearStars),
                    T.Stars(flag.Stars),
                    T.Language == WebLanguage.Zh ? flag.ConsequenceZh : flag.ConsequenceEn,
                ], flag.UnitId, flag.Kind == RatingFlagKind.ThreeOrBelowTwoYears ? "lagging" : "honour"));
            }

            token = page.NextPageToken;
        }
        while (token.Length > 0 && ++pages < MaxFlagPages);

        var previousYear = PeriodValue.TryParse(Year, out var year) ? (year.Year - 1).ToString(CultureInfo.InvariantCulture) : string.Empty;
        FlagsLine = page.PreviousYearStatementVersion == 0
            ? T.Format("flags.no-previous", previousYear)
            : T.Format("flags.compared", Year!, page.StatementVersion, previousYear, page.PreviousYearStatementVersion);
        return table;
    }
}
