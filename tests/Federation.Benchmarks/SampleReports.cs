using Federation.Aggregator.Catalogues;
using Federation.Node.Cli;
using Federation.Protos.V1;

namespace Federation.Benchmarks;

/// <summary>
/// Realistic reports: the rows of the demo's sample quarter (every indicator a village fills in), reused
/// for any number of units. Unit <c>i</c> gets row <c>i mod rows</c> with its party members raised by
/// <c>i mod 23</c> plus a correction's delta, so totals differ from unit to unit and can be summed
/// independently. Party members appear in no rule and no ratio, so every such report stays valid.
/// </summary>
internal sealed class SampleReports
{
    public const string PartyMembers = "party_members";

    private readonly IReadOnlyList<IReadOnlyList<IndicatorValue>> _rows;

    private SampleReports(IReadOnlyList<IReadOnlyList<IndicatorValue>> rows) => _rows = rows;

    public static SampleReports Load(CatalogueIndex catalogue)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "sample-data", "2026-Q1.csv");
        var rows = ReportFile.Read(path, catalogue);
        if (rows.Count == 0 || rows.Any(static r => !r.Values.Any(static v => v.IndicatorId == PartyMembers)))
        {
            throw new BenchmarkException($"{path} must hold rows with {PartyMembers}.");
        }

        return new SampleReports([.. rows.Select(static r => r.Values)]);
    }

    /// <summary>Units after which <see cref="ValuesFor"/> repeats.</summary>
    public int Cycle => _rows.Count * 23;

    /// <summary>Unit <paramref name="unitIndex"/>'s values, its party members raised by <paramref name="delta"/> (a correction).</summary>
    public List<IndicatorValue> ValuesFor(int unitIndex, int delta = 0)
    {
        var values = _rows[unitIndex % _rows.Count].Select(static v => v.Clone()).ToList();
        var members = values.First(static v => v.IndicatorId == PartyMembers);
        members.Count += unitIndex % 23 + delta;
        return values;
    }

    /// <summary>The request a clerk sends for unit <paramref name="unitIndex"/>.</summary>
    public SubmitReportRequest Request(string unitId, string period, int unitIndex, int delta = 0)
    {
        var request = new SubmitReportRequest { UnitId = unitId, Period = period };
        request.Values.AddRange(ValuesFor(unitIndex, delta));
        return request;
    }
}

/// <summary>An error of the harness (not a goal missed): the run stops and exits non-zero.</summary>
internal sealed class BenchmarkException(string message) : Exception(message);
