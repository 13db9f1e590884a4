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
internal sealed class QueryRouter(NodeStore store, NodeIdentity identity, ChildChannels channels, PullService pull)
{
    /// <summary>True when this node answers the query itself.</summary>
    public bool IsLocal(string nodeId, ServerCallContext context) =>
        WithinOf(context) is null && (string.IsNullOrEmpty(nodeId) || nodeId == identity.NodeId);

    public async Task<T> ForwardAsync<T>(string nodeId, Func<QueryService.QueryServiceClient, CallOptions, Task<T>> call, ServerCallContext context)
    {
        var within = WithinOf(context);
        var routeTo = within ?? nodeId;
        var headers = within is null ? null : new Metadata { { ScopeInterceptor.WithinHeader, within } };
        var deadline = pull.ChildDeadline(pull.DeadlineFor(context.Deadline));
        var children = store.Read(static s => s.Children.FindAll().Where(static c => c.Address.Length > 0).ToList());
        var onPath = children.Where(c => routeTo.StartsWith(c.Id, StringComparison.Ordinal)).OrderByDescending(static c => c.Id.Length).ToList();
        foreach (var child in onPath.Count > 0 ? onPath : children)
        {
            try
            {
                var client = new QueryService.QueryServiceClient(channels.For(child.Address, child.Id));
                return await call(client, new CallOptions(headers, deadline.UtcDateTime, context.CancellationToken));
            }
            catch (RpcException ex) when (RpcErrors.ReasonOf(ex) is RejectionReason.UnknownNode or RejectionReason.OutOfScope)
            {
                // Not below this child (or not below the scope's root on this path); try the next.
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or UriFormatException)
            {
                // An unusable address: this child cannot be asked.
            }
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
