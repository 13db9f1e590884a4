using Federation.Aggregator;
using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Totals;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Queries;

/// <summary>Drill-down, completeness, targets and history, answered by the node the query is about, one page at a time.</summary>
internal sealed class LocalQueries(NodeStore store, NodeIdentity identity, CatalogueIndex catalogue, SubtreeService subtree, ListingPages pages, TimeProvider time)
{
    /// <summary>Rows of a drill-down page when the request names no size; a row carries every indicator.</summary>
    public const int DefaultDrillPageSize = 100;

    /// <summary>Most rows in one drill-down page.</summary>
    public const int MaxDrillPageSize = 1000;

    /// <summary>Entries of a completeness page (nodes, missing and late together), or lagging units of a targets page, when the request names no size.</summary>
    public const int DefaultWalkPageSize = 1000;

    /// <summary>Most entries of a completeness page, or lagging units of a targets page.</summary>
    public const int MaxWalkPageSize = 10_000;

    /// <summary>Points of a history page when the request names no size: what one answer held before history paged.</summary>
    public const int DefaultHistoryPageSize = 240;

    /// <summary>Most points in one history page.</summary>
    public const int MaxHistoryPageSize = 1000;

    public async Task<Outcome<GetDrillDownResponse>> DrillDownAsync(GetDrillDownRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Period.TryParse(request.Period, out var parsed))
        {
            return MalformedPeriod(request.Period);
        }

        var sortIndicatorId = request.SortIndicatorId;
        if (sortIndicatorId.Length > 0 && !catalogue.TryGet(sortIndicatorId, out _))
        {
            return Rejection.Of(RejectionReason.UnknownIndicator, $"sort_indicator_id '{Aggregator.Identifiers.Echo.Of(sortIndicatorId)}' is not in the catalogue.", "sort_indicator_id");
        }

        const string method = "GetDrillDown";
        var hash = PageTokens.RequestHash(method, WithoutPage(request));
        var start = await pages.StartAsync(method, request.PageToken, hash, () => Task.FromResult(DrillListing(parsed, sortIndicatorId, request.Descending)));
        if (start.Rejection is { } refused)
        {
            return refused;
        }

