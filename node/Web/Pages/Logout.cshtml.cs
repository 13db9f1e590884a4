using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Federation.Node.Web.Pages;

/// <summary>Ends the session: a token minted for it is revoked at once, then the cookie is cleared.</summary>
public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/");

    public async Task<IActionResult> OnPostAsync()
    {
        if (WebSession.Of(User) is { } session)
        {
            await HttpContext.RequestServices.GetRequiredService<SessionTokens>().EndAsync(session, HttpContext.RequestAborted);
        }

        await HttpContext.SignOutAsync(WebAuth.Scheme);
        return Redirect("/login?out=true");
    }
}
