using System.Globalization;
using System.Security.Claims;
using Federation.Protos.V1;

namespace Federation.Node.Web;

/// <summary>The page's authentication scheme and policy: a session cookie, never a bearer token or a certificate.</summary>
internal static class WebAuth
{
    public const string Scheme = "WebSession";
    public const string Policy = "WebPage";
    public const string SessionCookie = "__Host-fed-session";
    public const string AntiforgeryCookie = "__Host-fed-af";
}

/// <summary>Claim types of a session; the cookie carrying them is encrypted and signed with the node's data-protection keys.</summary>
internal static class WebClaims
{
    public const string Account = "web/account";
    public const string Role = "web/role";
    public const string Scope = "web/scope";
    public const string Token = "web/token";
    public const string TokenId = "web/token-id";
    public const string Minted = "web/minted";
    public const string TokenExpiresTicks = "web/token-expires";
}

/// <summary>
/// A person's session: who they are as the API told at login, and the credential the page calls the API
/// with: the person's own token, or one minted for a password login (<see cref="Minted"/>), which expires
/// with the session and is revoked at logout.
/// </summary>
internal sealed record WebSession(string Account, Role Role, string Scope, string Token, string TokenId, bool Minted, long TokenExpiresTicks)
{
    public static WebSession? Of(ClaimsPrincipal user)
    {
        if (user.FindFirst(WebClaims.Token)?.Value is not { Length: > 0 } token)
        {
            return null;
        }

        return new WebSession(
            user.FindFirst(WebClaims.Account)?.Value ?? string.Empty,
            Enum.TryParse<Role>(user.FindFirst(WebClaims.Role)?.Value, out var role) ? role : Role.Unspecified,
            user.FindFirst(WebClaims.Scope)?.Value ?? string.Empty,
            token,
            user.FindFirst(WebClaims.TokenId)?.Value ?? string.Empty,
            user.FindFirst(WebClaims.Minted)?.Value == "1",
            long.TryParse(user.FindFirst(WebClaims.TokenExpiresTicks)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : 0);
    }

    public ClaimsPrincipal ToPrincipal() => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.Name, Account),
        new Claim(WebClaims.Account, Account),
        new Claim(WebClaims.Role, Role.ToString()),
        new Claim(WebClaims.Scope, Scope),
        new Claim(WebClaims.Token, Token),
        new Claim(WebClaims.TokenId, TokenId),
        new Claim(WebClaims.Minted, Minted ? "1" : "0"),
        new Claim(WebClaims.TokenExpiresTicks, TokenExpiresTicks.ToString(CultureInfo.InvariantCulture)),
    ], WebAuth.Scheme, ClaimTypes.Name, null));
}
