using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Reports;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

public sealed class ReportValidatorTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Validate_ManyUnknownIndicators_ListsTheCapAndCountsTheRest()
    {
        var values = Enumerable.Range(0, 10_000).Select(static i => new IndicatorValue { IndicatorId = $"unknown_{i}", Count = 1 }).ToList();

        var result = ReportValidator.Validate(CatalogueIndex.Default, "370113001001", "2026-Q1", values, s_now);

        Assert.Equal(ReportValidator.MaxListedViolations, result.Violations.Count);
        Assert.Equal(10_000 - ReportValidator.MaxListedViolations, result.OmittedViolationCount);
        Assert.All(result.Violations, static v => Assert.Equal(RejectionReason.UnknownIndicator, v.Reason));
    }

    [Fact]
    public void Validate_HugeIndicatorId_EchoesABoundedPrefix()
    {
        var result = ReportValidator.Validate(
            CatalogueIndex.Default, "370113001001", "2026-Q1", [new IndicatorValue { IndicatorId = new string('q', 100_000), Count = 1 }], s_now);

        Assert.True(result.Violations[0].Description.Length < 200, result.Violations[0].Description);
    }

    [Fact]
    public void Validate_MalformedUnitId_IsRefusedBeforeTheValuesAreLookedAt()
    {
        var values = Enumerable.Range(0, 100).Select(static i => new IndicatorValue { IndicatorId = $"unknown_{i}", Count = 1 }).ToList();

        var result = ReportValidator.Validate(CatalogueIndex.Default, "a\v", "2026-Q1", values, s_now);

        var violation = Assert.Single(result.Violations);
        Assert.Equal(RejectionReason.MalformedId, violation.Reason);
        Assert.Equal("unit_id", violation.Field);
    }
}
