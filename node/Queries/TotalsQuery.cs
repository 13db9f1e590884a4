using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Totals;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Queries;

/// <summary>A node's totals for a period: the stored signed summary and the figures derived from it.</summary>
internal sealed record TotalsView(SummaryDocument Document, Summary Summary, IReadOnlyList<IndicatorFigure> Figures);

/// <summary>Reads this node's current summary and derives ratios, means and target attainment.</summary>
internal sealed class TotalsQuery(NodeStore store, CatalogueIndex catalogue, NodeIdentity identity, Rollup.PullService pull)
{
    /// <summary>The totals, first pulled fresh from the subtree under the deadline when asked.</summary>
    public async Task<Outcome<TotalsView>> GetAsync(string period, bool refresh, Rollup.CallBudget budget)
    {
        if (refresh && Period.TryParse(period, out var parsed))
        {
            await pull.PullAsync(parsed.ToString(), refresh: true, budget);
        }

        return Get(string.Empty, period);
    }

    public Outcome<TotalsView> Get(string nodeId, string period)
    {
        if (!string.IsNullOrEmpty(nodeId) && nodeId != identity.NodeId)
        {
            return Rejection.Of(RejectionReason.UnknownNode, $"node_id '{nodeId}' is not node {identity.NodeId}.", "node_id");
        }

        if (!Period.TryParse(period, out var parsed))
        {
            return Rejection.Of(RejectionReason.MalformedPeriod, $"period '{period}' is malformed; expected 2026, 2026-H1, 2026-Q1 or 2026-03.", "period");
        }

        var document = store.Read(s => s.Summaries.ById(parsed.ToString()));
        if (document is null)
        {
            return Rejection.Of(RejectionReason.NoFigures, $"node {identity.NodeId} has no figures for {parsed} yet.", "period");
        }

        var summary = Summary.Parser.ParseFrom(document.SummaryBytes);
        return new TotalsView(document, summary, Figures.Compute(catalogue, summary.Aggregates));
    }
}
