using Federation.Aggregator.Aggregation;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Ratings;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Aggregator.Summaries;

/// <summary>A unit hosted by the node, with its current report for the period if it has one.</summary>
/// <param name="UnitId">The unit's id.</param>
/// <param name="Report">The stored report, parsed; null when the unit has not reported.</param>
/// <param name="ReportDigest">SHA-256 of the stored report bytes.</param>
/// <param name="Approved">The current report is approved by this node's reviewer.</param>
/// <param name="CorrectedAfterApproval">The current report replaced one that was approved, then reopened.</param>
public sealed record HostedUnitInput(string UnitId, UnitReport? Report, byte[] ReportDigest, bool Approved = false, bool CorrectedAfterApproval = false);

/// <summary>
/// A hosted unit's current report for the period, as stored: its exact bytes, which the build reads for what
/// it merges without parsing them into a <see cref="UnitReport"/> (bytes it cannot read so are parsed; bytes
/// that do not parse throw as <see cref="UnitReport.Parser"/> does). The summary is the one a
/// <see cref="HostedUnitInput"/> with the parsed report gives.
/// </summary>
/// <param name="UnitId">The unit's id.</param>
/// <param name="ReportBytes">The stored report bytes (a serialized <see cref="UnitReport"/>).</param>
/// <param name="ReportDigest">SHA-256 of the stored report bytes.</param>
/// <param name="Approved">The current report is approved by this node's reviewer.</param>
/// <param name="CorrectedAfterApproval">The current report replaced one that was approved, then reopened.</param>
public sealed record StoredReportInput(string UnitId, ReadOnlyMemory<byte> ReportBytes, byte[] ReportDigest, bool Approved = false, bool CorrectedAfterApproval = false);

/// <summary>An enrolled child, with the summary the node holds for it for the period if any.</summary>
/// <param name="ChildId">The child's node id.</param>
/// <param name="Summary">The verified summary held; null when the child has sent nothing for the period.</param>
/// <param name="SummaryDigest">SHA-256 of the held summary bytes.</param>
/// <param name="ReceiveTime">When the held summary was received.</param>
/// <param name="FallbackExpectedLeafCount">Leaves expected below a child that has sent nothing for the period.</param>
/// <param name="Stale">True when the held summary could not be confirmed fresh.</param>
public sealed record ChildInput(
    string ChildId, Summary? Summary, byte[] SummaryDigest, DateTimeOffset ReceiveTime, uint FallbackExpectedLeafCount, bool Stale = false);

/// <summary>A hosted unit's rectification ledger for the period, tallied at the build time.</summary>
/// <param name="Tally">The unit's items as they stand (its unit id and period are the tally's).</param>
/// <param name="TallyDigest">SHA-256 of the tally's bytes as stored, which the contribution cites.</param>
public sealed record LedgerInput(LedgerTally Tally, byte[] TallyDigest);

/// <summary>Everything a node's summary for one period is built from. The caller supplies the instant and version.</summary>
public sealed record SummaryInputs(
    string NodeId,
    string Tier,
    Period Period,
    ulong Version,
    DateTimeOffset BuildTime,
    CatalogueIndex Catalogue,
    IReadOnlyList<HostedUnitInput> HostedUnits,
    IReadOnlyList<ChildInput> Children)
{
    /// <summary>For a year: the node's own current rating statement, cited and merged into the star histograms; null when it rated nobody.</summary>
    public OwnRating? Rating { get; init; }

    /// <summary>Hosted units' current reports given as their stored bytes, beside (not instead of) <see cref="SummaryInputs.HostedUnits"/>; each unit in one list only.</summary>
    public IReadOnlyList<StoredReportInput> StoredReports { get; init; } = [];

    /// <summary>The ledgers of hosted units with items for the period; their counts are those units' ledger-computed values.</summary>
    public IReadOnlyList<LedgerInput> Ledgers { get; init; } = [];
}

