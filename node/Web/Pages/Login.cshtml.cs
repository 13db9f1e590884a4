using System.Globalization;
using Federation.Node.Security;
using Federation.Protos.V1;
using Grpc.Core;
using GrpcStatus = Grpc.Core.StatusCode;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Federation.Node.Web.Pages;

/// <summary>
/// Logging in with an account and password (checked against its stored hash, then a token of the account
/// is minted for the session) or with a token. Either way the node's API says who the credential is
/// (WhoAmI) before a session starts. Failures are counted per account and address and slowed down.
/// </summary>
public sealed class LoginModel : WebPageModel
{
    [BindProperty(SupportsGet = true, Name = "returnUrl")]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true, Name = "expired")]
    public bool Expired { get; set; }

    [BindProperty(SupportsGet = true, Name = "out")]
    public bool LoggedOut { get; set; }

    [BindProperty(Name = "account")]
    public string? Account { get; set; }

    [BindProperty(Name = "password")]
    public string? Password { get; set; }

    [BindProperty(Name = "token")]
    public string? Token { get; set; }

    internal string? Failure { get; private set; }

    protected override Task LoadAsync(CancellationToken cancellationToken)
    {
        Title = T["login.title"];
        Notice = Expired ? T["login.expired"] : LoggedOut ? T["login.logged-out"] : null;
        return Task.CompletedTask;
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Title = T["login.title"];
        var services = HttpContext.RequestServices;
        var throttle = services.GetRequiredService<LoginThrottle>();
        var address = HttpContext.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
        var token = Token?.Trim() ?? string.Empty;
        var account = token.Length > 0 ? null : Account?.Trim() ?? string.Empty;
        var wait = throttle.RetryAfter(account, address);
        if (wait > TimeSpan.Zero)
        {
            return Refuse(T.Format("login.throttled", Math.Ceiling(wait.TotalMinutes).ToString(CultureInfo.InvariantCulture)), StatusCodes.Status429TooManyRequests);
        }

        WebSession? session;
        try
        {
            session = account is null ? await FromTokenAsync(token) : await FromPasswordAsync(services, account, Password ?? string.Empty);
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatus.Unavailable or GrpcStatus.DeadlineExceeded or GrpcStatus.ResourceExhausted)
        {
            return Refuse(T["login.unavailable"], StatusCodes.Status503ServiceUnavailable);
        }

        if (session is null)
        {
            throttle.Failed(account, address);
            return Refuse(Failure ?? T[token.Length > 0 ? "login.bad-token" : "login.failed"], StatusCodes.Status401Unauthorized);
        }

        throttle.Succeeded(account);
        await HttpContext.SignInAsync(WebAuth.Scheme, session.ToPrincipal(), new AuthenticationProperties { IsPersistent = false, AllowRefresh = true });
        return LocalRedirect(ReturnUrl is { Length: > 0 } back && Url.IsLocalUrl(back) && !back.StartsWith("/login", StringComparison.Ordinal) ? back : "/");
    }

    private async Task<WebSession?> FromTokenAsync(string token)
    {
        var me = await WhoAmIAsync(token);
        if (me is null)
        {
            return null;
        }

        if (me.Kind != "person")
        {
            Failure = T["login.not-person"];
            return null;
        }

        return new WebSession(me.Name, me.Role, me.Scope, token, token.Split('.') is [_, var id, _] ? id : string.Empty, Minted: false, 0);
    }

    private async Task<WebSession?> FromPasswordAsync(IServiceProvider services, string account, string password)
    {
        // PBKDF2 is deliberately slow: off the request thread's fast path, on the pool.
        var found = await Task.Run(() => services.GetRequiredService<PasswordOperations>().Verify(account, password));
        if (found is null)
        {
            return null;
        }

        var tokens = services.GetRequiredService<SessionTokens>();
        if (await tokens.MintAsync(found, HttpContext.RequestAborted) is not { } session)
        {
            return null;
        }

        // The API, not this page, says who the minted token speaks for.
        var me = await WhoAmIAsync(session.Token);
        if (me is null || me.Kind != "person" || me.Name != found.Id)
        {
            await tokens.EndAsync(session, HttpContext.RequestAborted);
            return null;
        }

        return session;
    }

    private async Task<WhoAmIResponse?> WhoAmIAsync(string token)
    {
        try
        {
            var channel = await Api.ChannelAsync(HttpContext.RequestAborted);
            return await new AccessService.AccessServiceClient(channel).WhoAmIAsync(new WhoAmIRequest(), Api.Call(token, HttpContext.RequestAborted));
        }
        catch (RpcException ex) when (ex.StatusCode is GrpcStatus.Unauthenticated or GrpcStatus.PermissionDenied)
        {
            return null;
        }
    }

    private PageResult Refuse(string line, int status)
    {
        Failure = line;
        Response.StatusCode = status;
        return Page();
    }
}
