using System.Reflection;
using Federation.Node.Application;
using Federation.Node.Configuration;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Federation.Node.Web;

/// <summary>
/// The web page: Razor Pages on the node's own TLS listener, behind a session cookie, reading everything
/// through the node's own API (<see cref="NodeApi"/>).
/// </summary>
internal static class WebServiceCollectionExtensions
{
    /// <summary>The folder in the node's data folder that holds the keys sessions and forms are protected with.</summary>
    public const string KeysFolderName = "web-keys";

    private const string StylesheetResource = "Federation.Node.Web.site.css";

    public static bool IsEnabled(IConfiguration configuration) =>
        configuration.GetSection(WebOptions.SectionName).Get<WebOptions>()?.Enabled ?? true;

    public static IServiceCollection AddNodeWeb(this IServiceCollection services, IConfiguration configuration, string dataPath)
    {
        services.AddOptions<WebOptions>().Bind(configuration.GetSection(WebOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        services.AddSingleton<NodeApi>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<SessionTokens>();
        services.AddSingleton<SessionCookieEvents>();

        services.AddRazorPages(static o =>
            {
                o.RootDirectory = "/Web/Pages";
                o.Conventions.AuthorizeFolder("/", WebAuth.Policy);
                o.Conventions.AllowAnonymousToPage("/Login");
                o.Conventions.AllowAnonymousToPage("/Error");
            })
            // The node's pages live in its own assembly, whichever program hosts it (serve, or a test process).
            .ConfigureApplicationPartManager(static parts =>
            {
                var assembly = typeof(WebServiceCollectionExtensions).Assembly;
                if (!parts.ApplicationParts.Any(p => p is Microsoft.AspNetCore.Mvc.ApplicationParts.AssemblyPart a && a.Assembly == assembly))
                {
                    foreach (var part in Microsoft.AspNetCore.Mvc.ApplicationParts.ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        parts.ApplicationParts.Add(part);
                    }
                }
            });

        // Session cookies and form tokens are protected with keys kept in the data folder (owner-only, like
        // everything there), so sessions survive a restart and no other account on the machine reads them.
        var protection = services.AddDataProtection().SetApplicationName("federation-web");
        if (!string.IsNullOrWhiteSpace(dataPath))
        {
            var keys = Directory.CreateDirectory(Path.Combine(Path.GetFullPath(dataPath), KeysFolderName));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(keys.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            protection.PersistKeysToFileSystem(keys);

            // The keys are stored as node.key is: in clear, in the owner-only data folder. An encryptor keyed from
            // the same folder would add nothing, and one keyed from node.key would lose every session at a key
            // rotation; so the key manager's warning that they are unencrypted is expected, and not logged.
            services.AddLogging(static logging => logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error));
        }

        services.AddAntiforgery(static o =>
        {
            o.Cookie.Name = WebAuth.AntiforgeryCookie;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.FormFieldName = "__fed_af";
        });

        services.AddAuthentication().AddCookie(WebAuth.Scheme);
        services.AddOptions<CookieAuthenticationOptions>(WebAuth.Scheme).Configure<IOptions<WebOptions>, TimeProvider>(static (o, web, time) =>
        {
            o.Cookie.Name = WebAuth.SessionCookie;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = web.Value.Session;
            o.SlidingExpiration = true;
            o.LoginPath = "/login";
            o.LogoutPath = "/logout";
            o.AccessDeniedPath = "/login";
            o.ReturnUrlParameter = "returnUrl";
            o.EventsType = typeof(SessionCookieEvents);
            o.TimeProvider ??= time;
        });
        services.AddAuthorization(static o => o.AddPolicy(WebAuth.Policy, static p => p.AddAuthenticationSchemes(WebAuth.Scheme).RequireAuthenticatedUser()));
        return services;
    }

    /// <summary>
    /// For page requests only (never gRPC): headers that keep the page from being framed, sniffed, cached
    /// or made to run script, and an error handler that shows one line instead of an exception.
    /// </summary>
    public static WebApplication UseNodeWeb(this WebApplication app)
    {
        app.UseWhen(static context => !GrpcResponses.IsGrpc(context), static page =>
        {
            page.UseExceptionHandler("/error");
            page.Use(static (context, next) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-store";
                return next(context);
            });
        });
        return app;
    }

    public static WebApplication MapNodeWeb(this WebApplication app)
    {
        app.MapRazorPages();
        var css = ReadStylesheet();
        app.MapGet("/static/site.css", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=3600";
            return Results.Text(css, "text/css; charset=utf-8");
        }).AllowAnonymous();
        return app;
    }

    private static string ReadStylesheet()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(StylesheetResource)
            ?? throw new InvalidOperationException($"The embedded resource {StylesheetResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
