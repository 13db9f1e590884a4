using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;
using Federation.Aggregator;
using Federation.Node.Configuration;
using Federation.Node.Application;
using Federation.Node.Grpc;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using System.Security.Claims;

namespace Federation.Node.Security;

/// <summary>Registers transport identity, people's access, the endpoint policies and the per-caller rate limit.</summary>
internal static class SecurityServiceCollectionExtensions
{
    private const string CallerScheme = "Caller";

    public static IServiceCollection AddNodeSecurity(this IServiceCollection services, IConfiguration configuration, NodeCertificates certificates)
    {
        services.AddOptions<TlsOptions>().Bind(configuration.GetSection(TlsOptions.SectionName));
        services.AddOptions<AccessOptions>().Bind(configuration.GetSection(AccessOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AccessOptions>, AccessOptionsValidator>();
        services.AddSingleton(certificates);
        services.AddSingleton<AccessOperations>();
        services.AddSingleton<PasswordOperations>();

        // One default scheme picks the credential the request carries: a token, a node certificate, or the admin socket.
        services.AddAuthentication(CallerScheme)
            .AddPolicyScheme(CallerScheme, "The caller's credential", static o => o.ForwardDefaultSelector = static context =>
                context.Request.Headers.Authorization.Count > 0 ? Schemes.Token
                : context.Connection.ClientCertificate is not null ? Schemes.Certificate
                : Schemes.LocalSocket)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(Schemes.Token, null)
            .AddScheme<AuthenticationSchemeOptions, LocalSocketAuthenticationHandler>(Schemes.LocalSocket, null)
            .AddCertificate(Schemes.Certificate, o =>
            {
                o.AllowedCertificateTypes = CertificateTypes.Chained;
                o.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                if (certificates.Authority is { } authority)
                {
                    o.CustomTrustStore.Add(authority);
                }

                o.RevocationMode = X509RevocationMode.NoCheck;
                o.ValidateCertificateUse = true;
                o.ValidateValidityPeriod = true;
                o.Events = new CertificateAuthenticationEvents
                {
                    OnCertificateValidated = static context =>
                    {
                        if (Pki.NodeIdOf(context.ClientCertificate) is not { } nodeId)
                        {
                            context.Fail("the certificate names no node (URI SAN urn:federation:node:ID).");
                            return Task.CompletedTask;
                        }

                        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                            [new Claim(CallerClaims.Kind, nameof(CallerKind.Node)), new Claim(CallerClaims.NodeId, nodeId)], context.Scheme.Name));
                        context.Success();
                        return Task.CompletedTask;
                    },
                    OnAuthenticationFailed = static context =>
                    {
                        context.HttpContext.Items[Schemes.ProblemItem] = (RejectionReason.InvalidToken, "the client certificate is not one the deployment CA issued, or it has expired.");
                        return Task.CompletedTask;
                    },
                };
            })
            .AddCertificateCache();
        services.AddAuthorization(Policies.Register);
        services.AddSingleton<IAuthorizationHandler, CallerRequirementHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, GrpcAuthorizationResults>();
        services.AddRateLimiter(static o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(static context =>
            {
                var access = context.RequestServices.GetRequiredService<IOptions<AccessOptions>>().Value;
                var caller = Caller.Of(context.User);
                if (caller.Kind == CallerKind.LocalAdmin)
                {
                    // The node's own operator on its own machine.
                    return RateLimitPartition.GetNoLimiter(caller.PartitionKey);
                }

                var key = caller.PartitionKey.Length > 0 ? caller.PartitionKey : "address:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = access.Burst,
                    TokensPerPeriod = access.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });

            // ResourceExhausted, never 503/Unavailable: clients retry Unavailable at once, which is what a limit must prevent.
            o.OnRejected = static (context, _) => GrpcResponses.IsGrpc(context.HttpContext)
                ? new ValueTask(GrpcResponses.WriteStatusAsync(context.HttpContext, RejectionReason.RateLimited, "too many requests from this caller; slow down and retry later."))
                : ValueTask.CompletedTask;
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        });
        return services;
    }

    /// <summary>Authentication, then the per-caller limit (so a caller is known), then the endpoint policies.</summary>
    public static WebApplication UseNodeSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }
}

/// <summary>Validates the access options.</summary>
internal sealed class AccessOptionsValidator : IValidateOptions<AccessOptions>
{
    public ValidateOptionsResult Validate(string? name, AccessOptions options) =>
        options.RequestsPerSecond <= 0 || options.Burst <= 0 || options.MaxTokenLifetime <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail("Access: RequestsPerSecond, Burst and MaxTokenLifetime must be positive.")
            : ValidateOptionsResult.Success;
}