        var page = start.Value!;
        var rows = page.Listing.Rows;
        var response = new GetDrillDownResponse { NodeId = identity.NodeId, Period = parsed.ToString(), RowCount = (uint)rows.Count };
        var built = new List<DrillDownRow>();
        var count = PageTokens.Take(page.Offset, rows.Count, PageTokens.Size(request.PageSize, DefaultDrillPageSize, MaxDrillPageSize), i =>
        {
            var row = Row(rows[i]);
            built.Add(row);
            return row.CalculateSize();
        });
        response.Rows.AddRange(built.Take(count));
        response.NextPageToken = pages.Next(page, page.Offset + count, hash);
        return response;
    }

    /// <summary>Every row of a drill-down, ranked, with its figures packed: what the pages are cut from.</summary>
    private DrillListing DrillListing(Period parsed, string sortIndicatorId, bool descending)
    {
        var key = parsed.ToString();
        var (children, units, ledgers) = store.Read(s => (
            s.Children.FindAll().Select(c => (Child: c, Held: s.ChildSummaries.ById(ChildSummaryDocument.KeyOf(c.Id, key)))).ToList(),
            s.Units.FindAll().Select(u => (Unit: u, Report: s.Reports.ById(ReportDocument.KeyOf(u.Id, key)))).ToList(),
            s.TallyLedgers(key, time.GetUtcNow()).ToDictionary(static l => l.Tally.UnitId, StringComparer.Ordinal)));
        var rows = new List<DrillRowFigures>();
        foreach (var (child, held) in children)
        {
            var summary = held is null ? null : Summary.Parser.ParseFrom(held.SummaryBytes);
            rows.Add(DrillRowFigures.Of(child.Id, child.DisplayName, ContributionKind.ChildSummary, summary?.Coverage, summary?.Aggregates, sortIndicatorId));
        }

        foreach (var (unit, document) in units.Where(u => u.Report is not null || ledgers.ContainsKey(u.Unit.Id) || UnitRules.IsExpected(u.Unit.RetiredFromPeriod, parsed)))
        {
            // A unit's row holds what the summary merges for it: its report, and its ledger counts as they stand now.
            var report = document is null ? null : UnitReport.Parser.ParseFrom(document.Bytes);
            var coverage = new Coverage { ExpectedLeafCount = 1, ReportedLeafCount = report is null ? 0u : 1u };
            var parts = new List<IReadOnlyList<IndicatorAggregate>>();
            if (report is not null)
            {
                parts.Add(Aggregates.FromReport(catalogue, LedgerTallies.WithoutComputed(catalogue, report.Values)));
            }

            if (ledgers.TryGetValue(unit.Id, out var ledger))
            {
                parts.Add(Aggregates.FromReport(catalogue, LedgerTallies.Values(catalogue, ledger.Tally)));
            }

            rows.Add(DrillRowFigures.Of(unit.Id, unit.DisplayName, ContributionKind.UnitReport, coverage, parts.Count == 0 ? null : Aggregates.MergeAll(parts), sortIndicatorId));
        }

        return new DrillListing(Rank(rows, descending));
    }

    public async Task<Outcome<GetCompletenessResponse>> CompletenessAsync(GetCompletenessRequest request, CallBudget budget)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Period.TryParse(request.Period, out var parsed))
        {
            return MalformedPeriod(request.Period);
        }

        const string method = "GetCompleteness";
        var hash = PageTokens.RequestHash(method, WithoutPage(request));
        var start = await pages.StartAsync(method, request.PageToken, hash, async () => new CompletenessListing(await subtree.WalkAsync(parsed, budget)));
        if (start.Rejection is { } refused)
        {
            return refused;
        }

        var page = start.Value!;
        var listing = page.Listing;
        var response = new GetCompletenessResponse
        {
            NodeId = identity.NodeId,
            Period = parsed.ToString(),
            NodeCount = (uint)listing.Nodes.Count,
            MissingCount = (uint)listing.Missing.Count,
            LateCount = (uint)listing.Late.Count,
        };
        if (Timeliness.DueInstant(catalogue, parsed) is { } due)
        {
            response.DueTime = Timestamp.FromDateTimeOffset(due);
        }

        var count = PageTokens.Take(page.Offset, listing.Count, PageTokens.Size(request.PageSize, DefaultWalkPageSize, MaxWalkPageSize), listing.SizeOf);
        var end = page.Offset + count;
        for (var i = page.Offset; i < end; i++)
        {
            listing.AddTo(response, i);
        }

        response.NextPageToken = pages.Next(page, end, hash);
        return response;
    }

    public async Task<Outcome<GetTargetsResponse>> TargetsAsync(GetTargetsRequest request, CallBudget budget)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Period.TryParse(request.Period, out var parsed))
        {
            return MalformedPeriod(request.Period);
        }

        const string method = "GetTargets";
        var hash = PageTokens.RequestHash(method, WithoutPage(request));
        var start = await pages.StartAsync(method, request.PageToken, hash, async () =>
        {
            var held = store.Read(s => s.Summaries.ById(parsed.ToString()));
            var aggregates = held is null ? [] : Summary.Parser.ParseFrom(held.SummaryBytes).Aggregates;
            var standings = Figures.Compute(catalogue, aggregates).Where(static f => f.Attainment is not null)
                .Select(static f => new TargetStanding { Indicator = f.Indicator, Attainment = Convert(f.Attainment!), Value = Convert(f.Value) })
                .ToList();
            return new TargetsListing(standings, (await subtree.WalkAsync(parsed, budget)).Leaves);
        });
        if (start.Rejection is { } refused)
        {
            return refused;
        }

        var page = start.Value!;
        var listing = page.Listing;
        var count = PageTokens.Take(page.Offset, listing.Count, PageTokens.Size(request.PageSize, DefaultWalkPageSize, MaxWalkPageSize), listing.SizeOf);
        var response = new GetTargetsResponse { NodeId = identity.NodeId, Period = parsed.ToString(), LaggingUnitCount = (uint)listing.Count };
        response.Targets.AddRange(listing.Page(page.Offset, count));
        response.NextPageToken = pages.Next(page, page.Offset + count, hash);
        return response;
    }

    /// <summary>
    /// One indicator across periods, one page at a time: of this node, or of <paramref name="unitId"/> when it names a
    /// hosted unit. The range is computed again for every page, so its token names a period, not a held listing.
    /// </summary>
    public Outcome<GetHistoryResponse> History(GetHistoryRequest request, string unitId = "")
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!catalogue.TryGet(request.IndicatorId, out var indicator))
        {
            return Rejection.Of(RejectionReason.UnknownIndicator, $"indicator_id '{Aggregator.Identifiers.Echo.Of(request.IndicatorId)}' is not in the catalogue.", "indicator_id");
        }

        if (!Period.TryParse(request.FromPeriod, out var from))
        {
            return Rejection.Of(RejectionReason.MalformedPeriod, $"from_period '{request.FromPeriod}' is malformed.", "from_period");
        }

        if (!Period.TryParse(request.ToPeriod, out var to) || to.Type != from.Type || to < from)
        {
            return Rejection.Of(RejectionReason.MalformedPeriod,
                $"to_period '{request.ToPeriod}' must be a period of the same type as from_period, not before it.", "to_period");
        }

        const string method = "GetHistory";
        var hash = PageTokens.RequestHash(method, WithoutPage(request));
        var periodCount = PeriodsFrom(from, to);
        var offset = 0;
        if (request.PageToken.Length > 0)
        {
            var read = PageTokens.Read(request.PageToken, hash, method);
            if (read.Rejection is { } refused)
            {
                return refused;
            }

            if (read.Value!.Cursor.ListingId != UInt128.Zero || read.Value.Cursor.Offset >= periodCount)
            {
                return PageTokens.Beyond(method);
            }

            offset = read.Value.Cursor.Offset;
        }

        // A hosted unit's history is its own reports; the node's is its summaries.
        var unit = unitId.Length == 0 ? null : store.Read(s => s.Units.ById(unitId));
        if (unitId.Length > 0 && unit is null)
        {
            return Rejection.Of(RejectionReason.UnknownUnit, $"unit '{unitId}' is not hosted by node {identity.NodeId}.", "node_id");
        }

        var response = new GetHistoryResponse { NodeId = unit?.Id ?? identity.NodeId, Indicator = indicator };
        var period = from;
        for (var i = 0; i < offset; i++)
        {
            period = period.Next();
        }

        var points = new List<HistoryPoint>();
        var count = PageTokens.Take(offset, periodCount, PageTokens.Size(request.PageSize, DefaultHistoryPageSize, MaxHistoryPageSize), _ =>
        {
            var point = Point(indicator, unit, period);
            points.Add(point);
            period = period.Next();
            return point.CalculateSize();
        });
        response.Points.AddRange(points.Take(count));
        var end = offset + count;
        response.NextPageToken = end < periodCount ? PageTokens.Of(new PageCursor(hash, UInt128.Zero, end)) : string.Empty;
        return response;
    }

    /// <summary>Periods from <paramref name="from"/> to <paramref name="to"/> (same type, not before it), both included.</summary>
    private static int PeriodsFrom(Period from, Period to)
    {
        var perYear = from.Type switch
        {
            PeriodType.Month => 12,
            PeriodType.Quarter => 4,
            PeriodType.Half => 2,
            _ => 1,
        };
        return ((to.Year - from.Year) * perYear) + to.Index - from.Index + 1;
    }

    private HistoryPoint Point(Indicator indicator, UnitDocument? unit, Period period)
    {
        var point = new HistoryPoint { Period = period.ToString() };
        var (aggregates, coverage) = unit is null ? NodeFigures(point.Period) : UnitFigures(unit.Id, point.Period);
        if (aggregates is not null)
        {
            var aggregate = aggregates.FirstOrDefault(a => a.IndicatorId == indicator.Id)
                ?? new IndicatorAggregate { IndicatorId = indicator.Id, Kind = indicator.Kind };
            point.HasData = true;
            point.Coverage = coverage;
            point.Total = Convert(Figures.Compute(indicator, aggregate));
        }

        return point;
    }

    private (IReadOnlyList<IndicatorAggregate>? Aggregates, Coverage? Coverage) NodeFigures(string period)
    {
        if (store.Read(s => s.Summaries.ById(period)) is not { } held)
        {
            return (null, null);
        }

        var summary = Summary.Parser.ParseFrom(held.SummaryBytes);
        return (summary.Aggregates, summary.Coverage);
    }

    private (IReadOnlyList<IndicatorAggregate>? Aggregates, Coverage? Coverage) UnitFigures(string unitId, string period)
    {
        if (store.Read(s => s.Reports.ById(ReportDocument.KeyOf(unitId, period))) is not { } document)
        {
            return (null, null);
        }

        var report = UnitReport.Parser.ParseFrom(document.Bytes);
        return (Aggregates.FromReport(catalogue, report.Values), new Coverage { ExpectedLeafCount = 1, ReportedLeafCount = 1 });
    }

    /// <summary>The wire form of a computed figure.</summary>
    public static IndicatorTotal Convert(IndicatorFigure figure) => new()
    {
        Indicator = figure.Indicator,
        Aggregate = figure.Aggregate,
        Value = Convert(figure.Value),
        Attainment = figure.Attainment is { } a ? Convert(a) : null,
    };

    private static Fraction? Convert(Rational? value) =>
        value is { } v ? new Fraction { Numerator = v.Numerator, Denominator = v.Denominator } : null;

    private static TargetAttainment Convert(Attainment a) =>
        new() { Target = a.Target, Met = a.Met, MeetingUnitCount = a.MeetingUnitCount, UnitCount = a.UnitCount };

    /// <summary>A drill-down row as the wire has it, its figures computed from the packed aggregates.</summary>
    private DrillDownRow Row(DrillRowFigures figures)
    {
        var row = new DrillDownRow { Rank = figures.Rank, SourceId = figures.Id, DisplayName = figures.Name, Kind = figures.Kind, Coverage = figures.Coverage };
        if (figures.Aggregates() is { } aggregates)
        {
            row.Totals.AddRange(Figures.Compute(catalogue, aggregates).Select(Convert));
            row.UnmetIndicatorIds.AddRange(Figures.UnmetTargetIds(catalogue, aggregates));
        }

        return row;
    }

    /// <summary>Ranks by the exact value of one indicator, then by id; rows without one share the last rank.</summary>
    private static List<DrillRowFigures> Rank(List<DrillRowFigures> rows, bool descending)
    {
        var withValue = rows.Where(static r => r.SortValue is not null).ToList();
        var ordered = descending
            ? withValue.OrderByDescending(static r => r.SortValue!.Value).ThenBy(static r => r.Id, StringComparer.Ordinal)
            : withValue.OrderBy(static r => r.SortValue!.Value).ThenBy(static r => r.Id, StringComparer.Ordinal);
        var ranked = new List<DrillRowFigures>(rows.Count);
        var rank = 0u;
        foreach (var row in ordered)
        {
            ranked.Add(row with { Rank = ++rank });
        }

        ranked.AddRange(rows.Where(static r => r.SortValue is null).OrderBy(static r => r.Id, StringComparer.Ordinal).Select(r => r with { Rank = rank + 1 }));
        return ranked;
    }

    private static GetDrillDownRequest WithoutPage(GetDrillDownRequest request) => Without(request, static r => { r.PageSize = 0; r.PageToken = string.Empty; });

    private static GetCompletenessRequest WithoutPage(GetCompletenessRequest request) => Without(request, static r => { r.PageSize = 0; r.PageToken = string.Empty; });

    private static GetTargetsRequest WithoutPage(GetTargetsRequest request) => Without(request, static r => { r.PageSize = 0; r.PageToken = string.Empty; });

    private static GetHistoryRequest WithoutPage(GetHistoryRequest request) => Without(request, static r => { r.PageSize = 0; r.PageToken = string.Empty; });

    private static T Without<T>(T request, Action<T> clear)
        where T : IDeepCloneable<T>
    {
        var copy = request.Clone();
        clear(copy);
        return copy;
    }

    private static Rejection MalformedPeriod(string period) =>
        Rejection.Of(RejectionReason.MalformedPeriod, $"period '{period}' is malformed; expected 2026, 2026-H1, 2026-Q1 or 2026-03.", "period");
}

