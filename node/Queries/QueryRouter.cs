using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;

namespace Federation.Node.Queries;

/// <summary>
/// Sends a query about a node further down to the child on its path: the child whose id is the longest
/// prefix of the node id (statistical codes nest), or, for ids that do not nest, each child in turn.
/// Every hop keeps a margin of the caller's deadline.
/// </summary>
internal sealed class QueryRouter(NodeStore store, NodeIdentity identity, ChildChannels channels, PullService pull)
{
    public bool IsLocal(string nodeId) => string.IsNullOrEmpty(nodeId) || nodeId == identity.NodeId;

    public async Task<T> ForwardAsync<T>(string nodeId, Func<QueryService.QueryServiceClient, CallOptions, Task<T>> call, ServerCallContext context)
    {
        var deadline = pull.ChildDeadline(pull.DeadlineFor(context.Deadline));
        var children = store.Read(static s => s.Children.FindAll().Where(static c => c.Address.Length > 0).ToList());
        var onPath = children.Where(c => nodeId.StartsWith(c.Id, StringComparison.Ordinal)).OrderByDescending(static c => c.Id.Length).ToList();
        foreach (var child in onPath.Count > 0 ? onPath : children)
        {
            try
            {
                var client = new QueryService.QueryServiceClient(channels.For(child.Address));
                return await call(client, new CallOptions(deadline: deadline.UtcDateTime, cancellationToken: context.CancellationToken));
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound && RpcErrors.ReasonOf(ex) == RejectionReason.UnknownNode)
            {
                // Not below this child; try the next.
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or UriFormatException)
            {
                // An unusable address: this child cannot be asked.
            }
        }

        throw RpcErrors.ToException(Rejection.Of(RejectionReason.UnknownNode,
            $"node_id '{nodeId}' is not in the subtree of node {identity.NodeId}.", "node_id"));
    }
}
