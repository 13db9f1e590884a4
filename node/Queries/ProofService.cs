using Federation.Aggregator;
using Federation.Aggregator.Periods;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Queries;

/// <summary>
/// Builds proof chains and audit bundles from the history kept by digest, so that a chain always
/// matches the exact summary versions it links, even after newer versions replaced them.
/// </summary>
internal sealed class ProofService(NodeStore store, NodeIdentity identity, PeerCalls peers)
{
    /// <summary>The chain from the unit's report to this node's current summary of the period.</summary>
    public Task<Outcome<Proof>> ProveAsync(string period, string unitId, CallBudget budget)
    {
        if (!Period.TryParse(period, out var parsed))
        {
            return Task.FromResult<Outcome<Proof>>(Rejection.Of(RejectionReason.MalformedPeriod, $"period '{period}' is malformed.", "period"));
        }

        var current = store.Read(s => s.Summaries.ById(parsed.ToString()));
        return current is null
            ? Task.FromResult<Outcome<Proof>>(Rejection.Of(RejectionReason.NoFigures, $"node {identity.NodeId} has no figures for {parsed}.", "period"))
            : ChainAsync(current, unitId, budget);
    }

    /// <summary>The chain ending with this node's summary that has the given digest.</summary>
    public Task<Outcome<Proof>> ProveBelowAsync(string period, string unitId, byte[] summaryDigest, CallBudget budget)
    {
        var (held, pruned) = store.Read(s => (s.SummaryByDigest(period, summaryDigest), s.PrunedHistory().ById(period)));
        if (held is not null)
        {
            return ChainAsync(held, unitId, budget);
        }

        return Task.FromResult<Outcome<Proof>>(pruned is null
            ? Rejection.Of(RejectionReason.NoFigures, $"node {identity.NodeId} never signed a summary with digest {Convert.ToHexStringLower(summaryDigest)}.", "summary_digest")
            : Pruned(period, pruned, "summary_digest"));
    }

    /// <summary>A version of the period is not held, and the retention rule let versions of it go.</summary>
    private Rejection Pruned(string period, PrunedHistoryDocument pruned, string field) => Rejection.Of(RejectionReason.HistoryPruned,
        $"node {identity.NodeId} no longer keeps that version of {period}: replaced versions no kept summary cites are let go " +
        $"after History:KeepReplacedFor ({pruned.SummaryCount + pruned.ReportCount + pruned.ChildSummaryCount} of {period} so far).", field);

    /// <summary>This node's current summary and every input it cites.</summary>
    public Outcome<AuditBundle> Bundle(string period) => store.Read(s => Bundle(s, period));

    private Outcome<AuditBundle> Bundle(NodeStore store, string period)
    {
        if (!Period.TryParse(period, out var parsed) || store.Summaries.ById(parsed.ToString()) is not { } current)
        {
            return Rejection.Of(RejectionReason.NoFigures, $"node {identity.NodeId} has no figures for '{period}'.", "period");
        }

        var bundle = new AuditBundle { Summary = current.ToSigned() };
        var summary = Summary.Parser.ParseFrom(current.SummaryBytes);
        if (summary.Rating is { } rating && store.RatingStatements().ById(RatingStatementDocument.KeyOf(parsed.ToString(), (long)rating.Version)) is { } statement)
        {
            bundle.RatingStatement = statement.ToSigned();
        }

        foreach (var silentId in summary.Coverage?.SilentSourceIds ?? [])
        {
            // A silent child cites nothing; the count its parent used for it is what the auditor needs.
            if (store.Children.ById(silentId) is { } child)
            {
                bundle.SilentChildren.Add(new SilentChild { ChildId = child.Id, ExpectedLeafCount = (uint)child.ExpectedLeafCount });
            }
        }

        foreach (var contribution in summary.Contributions)
        {
            if (contribution.Kind == ContributionKind.ChildSummary && store.ChildSummaryByDigest(contribution.SourceId, parsed.ToString(), contribution.Digest.Span) is { } child)
            {
                bundle.ChildSummaries.Add(child.ToSigned());
            }
            else if (contribution.Kind == ContributionKind.UnitReport && store.ReportByDigest(contribution.SourceId, parsed.ToString(), contribution.Digest.Span) is { } report)
            {
                bundle.UnitReports.Add(ByteString.CopyFrom(report.Bytes));
            }
            else if (contribution.Kind == ContributionKind.Ledger && store.LedgerTallyBytes.ById(Convert.ToHexStringLower(contribution.Digest.Span)) is { } tally)
            {
                bundle.LedgerTallies.Add(ByteString.CopyFrom(tally.Bytes));
            }
        }

        return bundle;
    }

    private async Task<Outcome<Proof>> ChainAsync(SummaryDocument top, string unitId, CallBudget budget)
    {
        var summary = Summary.Parser.ParseFrom(top.SummaryBytes);
        var signedTop = top.ToSigned();
        var hosted = summary.Contributions.FirstOrDefault(c => c.SourceId == unitId && c.Kind == ContributionKind.UnitReport);
        if (hosted is not null)
        {
            var (report, pruned) = store.Read(s => (s.ReportByDigest(unitId, summary.Period, hosted.Digest.Span), s.PrunedHistory().ById(summary.Period)));
            if (report is not null)
            {
                return new Proof { UnitId = unitId, Period = summary.Period, UnitReportBytes = ByteString.CopyFrom(report.Bytes), Links = { signedTop } };
            }

            if (pruned is not null)
            {
                return Pruned(summary.Period, pruned, "unit_id");
            }
        }

        // Statistical codes nest, so the child whose id prefixes the unit's is asked first.
        var candidates = summary.Contributions
            .Where(static c => c.Kind == ContributionKind.ChildSummary)
            .OrderByDescending(c => unitId.StartsWith(c.SourceId, StringComparison.Ordinal))
            .ToList();
        var hop = peers.Down(budget);
        foreach (var contribution in candidates)
        {
            if (store.Read(s => s.Children.ById(contribution.SourceId)) is not { } child)
            {
                continue;
            }

            // Not below this child, or the child cannot answer: try the next.
            var answer = await peers.AskAsync(child, hop, (channel, call) => new FederationService.FederationServiceClient(channel).GetProofChainAsync(
                new GetProofChainRequest { Period = summary.Period, UnitId = unitId, SummaryDigest = contribution.Digest }, call).ResponseAsync);

            // Only a chain that ends with the very summary cited here can be extended.
            if (answer.Value?.Proof is { Links.Count: > 0 } chain &&
                Aggregator.Signing.Digests.Sha256(chain.Links[^1].SummaryBytes.Span).AsSpan().SequenceEqual(contribution.Digest.Span))
            {
                chain.Links.Add(signedTop);
                return chain;
            }

            // The unit is below this child, whose version cited here is gone: say so rather than "not inside".
            if (answer.Error is { } error && RpcErrors.ReasonOf(error) == RejectionReason.HistoryPruned && unitId.StartsWith(child.Id, StringComparison.Ordinal))
            {
                return Rejection.Of(RejectionReason.HistoryPruned,
                    $"the chain to unit_id '{unitId}' in {summary.Period} passes through a version node {child.Id} no longer keeps ({error.Status.Detail})", "unit_id");
            }
        }

        return Rejection.Of(RejectionReason.UnknownUnit,
            $"unit_id '{unitId}' is not inside node {identity.NodeId}'s summary of {summary.Period} (or the node holding it did not answer).", "unit_id");
    }
}