/// <summary>
/// One drill-down row as held between pages: who it is, its rank, and its aggregates packed as their wire bytes
/// (a row's figures with every catalogue entry in them are built only for the page that shows it).
/// </summary>
internal sealed record DrillRowFigures(string Id, string Name, ContributionKind Kind, Coverage? Coverage, byte[]? PackedAggregates, Rational? SortValue)
{
    private static readonly FieldCodec<IndicatorAggregate> s_codec =
        FieldCodec.ForMessage(WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited), IndicatorAggregate.Parser);

    public uint Rank { get; init; }

    public int HeldBytes => Id.Length + Name.Length + (Coverage?.CalculateSize() ?? 0) + (PackedAggregates?.Length ?? 0);

    public static DrillRowFigures Of(
        string id, string name, ContributionKind kind, Coverage? coverage, IReadOnlyList<IndicatorAggregate>? aggregates, string sortIndicatorId)
    {
        Rational? sortValue = null;
        if (aggregates is not null && sortIndicatorId.Length > 0)
        {
            var aggregate = aggregates.FirstOrDefault(a => a.IndicatorId == sortIndicatorId);
            sortValue = aggregate is null ? null : Figures.HeadlineValue(aggregate);
        }

        return new DrillRowFigures(id, name, kind, coverage, aggregates is null ? null : Pack(aggregates), sortValue);
    }

    /// <summary>The row's aggregates; null when it has nothing for the period.</summary>
    public IReadOnlyList<IndicatorAggregate>? Aggregates()
    {
        if (PackedAggregates is null)
        {
            return null;
        }

        var aggregates = new RepeatedField<IndicatorAggregate>();
        var input = new CodedInputStream(PackedAggregates);
        while (input.ReadTag() != 0)
        {
            aggregates.AddEntriesFrom(input, s_codec);
        }

        return aggregates;
    }

    private static byte[] Pack(IReadOnlyList<IndicatorAggregate> aggregates)
    {
        var field = new RepeatedField<IndicatorAggregate>();
        field.AddRange(aggregates);
        var bytes = new byte[field.CalculateSize(s_codec)];
        var output = new CodedOutputStream(bytes);
        field.WriteTo(output, s_codec);
        output.Flush();
        return bytes;
    }
}

