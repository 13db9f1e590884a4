using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;

namespace Federation.Tests.Core;

/// <summary>The whole-report rules: modes, the diff, required indicators and the catalogue's cross-indicator rules.</summary>
public sealed class ReportRulesTests
{
    private static readonly CatalogueIndex s_catalogue = CatalogueIndex.Default;

    [Fact]
    public void Apply_StrictCorrectionOmittingFields_NamesWhatItWouldDrop()
    {
        var merged = ReportMerge.Apply(SubmitMode.Unspecified, [Reports.Count("applicants", 1), Reports.Count("party_members", 4)], [Reports.Count("party_members", 5)]);

        Assert.Equal(["applicants"], merged.DroppedIndicatorIds);
        Assert.Contains("'applicants'", ReportMerge.DroppedViolation(merged.DroppedIndicatorIds).Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_Update_MergesGivenFieldsOverThePrevious()
    {
        var merged = ReportMerge.Apply(SubmitMode.Update, [Reports.Count("applicants", 1), Reports.Count("party_members", 4)], [Reports.Count("party_members", 5)]);

        Assert.Empty(merged.DroppedIndicatorIds);
        Assert.Equal([Reports.Count("applicants", 1), Reports.Count("party_members", 5)], merged.Values);
    }

    [Fact]
    public void Apply_Replace_TakesTheNewValuesAsTheWhole()
    {
        var merged = ReportMerge.Apply(SubmitMode.Replace, [Reports.Count("applicants", 1)], [Reports.Count("party_members", 5)]);

        Assert.Empty(merged.DroppedIndicatorIds);
        Assert.Equal([Reports.Count("party_members", 5)], merged.Values);
    }

    [Fact]
    public void Diff_ListsAddedChangedAndRemovedButNotUnchanged()
    {
        var changes = ReportMerge.Diff(
            [Reports.Count("applicants", 1), Reports.Count("party_members", 4), Reports.Flag("soft_and_lax", false)],
            [Reports.Count("activists", 2), Reports.Count("party_members", 5), Reports.Flag("soft_and_lax", false)]);

        Assert.Equal(["activists", "applicants", "party_members"], changes.Select(static c => c.IndicatorId));
        Assert.Null(changes[0].Old);
        Assert.Null(changes[1].New);
        Assert.Equal((4L, 5L), (changes[2].Old.Count, changes[2].New.Count));
    }

    [Fact]
    public void Check_YearReportMissingRequired_ListsThemAndQuarterDoesNot()
    {
        IndicatorValue[] values = [Reports.Count("party_members", 4)];

        var year = ReportRules.Check(s_catalogue, Period.Parse("2026"), values);
        var quarter = ReportRules.Check(s_catalogue, Period.Parse("2026-Q1"), values);

        var violation = Assert.Single(year.Violations);
        Assert.Equal(RejectionReason.MissingRequired, violation.Reason);
        Assert.Contains("'reserve_cadres'", violation.Description, StringComparison.Ordinal);
        Assert.True(quarter.IsValid);
    }

    [Theory]
    [InlineData("members_developed_under35", "members_developed", "under35_at_most_developed")]
    [InlineData("satisfaction_satisfied", "satisfaction_surveyed", "satisfied_at_most_surveyed")]
    [InlineData("party_group_leaders", "group_leaders", "party_group_leaders_at_most_group_leaders")]
    [InlineData("rectification_closed", "rectification_listed", "cleared_at_most_listed")]
    public void Check_ErrorRuleBroken_IsRuleViolatedNamingRuleAndFields(string left, string right, string rule)
    {
        var check = ReportRules.Check(s_catalogue, Period.Parse("2026-Q1"), [Reports.Count(left, 3), Reports.Count(right, 2)]);

        var violation = Assert.Single(check.Violations);
        Assert.Equal(RejectionReason.RuleViolated, violation.Reason);
        Assert.Contains(rule, violation.Description, StringComparison.Ordinal);
        Assert.Contains(left, violation.Description, StringComparison.Ordinal);
        Assert.Contains(right, violation.Description, StringComparison.Ordinal);
        Assert.True(ReportRules.Check(s_catalogue, Period.Parse("2026-Q1"), [Reports.Count(left, 2), Reports.Count(right, 2)]).IsValid);
    }

    [Fact]
    public void Check_ReserveBelowPosts_IsAWarningNotARefusal()
    {
        var check = ReportRules.Check(s_catalogue, Period.Parse("2026-Q1"), [Reports.Count("reserve_cadres", 1), Reports.Count("committee_posts", 5)]);

        Assert.True(check.IsValid);
        Assert.Equal("reserve_at_least_posts", Assert.Single(check.Warnings).RuleId);
    }

    [Fact]
    public void Create_RuleOnACategory_IsRefused()
    {
        var catalogue = s_catalogue.Catalogue.Clone();
        catalogue.Rules.Add(new ValidationRule
        {
            Id = "bad", LeftIndicatorId = "star_rating", RightIndicatorId = "party_members", Comparison = Comparison.AtMost, Severity = RuleSeverity.Error,
        });

        Assert.Throws<InvalidOperationException>(() => CatalogueIndex.Create(catalogue));
    }
}
