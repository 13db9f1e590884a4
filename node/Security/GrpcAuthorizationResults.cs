using Federation.Aggregator;
using Federation.Node.Application;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Federation.Node.Security;

/// <summary>
/// Answers a refused gRPC call with a gRPC status instead of a bare HTTP 401/403: Unauthenticated when
/// no credential was accepted, PermissionDenied when the caller may not make the call, each with an
/// ErrorInfo reason a client can act on.
/// </summary>
internal sealed class GrpcAuthorizationResults : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || !GrpcResponses.IsGrpc(context))
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        if (authorizeResult.Challenged)
        {
            var (reason, message) = context.Items[Schemes.ProblemItem] is (RejectionReason r, string m)
                ? (r, m)
                : (RejectionReason.MissingCredentials, "this call needs a credential: a bearer token, or a node certificate over TLS.");
            await GrpcResponses.WriteStatusAsync(context, reason, message);
            return;
        }

        var failure = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? string.Empty;
        var separator = failure.IndexOf('|', StringComparison.Ordinal);
        var (code, text) = separator > 0 && Enum.TryParse<RejectionReason>(failure[..separator], out var parsed)
            ? (parsed, failure[(separator + 1)..])
            : (RejectionReason.RoleNotAllowed, "the caller may not make this call.");
        await GrpcResponses.WriteStatusAsync(context, code, text);
    }
}
