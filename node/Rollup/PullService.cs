using Federation.Node.Operations;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Rollup;

/// <summary>
/// Pull on demand. With refresh, the node asks all its children in parallel for their own refreshed
/// summaries, keeping a margin of the caller's deadline for itself; a child that does not answer in
/// time stays represented by the last summary held for it, marked stale with its age. What the
/// children send is applied under the same version rules as a push.
/// </summary>
internal sealed class PullService(
    NodeStore store, StoreWriter writer, RebuildScheduler rebuilds, SummaryIntake intake, PeerCalls peers, NodeMetrics metrics, ILogger<PullService> logger)
{
    /// <summary>Returns the node's summary for the period, refreshed from below first when asked.</summary>
    public async Task<SummaryDocument?> PullAsync(string period, bool refresh, CallBudget budget)
    {
        var start = metrics.Start();
        if (refresh)
        {
            await RefreshChildrenAsync(period, budget);
        }

        var summary = await rebuilds.RebuildIfDirtyAsync(period, budget.CancellationToken);
        metrics.PullAnswered(start, refresh);
        return summary;
    }

    private async Task RefreshChildrenAsync(string period, CallBudget budget)
    {
        var cancellationToken = budget.CancellationToken;
        var children = store.Read(static s => s.Children.FindAll().ToList());
        if (children.Count == 0)
        {
            return;
        }

        var hop = peers.Down(budget);
        var answers = await Task.WhenAll(children.Select(child => AskAsync(child, period, hop)));

        // Applied together, so that one group commit takes them all.
        var applied = await Task.WhenAll(answers.Select(a => ApplyAsync(a.Child, a.Answered, a.Summary, period, cancellationToken)));
        var silent = children.Where((_, i) => !applied[i]).Select(static c => c.Id).ToList();
        var answered = children.Where((_, i) => applied[i]).Select(static c => c.Id).ToList();
        await writer.ExecuteAsync(context =>
        {
            foreach (var childId in answered)
            {
                SummaryIntake.ClearStale(context, childId, period);
            }

            foreach (var childId in silent)
            {
                var key = ChildSummaryDocument.KeyOf(childId, period);
                if (context.Store.Stale.ById(key) is null)
                {
                    context.Store.Stale.Insert(new StaleDocument { Id = key, ChildId = childId, Period = period, SinceTicks = context.UtcNow().UtcTicks });
                    context.MarkDirty(period);
                }
            }

            return true;
        }, cancellationToken);
    }

    /// <summary>Applies a child's answer; false when it did not answer, or answered with something unusable.</summary>
    private async Task<bool> ApplyAsync(ChildDocument child, bool answered, SignedSummary? signed, string period, CancellationToken cancellationToken)
    {
        if (!answered)
        {
            return false;
        }

        if (signed is null)
        {
            return true;
        }

        var outcome = await intake.AcceptAsync(signed, cancellationToken, expectedChildId: child.Id, expectedPeriod: period);
        if (outcome.Rejection is { } rejection && rejection.Reason != Aggregator.RejectionReason.StaleVersion)
        {
            // Bounded: the message may quote what the child sent.
            PullLog.Refused(logger, child.Id, period, Aggregator.Identifiers.Echo.Truncate(rejection.Message, 512));
            return false;
        }

        return true;
    }

    private async Task<(ChildDocument Child, bool Answered, SignedSummary? Summary)> AskAsync(ChildDocument child, string period, CallBudget hop)
    {
        var answer = await peers.AskAsync(child, hop, (channel, call) =>
            new FederationService.FederationServiceClient(channel).PullSummaryAsync(new PullSummaryRequest { Period = period, Refresh = true }, call).ResponseAsync);
        if (!answer.Answered)
        {
            PullLog.NoAnswer(logger, child.Id, period, answer.Status);
        }

        return (child, answer.Answered, answer.Value?.SignedSummary);
    }
}

/// <summary>Source-generated log messages of pulls.</summary>
internal static partial class PullLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Child {ChildId} did not answer the pull of {Period} ({StatusCode}); its last figures are used, marked stale")]
    public static partial void NoAnswer(ILogger logger, string childId, string period, StatusCode statusCode);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "The summary child {ChildId} sent for {Period} was refused: {Reason}")]
    public static partial void Refused(ILogger logger, string childId, string period, string reason);
}
