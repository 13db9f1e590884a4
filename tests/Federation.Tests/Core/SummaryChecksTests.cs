using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;

namespace Federation.Tests.Core;

/// <summary>Every aggregate field of a child's summary is checked against its kind, with the reason a report breaking the same rule gets.</summary>
public sealed class SummaryChecksTests
{
    private static readonly DateTimeOffset s_receiveTime = new(2026, 4, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Check_SummaryBuiltFromValidReports_Passes()
    {
        Assert.Null(SummaryChecks.Check(ValidSummary(), CatalogueIndex.Default, s_receiveTime));
    }

    [Theory]
    [InlineData("categories on a COUNT", RejectionReason.ValueKindMismatch, "summary.aggregates[party_members].categories")]
    [InlineData("denominator on a COUNT", RejectionReason.ValueKindMismatch, "summary.aggregates[party_members].denominator_total")]
    [InlineData("min on a COUNT", RejectionReason.ValueKindMismatch, "summary.aggregates[party_members].min")]
    [InlineData("total on a CATEGORY", RejectionReason.ValueKindMismatch, "summary.aggregates[classification_grade].total")]
    [InlineData("negative total", RejectionReason.NegativeValue, "summary.aggregates[party_members].total")]
    [InlineData("negative denominator", RejectionReason.NegativeValue, "summary.aggregates[satisfaction_rate].denominator_total")]
    [InlineData("total beyond what its units can report", RejectionReason.ValueTooLarge, "summary.aggregates[party_members].total")]
    [InlineData("more yes than units", RejectionReason.ValueTooLarge, "summary.aggregates[secretary_college_degree].total")]
    [InlineData("more units than leaves reported", RejectionReason.ValueTooLarge, "summary.aggregates[party_members].unit_count")]
    [InlineData("more meeting the target than units", RejectionReason.ValueTooLarge, "summary.aggregates[party_members].meeting_target_count")]
    [InlineData("max beyond one unit's largest value", RejectionReason.ValueTooLarge, "summary.aggregates[secretary_age].max")]
    [InlineData("min above max", RejectionReason.InconsistentCounts, "summary.aggregates[secretary_age].min")]
    [InlineData("measure total outside units × [min, max]", RejectionReason.InconsistentCounts, "summary.aggregates[secretary_age].total")]
    [InlineData("numerator above denominator", RejectionReason.NumeratorExceedsDenominator, "summary.aggregates[satisfaction_rate].total")]
    [InlineData("unknown category code", RejectionReason.UnknownCategory, "summary.aggregates[classification_grade].categories")]
    [InlineData("histogram that does not add up", RejectionReason.InconsistentCounts, "summary.aggregates[classification_grade].categories")]
    [InlineData("more reported than expected", RejectionReason.InconsistentCounts, "summary.coverage")]
    [InlineData("more leaves than any summary may cover", RejectionReason.ValueTooLarge, "summary.coverage.expected_leaf_count")]
    [InlineData("no coverage", RejectionReason.MissingField, "summary.coverage")]
    [InlineData("version 2^63-1", RejectionReason.FutureVersion, "summary.version")]
    public void Check_AggregateBreakingARule_IsRefusedWithThatRulesReason(string rule, RejectionReason reason, string field)
    {
        var summary = ValidSummary();
        Break(summary, rule);

        var violation = SummaryChecks.Check(summary, CatalogueIndex.Default, s_receiveTime);

        Assert.NotNull(violation);
        Assert.Equal((reason, field), (violation.Value.Reason, violation.Value.Field));
    }

    [Fact]
    public void Check_SmallVersionsAndOnesFromTheSendersClock_AreAccepted()
    {
        var summary = ValidSummary();
        foreach (var version in new ulong[] { 1, 2, 3, (ulong)s_receiveTime.ToUnixTimeMilliseconds(), VersionRules.LatestAcceptableVersion(s_receiveTime) })
        {
            summary.Version = version;
            Assert.Null(SummaryChecks.Check(summary, CatalogueIndex.Default, s_receiveTime));
        }

        summary.Version = VersionRules.LatestAcceptableVersion(s_receiveTime) + 1;
        Assert.Equal(RejectionReason.FutureVersion, SummaryChecks.Check(summary, CatalogueIndex.Default, s_receiveTime)?.Reason);
    }

    /// <summary>Three units' complete reports merged: every kind is present with at least one unit.</summary>
    internal static Summary ValidSummary()
    {
        var rng = new Random(31);
        var units = Enumerable.Range(1, 3).Select(i =>
        {
            var report = new UnitReport { UnitId = $"u{i}", Period = "2026-Q1", Version = 1, Values = { Reports.Random(rng) } };
            return new HostedUnitInput(report.UnitId, report, Digests.Sha256(report.ToByteArray()));
        }).ToList();
        return SummaryBuilder.Build(new SummaryInputs(
            "370113001", "township", Period.Quarter(2026, 1), 1, s_receiveTime, CatalogueIndex.Default, units, []));
    }

    private static void Break(Summary summary, string rule)
    {
        IndicatorAggregate A(string id) => summary.Aggregates.Single(a => a.IndicatorId == id);
        var members = A("party_members");
        var age = A("secretary_age");
        var rate = A("satisfaction_rate");
        var grade = A("classification_grade");
        switch (rule)
        {
            case "categories on a COUNT": members.Categories.Add(new CategoryCount { Code = "good", UnitCount = 0 }); break;
            case "denominator on a COUNT": members.DenominatorTotal = 5; break;
            case "min on a COUNT": members.Min = 1; break;
            case "total on a CATEGORY": grade.Total = 1; break;
            case "negative total": members.Total = -1; break;
            case "negative denominator": rate.DenominatorTotal = -1; break;
            case "total beyond what its units can report": members.Total = (ReportValidator.MaxValue * members.UnitCount) + 1; break;
            case "more yes than units": A("secretary_college_degree").Total = A("secretary_college_degree").UnitCount + 1; break;
            case "more units than leaves reported": members.UnitCount = summary.Coverage.ReportedLeafCount + 1; break;
            case "more meeting the target than units": members.MeetingTargetCount = members.UnitCount + 1; break;
            case "max beyond one unit's largest value": age.Max = ReportValidator.MaxValue + 1; break;
            case "min above max": age.Min = age.Max + 1; break;
            case "measure total outside units × [min, max]": age.Total = (age.Max * age.UnitCount) + 1; break;
            case "numerator above denominator": rate.Total = rate.DenominatorTotal + 1; break;
            case "unknown category code": grade.Categories[0].Code = "zz"; break;
            case "histogram that does not add up": grade.Categories[0].UnitCount++; break;
            case "more reported than expected": summary.Coverage.ReportedLeafCount = summary.Coverage.ExpectedLeafCount + 1; break;
            case "more leaves than any summary may cover": summary.Coverage.ExpectedLeafCount = SummaryChecks.MaxLeafCount + 1; break;
            case "no coverage": summary.Coverage = null; break;
            case "version 2^63-1": summary.Version = long.MaxValue; break;
            default: throw new ArgumentOutOfRangeException(nameof(rule), rule, "no such rule");
        }
    }
}
