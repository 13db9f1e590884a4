using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federation.Node.Queries;

/// <summary>
/// Sends a query about a node further down to the child on its path: the child whose id is the longest
/// prefix of the node id (statistical codes nest), or, for ids that do not nest, each child in turn.
/// A caller whose scope is a node below this one is routed through that node first, so only what is
/// below their scope's root is ever answered. Every hop keeps a margin of the caller's deadline.
/// </summary>
internal sealed class QueryRouter(NodeStore store, NodeIdentity identity, PeerCalls peers, ILogger<QueryRouter> logger)
{
    /// <summary>True when this node answers the query itself.</summary>
    public bool IsLocal(string nodeId, ServerCallContext context) =>
        WithinOf(context) is null && (string.IsNullOrEmpty(nodeId) || nodeId == identity.NodeId);

    /// <summary>True when <paramref name="nodeId"/> is a unit this node hosts and the caller may ask about it here.</summary>
    public bool IsHostedUnit(string nodeId, ServerCallContext context) =>
        WithinOf(context) is null && !string.IsNullOrEmpty(nodeId) && store.Read(s => s.Units.ById(nodeId)) is not null;

    /// <param name="nodeId">The node the query is about.</param>
    /// <param name="forward">The call to make to a child.</param>
    /// <param name="answeredFor">The node an answer says it is about: an answer about another node is never relayed.</param>
    /// <param name="context">The incoming call.</param>
    public Task<T> ForwardAsync<T>(
        string nodeId, Func<QueryService.QueryServiceClient, CallOptions, Task<T>> forward, Func<T, string> answeredFor, ServerCallContext context)
        where T : class =>
        ForwardOnChannelAsync(nodeId, (channel, call) => forward(new QueryService.QueryServiceClient(channel), call), answeredFor, context);

    /// <summary>As <see cref="ForwardAsync{T}"/>, for a query of any service: <paramref name="forward"/> makes the call on the child's channel.</summary>
    public async Task<T> ForwardOnChannelAsync<T>(
        string nodeId, Func<GrpcChannel, CallOptions, Task<T>> forward, Func<T, string> answeredFor, ServerCallContext context)
        where T : class
    {
        var within = WithinOf(context);
        var routeTo = within ?? nodeId;
        var headers = within is null ? null : new Metadata { { ScopeInterceptor.WithinHeader, within } };
        var hop = peers.Down(peers.For(context));
        var children = store.Read(static s => s.Children.FindAll().Where(static c => c.Address.Length > 0).ToList());
        var onPath = children.Where(c => routeTo.StartsWith(c.Id, StringComparison.Ordinal)).OrderByDescending(static c => c.Id.Length).ToList();

        // Statistical codes nest: the child whose id prefixes the node holds it, and only it is asked. For ids
        // that do not nest every child is asked at once, and an answer counts only when exactly one child
        // claims the node: a child answering for its sibling's subtree is then a conflict, not an answer.
        var asked = onPath.Count > 0 ? onPath : children;
        var answers = onPath.Count > 0
            ? await AskInTurnAsync(onPath, hop, forward, headers)
            : await Task.WhenAll(children.Select(child => peers.AskAsync(child, hop, forward, headers)));
        var claims = new List<(ChildDocument Child, ChildAnswer<T> Answer)>();
        RpcException? silent = null;
        foreach (var (child, answer) in asked.Zip(answers))
        {
            if (answer.Answered && answeredFor(answer.Value!) != nodeId)
            {
                RouterLog.AnswerAboutAnotherNode(logger, child.Id, Bounded(nodeId), Bounded(answeredFor(answer.Value!)));
                continue;
            }

            if (answer.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                silent ??= new RpcException(new Status(answer.Status, $"node {child.Id}, on the way to {Bounded(routeTo)}, did not answer in time."));
                continue;
            }

            // Not below this child (or not below the scope's root on this path) unless it answered, or refused
            // with a reason of the node asked about.
            if (answer.Answered || (answer.Error is { } error && RpcErrors.ReasonOf(error) is not (RejectionReason.UnknownNode or RejectionReason.OutOfScope)))
            {
                claims.Add((child, answer));
            }
        }

        if (claims.Count > 1)
        {
            RouterLog.Conflict(logger, Bounded(nodeId), string.Join(", ", claims.Select(static c => c.Child.Id)));
            throw RpcErrors.ToException(Rejection.Of(RejectionReason.ConflictingAnswers,
                $"children {string.Join(" and ", claims.Select(static c => c.Child.Id))} both answer for node {Bounded(nodeId)}; no answer is trusted.", "node_id"));
        }

        if (claims.Count == 1)
        {
            return claims[0].Answer.Answered ? claims[0].Answer.Value! : throw claims[0].Answer.Error!;
        }

        if (silent is not null)
        {
            throw silent;
        }

        // For a caller with a narrower scope, "not found below the scope's root" and "outside the scope" are one answer.
        throw RpcErrors.ToException(within is null
            ? Rejection.Of(RejectionReason.UnknownNode, $"node_id '{Bounded(nodeId)}' is not in the subtree of node {identity.NodeId}.", "node_id")
            : Rejection.Of(RejectionReason.OutOfScope, $"node {Bounded(nodeId)} is outside your scope, {within} and what is below it.", "node_id"));
    }

    /// <summary>Children on the path, longest prefix first, until one holds the node (answers, or refuses other than "not here").</summary>
    private async Task<ChildAnswer<T>[]> AskInTurnAsync<T>(
        List<ChildDocument> onPath, CallBudget hop, Func<GrpcChannel, CallOptions, Task<T>> forward, Metadata? headers)
        where T : class
    {
        var answers = new ChildAnswer<T>[onPath.Count];
        for (var i = 0; i < onPath.Count; i++)
        {
            answers[i] = await peers.AskAsync(onPath[i], hop, forward, headers);
            var notHere = answers[i].Error is { } error && RpcErrors.ReasonOf(error) is RejectionReason.UnknownNode or RejectionReason.OutOfScope;
            if (!notHere)
            {
                // Stop at the first child that holds the node; the rest are not asked.
                for (var j = i + 1; j < onPath.Count; j++)
                {
                    answers[j] = new ChildAnswer<T>(null, StatusCode.NotFound, null);
                }

                break;
            }
        }

        return answers;
    }

    /// <summary>The scope root the query must still pass through, when it is not this node.</summary>
    private string? WithinOf(ServerCallContext context) =>
        context.GetHttpContext().Items[ScopeInterceptor.Within] is string within && within != identity.NodeId ? within : null;

    private static string Bounded(string text) => text.Length <= 64 ? text : text[..64] + "…";
}

/// <summary>Source-generated log messages of query routing.</summary>
internal static partial class RouterLog
{
    [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "Child {ChildId} answered a query about {NodeId} with an answer about {AnsweredFor}; it is not relayed")]
    public static partial void AnswerAboutAnotherNode(ILogger logger, string childId, string nodeId, string answeredFor);

    [LoggerMessage(EventId = 421, Level = LogLevel.Warning, Message = "More than one child answers for node {NodeId}: {ChildIds}; the query is refused")]
    public static partial void Conflict(ILogger logger, string nodeId, string childIds);
}
