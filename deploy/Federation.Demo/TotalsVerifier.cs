using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Signing;
using Federation.Protos.V1;

namespace Federation.Demo;

/// <summary>The outcome of checking the top's totals: every difference found, and how many indicators matched.</summary>
internal sealed record VerificationReport(IReadOnlyList<string> Mismatches, int MatchingIndicatorCount, int IndicatorCount, int UnitCount, int LedgerItemCount)
{
    public bool Passed => Mismatches.Count == 0;

    public string Verdict => Passed
        ? $"verified: {MatchingIndicatorCount} indicators match the {UnitCount} village reports and the {LedgerItemCount} ledger items"
        : $"verification failed: {Mismatches.Count} problem(s); {MatchingIndicatorCount} of {IndicatorCount} indicators match the {UnitCount} village reports and the {LedgerItemCount} ledger items";
}

/// <summary>Checks the city's totals against the sample rows, field by field, and its signature against its pinned key.</summary>
internal static class TotalsVerifier
{
    public static VerificationReport Verify(
        GetTotalsResponse totals, SampleSheet sheet, IReadOnlyList<LedgerRow> ledger, DateTimeOffset now, CatalogueIndex catalogue, byte[] signerPublicKey)
    {
        var mismatches = new List<string>();
        var coverage = totals.Coverage ?? new Coverage();
        if (coverage.ReportedLeafCount != sheet.Rows.Count || coverage.ExpectedLeafCount != sheet.Rows.Count)
        {
            mismatches.Add($"coverage: {coverage.ReportedLeafCount}/{coverage.ExpectedLeafCount} reported, expected {sheet.Rows.Count}/{sheet.Rows.Count}");
        }

        CheckSignature(totals, signerPublicKey, mismatches);

        var byId = totals.Totals.ToDictionary(static t => t.Indicator.Id, static t => t.Aggregate ?? new IndicatorAggregate(), StringComparer.Ordinal);
        var matching = 0;
        foreach (var indicator in catalogue.Indicators)
        {
            var differences = byId.TryGetValue(indicator.Id, out var actual)
                ? Compare(actual, ExpectedTotals.For(indicator, sheet, ledger, now, id => catalogue.TryGet(id, out var found) ? found : null))
                : ["missing from the city's totals"];
            mismatches.AddRange(differences.Select(d => $"{indicator.Id}: {d}"));
            matching += differences.Count == 0 ? 1 : 0;
        }

        mismatches.AddRange(byId.Keys.Where(id => !catalogue.TryGet(id, out _)).Select(static id => $"{id}: not in the catalogue"));
        return new VerificationReport(mismatches, matching, catalogue.Indicators.Count, sheet.Rows.Count, ledger.Count);
    }

    private static List<string> Compare(IndicatorAggregate actual, ExpectedAggregate expected)
    {
        var differences = new List<string>();
        Field("unit_count", actual.UnitCount, expected.UnitCount);
        Field("total", actual.Total, expected.Total);
        Field("denominator_total", actual.DenominatorTotal, expected.DenominatorTotal);
        Field("min", actual.Min, expected.Min);
        Field("max", actual.Max, expected.Max);
        Field("meeting_target_count", actual.MeetingTargetCount, expected.MeetingTargetCount);
        var categories = string.Join(" ", actual.Categories.Where(static c => c.UnitCount > 0).OrderBy(static c => c.Code, StringComparer.Ordinal).Select(static c => $"{c.Code}:{c.UnitCount}"));
        var expectedCategories = string.Join(" ", expected.Categories.OrderBy(static c => c.Key, StringComparer.Ordinal).Select(static c => $"{c.Key}:{c.Value}"));
        if (categories != expectedCategories)
        {
            differences.Add($"categories [{categories}], expected [{expectedCategories}]");
        }

        return differences;

        void Field(string name, long value, long expectedValue)
        {
            if (value != expectedValue)
            {
                differences.Add($"{name} {value}, expected {expectedValue}");
            }
        }
    }

    /// <summary>The figures shown must be the ones the city signed, under the key the launcher generated for it.</summary>
    private static void CheckSignature(GetTotalsResponse totals, byte[] signerPublicKey, List<string> mismatches)
    {
        if (totals.SignedSummary is null)
        {
            mismatches.Add("signed_summary: missing");
            return;
        }

        var verification = SignedMessages.VerifySummary(totals.SignedSummary, signerPublicKey);
        if (!verification.IsValid)
        {
            mismatches.Add($"signed_summary: {verification.Message}");
            return;
        }

        var signed = verification.Value!.Aggregates.ToDictionary(static a => a.IndicatorId, StringComparer.Ordinal);
        foreach (var total in totals.Totals.Where(static t => t.Aggregate is { UnitCount: > 0 }))
        {
            if (!signed.TryGetValue(total.Indicator.Id, out var aggregate) || !aggregate.Equals(total.Aggregate))
            {
                mismatches.Add($"{total.Indicator.Id}: the figure shown is not the one in the signed summary");
            }
        }
    }
}
