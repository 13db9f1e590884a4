using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Grpc;
using Federation.Node.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Federation.Node.Security;

/// <summary>
/// Checks a person's scope against what the request acts on, after the endpoint policy admitted the
/// role. A scope is a node or unit id and everything below it. A query about a node below the scope's
/// root is routed through that root (<see cref="Within"/>), so the tree itself decides what is below it,
/// for any id scheme.
/// </summary>
internal sealed class ScopeInterceptor(NodeIdentity identity) : Interceptor
{
    /// <summary>HttpContext item: the node a forwarded query must pass through (the caller's scope root).</summary>
    public const string Within = "federation.within";

    /// <summary>Header carrying <see cref="Within"/> from a parent to its child; honoured only from the parent node.</summary>
    public const string WithinHeader = "federation-within";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var http = context.GetHttpContext();
        var caller = Caller.Of(http.User);
        if (caller.IsPerson && request is IScopedRequest scoped)
        {
            Check(caller, scoped, http);
        }
        else if (caller.IsNode && context.RequestHeaders.GetValue(WithinHeader) is { Length: > 0 } within)
        {
            // The endpoint policy admitted this node as the parent: it passes its caller's scope root down.
            http.Items[Within] = within;
        }

        return continuation(request, context);
    }

    /// <summary>
    /// The one rule for a hosted unit: a scope of the node itself reaches every unit it hosts; any other
    /// scope reaches only the unit it names. Endpoints that find units inside a request's content
    /// (<see cref="ScopeTargetKind.Units"/>) check each with it.
    /// </summary>
    public static bool AdmitsUnit(string scope, string self, string unitId) => scope == self || (unitId.Length > 0 && unitId == scope);

    private void Check(Caller caller, IScopedRequest request, HttpContext http)
    {
        var self = identity.NodeId;
        var scope = caller.Scope;
        if (scope == self || request.TargetKind == ScopeTargetKind.Units)
        {
            return;
        }

        var target = request.Target;
        switch (request.TargetKind)
        {
            case ScopeTargetKind.Unit when AdmitsUnit(scope, self, target):
                return;
            case ScopeTargetKind.Node or ScopeTargetKind.Child when target == scope:
                return;
            case ScopeTargetKind.Node when target.Length > 0 && target != self:
                // Below this node: let the tree decide, by routing through the scope's root.
                http.Items[Within] = scope;
                return;
            default:
                throw RpcErrors.ToException(Rejection.Of(RejectionReason.OutOfScope,
                    $"{Describe(request, self)} is outside your scope, {scope} and what is below it.", FieldOf(request)));
        }
    }

    private static string FieldOf(IScopedRequest request) => request switch
    {
        { TargetKind: ScopeTargetKind.Unit } and ISubjectRequest => "subject_id",
        { TargetKind: ScopeTargetKind.Unit } => "unit_id",
        _ => "node_id",
    };

    private static string Describe(IScopedRequest request, string self) => request.TargetKind switch
    {
        ScopeTargetKind.Unit => $"unit {Bounded(request.Target)}",
        ScopeTargetKind.Node or ScopeTargetKind.Child when request.Target.Length > 0 => $"node {Bounded(request.Target)}",
        _ => $"node {self}",
    };

    private static string Bounded(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