/// <summary>A node's own rating statement for the year, as its summary cites it.</summary>
/// <param name="Citation">Version, digest and rated count of the signed statement.</param>
/// <param name="Histograms">The statement's star histograms.</param>
public sealed record OwnRating(RatingCitation Citation, IReadOnlyList<StarHistogram> Histograms);

/// <summary>Builds a node's summary: the exact merge of its hosted reports and its children's summaries.</summary>
public static class SummaryBuilder
{
    /// <summary>Each thread's accumulator, kept between builds so that a merge allocates only its result.</summary>
    [ThreadStatic]
    private static AggregateAccumulator? t_accumulator;

    public static Summary Build(SummaryInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var parts = t_accumulator is { } cached && cached.Catalogue == inputs.Catalogue ? cached : new AggregateAccumulator(inputs.Catalogue);
        t_accumulator = null;
        try
        {
            return Build(inputs, parts);
        }
        finally
        {
            parts.Clear();
            t_accumulator = parts;
        }
    }

    /// <summary>The build itself; the inputs' aggregates are merged in one pass, in order: hosted units, children, ledgers.</summary>
    private static Summary Build(SummaryInputs inputs, AggregateAccumulator parts)
    {
        var histograms = new List<IReadOnlyList<StarHistogram>>();
        if (inputs.Rating is { } own)
        {
            histograms.Add(own.Histograms);
        }

        var contributions = new List<Contribution>();
        var silent = new List<string>();
        var stale = new List<StaleChild>();
        var unconfirmed = new Unconfirmed();
        uint expected = 0;
        uint reported = 0;
        uint onTime = 0;
        uint approved = 0;
        uint corrected = 0;

        // Timeliness.IsOnTime's due instant, worked out once for every unit.
        var due = Timeliness.DueInstant(inputs.Catalogue, inputs.Period);
        foreach (var unit in inputs.HostedUnits)
        {
            expected++;
            if (unit.Report is null)
            {
                silent.Add(unit.UnitId);
                continue;
            }

            parts.AddReport(unit.Report.Values, withoutLedgerComputed: true);
            AddUnitReport(unit.UnitId, unit.Report.Version, unit.Report.ReceiveTime, unit.ReportDigest, unit.Approved, unit.CorrectedAfterApproval);
        }

        // Merged as the hosted units' parsed reports are: reports only add, so their order among themselves does not matter.
        foreach (var stored in inputs.StoredReports)
        {
            expected++;
            if (!parts.TryAddStoredReport(stored.ReportBytes.Span, out var version, out var receiveTime))
            {
                var report = UnitReport.Parser.ParseFrom(stored.ReportBytes.Span);
                parts.AddReport(report.Values, withoutLedgerComputed: true);
                (version, receiveTime) = (report.Version, report.ReceiveTime);
            }

            AddUnitReport(stored.UnitId, version, receiveTime, stored.ReportDigest, stored.Approved, stored.CorrectedAfterApproval);
        }

        void AddUnitReport(string unitId, ulong version, Timestamp? receiveTime, byte[] digest, bool unitApproved, bool unitCorrected)
        {
            reported++;
            var unitOnTime = receiveTime is null || due is not { } dueInstant || receiveTime.ToDateTimeOffset() <= dueInstant;
            onTime += unitOnTime ? 1u : 0u;
            approved += unitApproved ? 1u : 0u;
            corrected += unitCorrected ? 1u : 0u;
            contributions.Add(new Contribution
            {
                SourceId = unitId,
                Kind = ContributionKind.UnitReport,
                Version = version,
                Digest = Google.Protobuf.ByteString.CopyFrom(digest),
                ExpectedLeafCount = 1,
                ReportedLeafCount = 1,
                OnTimeLeafCount = unitOnTime ? 1u : 0u,
                ApprovedLeafCount = unitApproved ? 1u : 0u,
                ReceiveTime = receiveTime,
            });
        }

        foreach (var child in inputs.Children)
        {
            if (child.Summary is null)
            {
                expected = checked(expected + child.FallbackExpectedLeafCount);
                silent.Add(child.ChildId);
                if (child.Stale)
                {
                    stale.Add(new StaleChild { ChildId = child.ChildId });
                    unconfirmed.AddStale(child.ChildId, child.FallbackExpectedLeafCount, null);
                }

                continue;
            }

            var coverage = child.Summary.Coverage ?? new Coverage();
            expected = checked(expected + coverage.ExpectedLeafCount);
            reported = checked(reported + coverage.ReportedLeafCount);
            onTime = checked(onTime + coverage.OnTimeLeafCount);
            approved = checked(approved + coverage.ApprovedLeafCount);
            corrected = checked(corrected + coverage.CorrectedAfterApprovalLeafCount);
            parts.Add(child.Summary.Aggregates);
            histograms.Add(child.Summary.StarHistograms);
            var receiveTime = Timestamp.FromDateTimeOffset(child.ReceiveTime);
            contributions.Add(new Contribution
            {
                SourceId = child.ChildId,
                Kind = ContributionKind.ChildSummary,
                Version = child.Summary.Version,
                Digest = Google.Protobuf.ByteString.CopyFrom(child.SummaryDigest),
                ExpectedLeafCount = coverage.ExpectedLeafCount,
                ReportedLeafCount = coverage.ReportedLeafCount,
                OnTimeLeafCount = coverage.OnTimeLeafCount,
                ApprovedLeafCount = coverage.ApprovedLeafCount,
                ReceiveTime = receiveTime,
            });
            if (child.Stale)
            {
                stale.Add(new StaleChild { ChildId = child.ChildId, AsOfTime = receiveTime });
                unconfirmed.AddStale(child.ChildId, coverage.ExpectedLeafCount, receiveTime);
            }
            else
            {
                unconfirmed.AddBelow(coverage);
            }
        }

        foreach (var ledger in inputs.Ledgers)
        {
            // The unit's listed, cleared and overdue counts merge as its values: totals and the closure rate follow exactly.
            var values = LedgerTallies.Values(inputs.Catalogue, ledger.Tally);
            if (values.Count == 0)
            {
                continue;
            }

            parts.AddReport(values);
            contributions.Add(new Contribution
            {
                SourceId = ledger.Tally.UnitId,
                Kind = ContributionKind.Ledger,
                Version = LedgerTallies.Version(ledger.Tally),
                Digest = Google.Protobuf.ByteString.CopyFrom(ledger.TallyDigest),
                ReceiveTime = LedgerTallies.NewestStepTime(ledger.Tally),
            });
        }

        // A unit may be cited twice, by its report and by its ledger: the kind orders them.
        contributions.Sort(static (a, b) => string.CompareOrdinal(a.SourceId, b.SourceId) is var bySource and not 0 ? bySource : a.Kind.CompareTo(b.Kind));
        silent.Sort(StringComparer.Ordinal);
        stale.Sort(static (a, b) => string.CompareOrdinal(a.ChildId, b.ChildId));
        var summary = new Summary
        {
            NodeId = inputs.NodeId,
            Tier = inputs.Tier,
            Period = inputs.Period.ToString(),
            Version = inputs.Version,
            BuildTime = Timestamp.FromDateTimeOffset(inputs.BuildTime),
            CatalogueVersion = inputs.Catalogue.Version,
            Coverage = new Coverage
            {
                ExpectedLeafCount = expected,
                ReportedLeafCount = reported,
                OnTimeLeafCount = onTime,
                ApprovedLeafCount = approved,
                CorrectedAfterApprovalLeafCount = corrected,
            },
        };
        summary.Aggregates.AddRange(parts.ToList());
        if (histograms.Exists(static h => h.Count > 0))
        {
            // Only year summaries carry ratings: for other periods there is nothing to merge.
            summary.StarHistograms.AddRange(StarHistograms.Merge(histograms));
        }
        summary.Rating = inputs.Rating?.Citation.Clone();
        summary.Contributions.AddRange(contributions);
        summary.Coverage.StaleChildren.AddRange(stale);
        summary.Coverage.SilentSourceIds.AddRange(silent);
        unconfirmed.WriteTo(summary.Coverage);
        return summary;
    }
}
