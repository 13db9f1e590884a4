using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Reporting;

/// <summary>Gathers the hosted units' reports for a period and their history, and lets the core find the flags.</summary>
internal sealed class ReportFlagsQuery(CatalogueIndex catalogue, NodeStore store)
{
    /// <summary>Earlier periods of the same type a unit is compared with: a bounded window, so the work stays bounded too.</summary>
    public const int HistoryPeriodCount = 12;

    public ListFlagsResponse List(Period period)
    {
        var earlier = new List<string>();
        var cursor = period;
        for (var i = 0; i < HistoryPeriodCount && cursor.Year > 1; i++)
        {
            cursor = cursor.Previous();
            earlier.Add(cursor.ToString());
        }

        var units = store.Read(s =>
        {
            var hosted = s.Units.FindAll().Select(static u => u.Id).ToHashSet(StringComparer.Ordinal);
            var current = s.Reports.Find(r => r.Period == period.ToString()).Where(r => hosted.Contains(r.UnitId)).ToList();
            var past = earlier
                .SelectMany(p => s.Reports.Find(r => r.Period == p))
                .Where(r => hosted.Contains(r.UnitId))
                .GroupBy(static r => r.UnitId, StringComparer.Ordinal)
                .ToDictionary(static g => g.Key, static g => g.ToList(), StringComparer.Ordinal);
            return current.Select(r => new UnitFigures(
                r.UnitId,
                ValuesOf(r),
                [.. past.GetValueOrDefault(r.UnitId, []).Select(ValuesOf)],
                [.. r.Warnings.Select(static w => w.ToProto())])).ToList();
        });
        var (flags, omitted) = ReviewFlags.Find(catalogue, units);
        return new ListFlagsResponse { Flags = { flags }, OmittedCount = (uint)omitted };
    }

    private static IReadOnlyList<IndicatorValue> ValuesOf(ReportDocument document) => UnitReport.Parser.ParseFrom(document.Bytes).Values;
}
