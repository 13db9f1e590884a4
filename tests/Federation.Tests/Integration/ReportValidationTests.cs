using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>Bad reports get InvalidArgument naming the field, and change nothing.</summary>
public sealed class ReportValidationTests : IAsyncLifetime
{
    private const string Village = "370113001001";
    private readonly TempFolder _folder = new();
    private TestNode _node = null!;

    public static TheoryData<string, IndicatorValue[], string, string> BadReports => new()
    {
        { "2026-Q1", [Reports.Count("party_members", -3)], "values[0].count", "NEGATIVE_VALUE" },
        { "2026-Q1", [Reports.Count("members_developed", 2), Reports.Count("members_developed_under35", 3)], "values[1].count", "NUMERATOR_EXCEEDS_DENOMINATOR" },
        { "2026-Q1", [Reports.Count("party_memberz", 3)], "values[0].indicator_id", "UNKNOWN_INDICATOR" },
        { "2026-Q5", [Reports.Count("party_members", 3)], "period", "MALFORMED_PERIOD" },
        { "Q1-2026", [Reports.Count("party_members", 3)], "period", "MALFORMED_PERIOD" },
        { "2099-Q1", [Reports.Count("party_members", 3)], "period", "PERIOD_NOT_STARTED" },
        { "2026-Q1", [Reports.Flag("party_members", true)], "values[0]", "VALUE_KIND_MISMATCH" },
        { "2026-Q1", [Reports.Category("star_rating", "7")], "values[0].category", "UNKNOWN_CATEGORY" },
        { "2026-Q1", [Reports.Count("satisfaction_rate", 1)], "values[0].indicator_id", "DERIVED_INDICATOR" },
        { "2026-Q1", [Reports.Count("party_members", 1), Reports.Count("party_members", 2)], "values[1].indicator_id", "DUPLICATE_INDICATOR" },
        { "2026-Q1", [], "values", "EMPTY_REPORT" },
    };

    public async Task InitializeAsync() =>
        _node = await TestNode.StartAsync(new NodeSpec(Village, "village") { HostedUnitIds = [Village] }, _folder.Sub(Village));

    public async Task DisposeAsync()
    {
        Assert.Empty(_node.Logs.Errors);
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Theory]
    [MemberData(nameof(BadReports))]
    public async Task SubmitReport_BadInput_IsInvalidArgumentNamingTheFieldAndStoresNothing(string period, IndicatorValue[] values, string field, string reason)
    {
        var request = new SubmitReportRequest { UnitId = Village, Period = period, Values = { values } };

        var status = await Rpc.FailsAsync(
            async () => await _node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline()), StatusCode.InvalidArgument, reason);

        Assert.Equal(field, Rpc.ViolatedField(status));
        Assert.Contains(field, status.Message, StringComparison.Ordinal);
        await AssertNoReportAsync("2026-Q1");
        if (Aggregator.Periods.Period.TryParse(period, out var parsed))
        {
            await AssertNoReportAsync(parsed.ToString());
        }
    }

    [Fact]
    public async Task SubmitReport_UnitNotHostedHere_IsNotFoundAndStoresNothing()
    {
        var request = new SubmitReportRequest { UnitId = "370113001002", Period = "2026-Q1", Values = { Reports.Count("party_members", 3) } };

        var status = await Rpc.FailsAsync(
            async () => await _node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline()), StatusCode.NotFound, "UNKNOWN_UNIT");

        Assert.Equal("unit_id", Rpc.ViolatedField(status));
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _node.Reporting.GetReportAsync(new GetReportRequest { UnitId = "370113001002", Period = "2026-Q1" }, deadline: Rpc.Deadline()));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task SubmitReport_Valid_IsReadBackByteForByte()
    {
        var request = new SubmitReportRequest { UnitId = Village, Period = "2026-Q1", Values = { Reports.Count("reserve_cadres", 2), Reports.Count("party_members", 30) } };

        var ack = await _node.Reporting.SubmitReportAsync(request, deadline: Rpc.Deadline());
        var stored = await _node.Reporting.GetReportAsync(new GetReportRequest { UnitId = Village, Period = "2026-Q1" }, deadline: Rpc.Deadline());

        Assert.Equal(ack.Digest, stored.Digest);
        Assert.Equal(ack.Digest.ToByteArray(), Aggregator.Signing.Digests.Sha256(stored.ReportBytes.Span));
        Assert.Equal(["party_members", "reserve_cadres"], stored.Report.Values.Select(static v => v.IndicatorId));
    }

    private async Task AssertNoReportAsync(string period)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await _node.Reporting.GetReportAsync(new GetReportRequest { UnitId = Village, Period = period }, deadline: Rpc.Deadline()));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }
}