/// <summary>A drill-down's rows in rank order, held between its pages.</summary>
internal sealed class DrillListing(IReadOnlyList<DrillRowFigures> rows) : Listing
{
    public IReadOnlyList<DrillRowFigures> Rows { get; } = rows;

    public override int Count => Rows.Count;

    public override long HeldBytes { get; } = rows.Sum(static r => (long)r.HeldBytes);
}

/// <summary>A completeness answer held between its pages: every node, then the missing units, then the late ones.</summary>
internal sealed class CompletenessListing : Listing
{
    public CompletenessListing(SubtreeWalk walk)
    {
        Nodes = walk.Nodes;
        Missing = [.. walk.Leaves.Where(static l => !l.Reported).OrderBy(static l => l.UnitId, StringComparer.Ordinal)];
        Late = [.. walk.Leaves.Where(static l => l.Reported && !l.OnTime).OrderBy(static l => l.UnitId, StringComparer.Ordinal)];
        HeldBytes = Nodes.Sum(static n => (long)n.CalculateSize()) + Missing.Concat(Late).Sum(static l => (long)l.CalculateSize());
    }

    public IReadOnlyList<SubtreeNode> Nodes { get; }

    public IReadOnlyList<LeafStatus> Missing { get; }

    public IReadOnlyList<LeafStatus> Late { get; }

