using Federation.Aggregator;
using Federation.Node.Configuration;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Federation.Node.Security;

/// <summary>Who may call, as one of the roles a person holds or the relation of a calling node.</summary>
[Flags]
internal enum Allowed
{
    None = 0,
    Clerk = 1,
    Reviewer = 2,
    Reader = 4,
    Admin = 8,
    LocalAdmin = 16,
    ChildNode = 32,
    ParentNode = 64,
    AnyPerson = Clerk | Reviewer | Reader | Admin | LocalAdmin,
    Anyone = AnyPerson | ChildNode | ParentNode,
}

/// <summary>The endpoint policies; each RPC names one in an [Authorize] attribute. README's matrix lists them.</summary>
internal static class Policies
{
    /// <summary>Submitting figures: a clerk.</summary>
    public const string Clerk = nameof(Clerk);

    /// <summary>Reading a unit's report: a clerk, reviewer or reader.</summary>
    public const string ReportReader = nameof(ReportReader);

    /// <summary>Queries: a reader or reviewer, or this node's parent asking on behalf of its own caller.</summary>
    public const string Reader = nameof(Reader);

    /// <summary>Running the node: an admin token, or the local admin socket.</summary>
    public const string Admin = nameof(Admin);

    /// <summary>Pushes and announcements: an enrolled child, by its certificate.</summary>
    public const string ChildNode = nameof(ChildNode);

    /// <summary>Pulls and the subtree walk: this node's parent, by its certificate.</summary>
    public const string ParentNode = nameof(ParentNode);

    /// <summary>Review decisions (approve, return, reopen): a reviewer. No admin: nobody bypasses a review.</summary>
    public const string Reviewer = nameof(Reviewer);

    /// <summary>Withdrawing a report filed by mistake: a clerk or a reviewer.</summary>
    public const string ClerkOrReviewer = nameof(ClerkOrReviewer);

    /// <summary>Listing the hosted units and children: an admin, or a reader or reviewer.</summary>
    public const string UnitLister = nameof(UnitLister);

    /// <summary>Harmless reads (catalogue, identity, who am I): anyone authenticated.</summary>
    public const string Anyone = nameof(Anyone);

    /// <summary>Server reflection (the list of services): a person with any role's token, or the admin socket; no node.</summary>
    public const string Person = nameof(Person);

    /// <summary>Reading the rectification ledger: a clerk, reviewer or reader, or the parent (it reads before it accepts, and routes queries).</summary>
    public const string LedgerReader = nameof(LedgerReader);

    public static readonly IReadOnlyDictionary<string, Allowed> All = new Dictionary<string, Allowed>(StringComparer.Ordinal)
    {
        [Clerk] = Allowed.Clerk,
        [ReportReader] = Allowed.Clerk | Allowed.Reviewer | Allowed.Reader,
        [Reader] = Allowed.Reviewer | Allowed.Reader | Allowed.ParentNode,
        [Admin] = Allowed.Admin | Allowed.LocalAdmin,
        [Reviewer] = Allowed.Reviewer,
        [UnitLister] = Allowed.Admin | Allowed.LocalAdmin | Allowed.Reviewer | Allowed.Reader,
        [ClerkOrReviewer] = Allowed.Clerk | Allowed.Reviewer,
        [ChildNode] = Allowed.ChildNode,
        [ParentNode] = Allowed.ParentNode,
        [Anyone] = Allowed.Anyone,
        [Person] = Allowed.AnyPerson,
        [LedgerReader] = Allowed.Clerk | Allowed.Reviewer | Allowed.Reader | Allowed.ParentNode,
    };

    public static void Register(AuthorizationOptions options)
    {
        // An endpoint that names no policy is closed, not open: a forgotten attribute refuses everyone.
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAssertion(static _ => false).Build();
        foreach (var (name, allowed) in All)
        {
            options.AddPolicy(name, policy => policy
                .AddAuthenticationSchemes(Schemes.Token, Schemes.Certificate, Schemes.LocalSocket)
                .RequireAuthenticatedUser()
                .AddRequirements(new CallerRequirement(allowed)));
        }
    }
}

/// <summary>The caller must be one of <see cref="Allowed"/>.</summary>
internal sealed record CallerRequirement(Allowed Allowed) : IAuthorizationRequirement;

/// <summary>
/// Decides <see cref="CallerRequirement"/>: a person by the role of their token; a node by its relation
/// to this one, looked up now (an enrolment takes effect at once): its pinned parent, or an enrolled child.
/// </summary>
internal sealed class CallerRequirementHandler(NodeStore store, IOptions<NodeOptions> options) : AuthorizationHandler<CallerRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CallerRequirement requirement)
    {
        var caller = Caller.Of(context.User);
        var held = caller.Kind switch
        {
            CallerKind.LocalAdmin => Allowed.LocalAdmin,
            CallerKind.Person => caller.Role switch
            {
                Role.Clerk => Allowed.Clerk,
                Role.Reviewer => Allowed.Reviewer,
                Role.Reader => Allowed.Reader,
                Role.Admin => Allowed.Admin,
                _ => Allowed.None,
            },
            CallerKind.Node => RelationOf(caller.Name),
            _ => Allowed.None,
        };
        if ((held & requirement.Allowed) != 0)
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }

        var (reason, message) = caller.Kind switch
        {
            CallerKind.Node when held == Allowed.None =>
                (RejectionReason.NotEnrolled, $"node {caller.Name} is neither this node's parent nor an enrolled child."),
            CallerKind.Node => (RejectionReason.RoleNotAllowed, $"node {caller.Name} may not make this call."),
            _ => (RejectionReason.RoleNotAllowed, $"the {Describe(caller)} may not make this call."),
        };
        context.Fail(new AuthorizationFailureReason(this, $"{reason}|{message}"));
        return Task.CompletedTask;
    }

    private Allowed RelationOf(string nodeId)
    {
        if (options.Value.Parent.Id == nodeId && nodeId.Length > 0)
        {
            return Allowed.ParentNode;
        }

        return store.Read(s => s.Children.ById(nodeId)) is null ? Allowed.None : Allowed.ChildNode;
    }

    private static string Describe(Caller caller) => caller.Kind switch
    {
        CallerKind.Person => $"{caller.Role.ToString().ToLowerInvariant()} role",
        CallerKind.LocalAdmin => "local admin",
        _ => "caller",
    };
}
