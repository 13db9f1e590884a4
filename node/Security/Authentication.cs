using System.Security.Claims;
using System.Text.Encodings.Web;
using Federation.Aggregator;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace Federation.Node.Security;

/// <summary>The authentication schemes: a person's bearer token, a node's certificate, the local admin socket.</summary>
internal static class Schemes
{
    public const string Token = "Token";
    public const string Certificate = "Certificate";
    public const string LocalSocket = "LocalSocket";

    /// <summary>Set on connections accepted on the admin socket (connection items), never by a request.</summary>
    public const string LocalSocketMarker = "federation.local-socket";

    /// <summary>The HttpContext item where a refused credential leaves its reason for the status written back.</summary>
    public const string ProblemItem = "federation.auth-problem";
}

/// <summary>Reads <c>authorization: Bearer fed1.…</c> and checks it against the node's tokens.</summary>
internal sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccessOperations access)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(Refuse(RejectionReason.InvalidToken, "the authorization header must be 'Bearer <token>'."));
        }

        var (token, problem) = access.Check(header["Bearer ".Length..].Trim());
        if (token is null)
        {
            return Task.FromResult(problem switch
            {
                TokenProblem.Expired => Refuse(RejectionReason.TokenExpired, "the token has expired; ask the node's admin for a new one."),
                TokenProblem.Revoked => Refuse(RejectionReason.TokenRevoked, "the token was revoked."),
                _ => Refuse(RejectionReason.InvalidToken, "the token is not one this node issued."),
            });
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(CallerClaims.Kind, nameof(CallerKind.Person)),
            new Claim(CallerClaims.Name, token.Account),
            new Claim(CallerClaims.Role, token.Role.ToString()),
            new Claim(CallerClaims.Scope, token.Scope),
            new Claim(CallerClaims.TokenId, token.Id),
        ], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    private AuthenticateResult Refuse(RejectionReason reason, string message)
    {
        Context.Items[Schemes.ProblemItem] = (reason, message);
        return AuthenticateResult.Fail(message);
    }
}

/// <summary>
/// Authenticates calls that arrive on the node's admin socket as the local admin. The socket file is
/// owner-only, so reaching it proves the caller runs as the node's own user on its machine; no source
/// address is ever trusted.
/// </summary>
internal sealed class LocalSocketAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var items = Context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items is null || !items.ContainsKey(Schemes.LocalSocketMarker))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(CallerClaims.Kind, nameof(CallerKind.LocalAdmin))], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }
}