    public override int Count => Nodes.Count + Missing.Count + Late.Count;

    public override long HeldBytes { get; }

    public int SizeOf(int index) => index < Nodes.Count ? Nodes[index].CalculateSize()
        : index < Nodes.Count + Missing.Count ? Missing[index - Nodes.Count].CalculateSize()
        : Late[index - Nodes.Count - Missing.Count].CalculateSize();

    public void AddTo(GetCompletenessResponse response, int index)
    {
        if (index < Nodes.Count)
        {
            response.Nodes.Add(Nodes[index]);
        }
        else if (index < Nodes.Count + Missing.Count)
        {
            response.Missing.Add(Missing[index - Nodes.Count]);
        }
        else
        {
            response.Late.Add(Late[index - Nodes.Count - Missing.Count]);
        }
    }
}

/// <summary>
/// A targets answer held between its pages: the standings (the same on every page) and the lagging units, sorted by
/// id, each with the targets it falls short of; a page is a run of those units.
/// </summary>
internal sealed class TargetsListing : Listing
{
    private readonly IReadOnlyList<TargetStanding> _standings;
    private readonly uint[] _laggingCounts;

    public TargetsListing(IReadOnlyList<TargetStanding> standings, IReadOnlyList<LeafStatus> leaves)
    {
        _standings = standings;
        var targetIds = standings.Select(static t => t.Indicator.Id).ToHashSet(StringComparer.Ordinal);
        Units = [.. leaves
            .Select(l => (l.UnitId, Short: (IReadOnlyList<string>)[.. l.UnmetIndicatorIds.Where(targetIds.Contains)]))
            .Where(static u => u.Short.Count > 0)
            .OrderBy(static u => u.UnitId, StringComparer.Ordinal)];
        _laggingCounts = [.. standings.Select(t => (uint)Units.Count(u => u.Short.Contains(t.Indicator.Id)))];
        HeldBytes = Units.Sum(static u => (long)(u.UnitId.Length * u.Short.Count));
    }

    /// <summary>The units short of at least one target, by id, with those targets' indicator ids.</summary>
    public IReadOnlyList<(string UnitId, IReadOnlyList<string> Short)> Units { get; }

    public override int Count => Units.Count;

    public override long HeldBytes { get; }

    /// <summary>What a unit adds to a page: its id in the list of every target it falls short of.</summary>
    public int SizeOf(int index) => (Units[index].UnitId.Length + 2) * Units[index].Short.Count;

    /// <summary>Every standing, each with the units of [<paramref name="offset"/>, +<paramref name="count"/>) that fall short of it.</summary>
    public IEnumerable<TargetStanding> Page(int offset, int count)
    {
        var slice = Units.Skip(offset).Take(count).ToList();
        for (var i = 0; i < _standings.Count; i++)
        {
            var standing = _standings[i].Clone();
            standing.LaggingUnitCount = _laggingCounts[i];
            standing.LaggingUnitIds.AddRange(slice.Where(u => u.Short.Contains(standing.Indicator.Id)).Select(static u => u.UnitId));
            yield return standing;
        }
    }
}
