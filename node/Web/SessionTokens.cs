using Federation.Node.Configuration;
using Federation.Node.Security;
using Federation.Protos.V1;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Federation.Node.Web;

/// <summary>
/// Tokens minted for password sessions. A password login gets a token of its account valid for one
/// session length; while the session is used, a token past half its life is replaced (the old one revoked),
/// so the token never outlives the session by more than the session's idle time. Logout revokes it.
/// </summary>
internal sealed class SessionTokens(AccessOperations access, IOptions<WebOptions> options, TimeProvider time)
{
    public const string Note = "web session";

    public async Task<WebSession?> MintAsync(AccountDocument account, CancellationToken cancellationToken)
    {
        var outcome = await access.IssueAsync(account.Id, account.Role, account.Scope, options.Value.Session, Note, "web login", cancellationToken);
        return outcome.Value is { } issued
            ? new WebSession(account.Id, account.Role, account.Scope, issued.Bearer, issued.Token.Id, Minted: true, issued.Token.ExpiresTicks)
            : null;
    }

    /// <summary>Renews a minted token past half its life; null when the session must end.</summary>
    public async Task<WebSession?> RenewAsync(WebSession session, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (session.TokenExpiresTicks <= now)
        {
            return null;
        }

        if (session.TokenExpiresTicks - now > options.Value.Session.Ticks / 2)
        {
            return session;
        }

        var outcome = await access.IssueAsync(session.Account, session.Role, session.Scope, options.Value.Session, Note, "web login", cancellationToken);
        if (outcome.Value is not { } issued)
        {
            return null;
        }

        await access.RevokeAsync(session.TokenId, cancellationToken);
        return session with { Token = issued.Bearer, TokenId = issued.Token.Id, TokenExpiresTicks = issued.Token.ExpiresTicks };
    }

    public async Task EndAsync(WebSession session, CancellationToken cancellationToken)
    {
        if (session.Minted && session.TokenId.Length > 0)
        {
            await access.RevokeAsync(session.TokenId, cancellationToken);
        }
    }
}

/// <summary>Checks each request's session: a minted token is renewed or, once expired, ends the session.</summary>
internal sealed class SessionCookieEvents(SessionTokens tokens) : CookieAuthenticationEvents
{
    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        if (context.Principal is null || WebSession.Of(context.Principal) is not { } session)
        {
            context.RejectPrincipal();
            return;
        }

        if (!session.Minted)
        {
            // A person's own token: the API says on each call whether it still holds.
            return;
        }

        var renewed = await tokens.RenewAsync(session, context.HttpContext.RequestAborted);
        if (renewed is null)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(WebAuth.Scheme);
            return;
        }

        if (!ReferenceEquals(renewed, session))
        {
            context.ReplacePrincipal(renewed.ToPrincipal());
            context.ShouldRenew = true;
        }
    }
}
