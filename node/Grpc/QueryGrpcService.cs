using Federation.Node.Hosting;
using Federation.Node.Queries;
using Federation.Node.Rollup;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for leaders' queries.</summary>
internal sealed class QueryGrpcService(TotalsQuery totals, NodeIdentity identity) : QueryService.QueryServiceBase
{
    public override Task<GetTotalsResponse> GetTotals(GetTotalsRequest request, ServerCallContext context)
    {
        var view = totals.Get(request.NodeId, request.Period).ValueOrThrow();
        var response = new GetTotalsResponse
        {
            NodeId = identity.NodeId,
            Tier = identity.Tier,
            DisplayName = identity.DisplayName,
            Period = view.Summary.Period,
            Coverage = view.Summary.Coverage,
            SignedSummary = SummaryRebuilder.ToSigned(view.Document),
        };
        response.Totals.AddRange(view.Figures.Select(static f => new IndicatorTotal
        {
            Indicator = f.Indicator,
            Aggregate = f.Aggregate,
            Value = f.Value is { } v ? new Fraction { Numerator = v.Numerator, Denominator = v.Denominator } : null,
            Attainment = f.Attainment is { } a
                ? new TargetAttainment { Target = a.Target, Met = a.Met, MeetingUnitCount = a.MeetingUnitCount, UnitCount = a.UnitCount }
                : null,
        }));
        return Task.FromResult(response);
    }
}
