using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Queries;

/// <summary>
/// Sends a query about a node further down to the child on its path: the child whose id is the longest
/// prefix of the node id (statistical codes nest), or, for ids that do not nest, each child in turn.
/// A caller whose scope is a node below this one is routed through that node first, so only what is
/// below their scope's root is ever answered. Every hop keeps a margin of the caller's deadline.
/// </summary>
internal sealed class QueryRouter(NodeStore store, NodeIdentity identity, PeerCalls peers)
{
    /// <summary>True when this node answers the query itself.</summary>
    public bool IsLocal(string nodeId, ServerCallContext context) =>
        WithinOf(context) is null && (string.IsNullOrEmpty(nodeId) || nodeId == identity.NodeId);

    public async Task<T> ForwardAsync<T>(string nodeId, Func<QueryService.QueryServiceClient, CallOptions, Task<T>> forward, ServerCallContext context)
        where T : class
    {
        var within = WithinOf(context);
        var routeTo = within ?? nodeId;
        var headers = within is null ? null : new Metadata { { ScopeInterceptor.WithinHeader, within } };
        var hop = peers.Down(peers.For(context));
        var children = store.Read(static s => s.Children.FindAll().Where(static c => c.Address.Length > 0).ToList());
        var onPath = children.Where(c => routeTo.StartsWith(c.Id, StringComparison.Ordinal)).OrderByDescending(static c => c.Id.Length).ToList();
        RpcException? silent = null;
        foreach (var child in onPath.Count > 0 ? onPath : children)
        {
            var answer = await peers.AskAsync(child, hop, (channel, call) => forward(new QueryService.QueryServiceClient(channel), call), headers);
            if (answer.Answered)
            {
                return answer.Value!;
            }

            if (answer.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                silent ??= new RpcException(new Status(answer.Status, $"node {child.Id}, on the way to {Bounded(routeTo)}, did not answer in time."));
                continue;
            }

            // Not below this child (or not below the scope's root on this path): try the next. Any other
            // refusal comes from the node asked about, or one on its path, and is the answer.
            if (answer.Error is { } error && RpcErrors.ReasonOf(error) is not (RejectionReason.UnknownNode or RejectionReason.OutOfScope))
            {
                throw error;
            }
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

    /// <summary>The scope root the query must still pass through, when it is not this node.</summary>
    private string? WithinOf(ServerCallContext context) =>
        context.GetHttpContext().Items[ScopeInterceptor.Within] is string within && within != identity.NodeId ? within : null;

    private static string Bounded(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
