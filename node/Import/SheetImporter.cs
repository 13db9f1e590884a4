using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Import;
using Federation.Aggregator.Reports;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Operations;
using Federation.Node.Reporting;
using Federation.Node.Security;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Import;

/// <summary>
/// Imports a sheet of hosted units' figures: reads every cell, checks every unit's report as SubmitReport
/// would, and stores all of them in one write only when nothing is wrong.
/// </summary>
internal sealed class SheetImporter(
    CatalogueIndex catalogue, ReportIntake intake, NodeStore store, NodeIdentity identity, TimeProvider time, NodeMetrics metrics)
{
    /// <summary>Most problems listed in one answer; further ones are counted.</summary>
    public const int MaxListedProblems = 100;

    public async Task<Outcome<ImportSheetResponse>> ImportAsync(ImportSheetRequest request, string callerScope, CancellationToken cancellationToken)
    {
        var outcome = await ImportCoreAsync(request, callerScope, cancellationToken);
        if (request.DryRun)
        {
            return outcome;
        }

        // One count per unit stored; a refused sheet stores nothing and counts once, by its first problem.
        if (outcome.Rejection is { } rejection)
        {
            metrics.ReportRefused("import", rejection.Reason);
        }
        else if (outcome.Value!.Stored)
        {
            metrics.ReportsReceived("import", outcome.Value.Units.Count);
        }
        else if (outcome.Value.Problems.Count > 0)
        {
            metrics.ReportRefused("import", outcome.Value.Problems[0].Reason);
        }

        return outcome;
    }

    private async Task<Outcome<ImportSheetResponse>> ImportCoreAsync(ImportSheetRequest request, string callerScope, CancellationToken cancellationToken)
    {
        var sheets = SheetFile.Read(request.FileName, request.FileBytes.ToByteArray(), out var unreadable);
        if (sheets is null)
        {
            return Rejection.Of(RejectionReason.UnreadableSheet, unreadable, "file_bytes");
        }

        // Display names resolve only to units the caller may import, so a name never reveals another unit's id.
        var self = identity.NodeId;
        var hosted = store.Read(s => s.Units.FindAll()
            .Select(u => new HostedUnit(u.Id, ScopeInterceptor.AdmitsUnit(callerScope, self, u.Id) ? u.DisplayName : string.Empty))
            .ToList());
        var contents = sheets.Select(sheet => SheetImport.Read(sheet, catalogue, hosted)).Where(static c => c.HasHeader).ToList();
        if (contents.Count == 0)
        {
            return Rejection.Of(RejectionReason.UnreadableSheet,
                "no sheet has a header row naming a unit column (unit_id, 单位编码 or 村名) and at least one indicator of the catalogue.", "file_bytes");
        }

        var problems = contents.SelectMany(static c => c.Problems).ToList();
        var rows = new List<SheetRow>();
        var firstRow = new Dictionary<string, SheetRow>(StringComparer.Ordinal);
        foreach (var row in contents.SelectMany(static c => c.Rows))
        {
            if (!ScopeInterceptor.AdmitsUnit(callerScope, identity.NodeId, row.UnitId))
            {
                return Rejection.Of(RejectionReason.OutOfScope, string.Create(CultureInfo.InvariantCulture,
                    $"unit {row.UnitId} (sheet '{Aggregator.Identifiers.Echo.Of(row.Sheet)}', row {row.Row}) is outside your scope, {callerScope} and what is below it."), "file_bytes");
            }

            if (firstRow.TryGetValue(row.UnitId, out var earlier))
            {
                if (earlier.Sheet != row.Sheet)
                {
                    problems.Add(new(row.Sheet, row.Row, string.Empty, row.UnitId, string.Empty,
                        $"单位 {row.UnitId} 已在工作表“{earlier.Sheet}”第 {earlier.Row} 行出现", $"unit {row.UnitId} already appears in sheet '{earlier.Sheet}', row {earlier.Row}", "DUPLICATE_UNIT"));
                }

                continue;
            }

            firstRow[row.UnitId] = row;
            rows.Add(row);
        }

        if (rows.Count == 0 && problems.Count == 0)
        {
            return Rejection.Of(RejectionReason.UnreadableSheet, "the sheet has a header row but no unit rows below it.", "file_bytes");
        }

        var now = time.GetUtcNow();
        var batch = new List<BatchUnit>(rows.Count);
        Aggregator.Periods.Period? period = null;
        // A unit with a bad cell is reported for its cells only: its report without them would be judged on part of its figures.
        var withBadCells = problems.Select(static p => p.UnitId).Where(static u => u.Length > 0).ToHashSet(StringComparer.Ordinal);
        foreach (var row in rows.Where(r => !withBadCells.Contains(r.UnitId)))
        {
            var validation = ReportValidator.Validate(catalogue, row.UnitId, request.Period, row.Values, now);
            if (!validation.IsValid)
            {
                foreach (var violation in validation.Violations)
                {
                    problems.AddRange(SheetReports.Place(catalogue, validation.Period, row, violation, row.Values));
                }

                continue;
            }

            period = validation.Period;
            batch.Add(new BatchUnit(row.UnitId, validation.Values));
        }

        if (problems.Count > 0 || period is not { } checkedPeriod)
        {
            return Answer(problems, [], stored: false);
        }

        var outcomes = await intake.SubmitBatchAsync(checkedPeriod, batch, request.Mode, request.DryRun, cancellationToken);
        foreach (var (outcome, row) in outcomes.Zip(rows))
        {
            foreach (var violation in outcome.Violations)
            {
                problems.AddRange(SheetReports.Place(catalogue, checkedPeriod, row, violation, outcome.Values));
            }
        }

        if (problems.Count > 0)
        {
            return Answer(problems, [], stored: false);
        }

        var names = hosted.ToDictionary(static u => u.Id, static u => u.DisplayName, StringComparer.Ordinal);
        return Answer([], [.. outcomes.Select(o => new UnitImport
        {
            UnitId = o.UnitId,
            DisplayName = names.GetValueOrDefault(o.UnitId, string.Empty),
            Version = o.Version,
            IsNew = o.IsNew,
            Changes = { o.Changes },
        })], stored: !request.DryRun);
    }

    private static ImportSheetResponse Answer(List<SheetProblem> problems, List<UnitImport> units, bool stored)
    {
        var response = new ImportSheetResponse { Stored = stored, OmittedProblemCount = (uint)Math.Max(0, problems.Count - MaxListedProblems) };
        response.Problems.AddRange(problems.Take(MaxListedProblems).Select(static p => new ImportProblem
        {
            Sheet = p.Sheet,
            Row = (uint)p.Row,
            Column = p.Column,
            UnitId = p.UnitId,
            IndicatorId = p.IndicatorId,
            MessageZh = p.MessageZh,
            MessageEn = p.MessageEn,
            Reason = p.Reason,
        }));
        response.Units.AddRange(units);
        return response;
    }
}
