using System.Security.Claims;
using Federation.Protos.V1;

namespace Federation.Node.Security;

/// <summary>The kinds of caller the node knows.</summary>
internal enum CallerKind
{
    None = 0,
    Person,
    Node,
    LocalAdmin,
}

/// <summary>Claim types the authentication handlers set.</summary>
internal static class CallerClaims
{
    public const string Kind = "federation/kind";
    public const string Name = "federation/name";
    public const string Role = "federation/role";
    public const string Scope = "federation/scope";
    public const string TokenId = "federation/token";
    public const string NodeId = "federation/node";
}

/// <summary>Who is calling, as read from the authenticated principal.</summary>
internal sealed record Caller(CallerKind Kind, string Name, Role Role, string Scope, string PartitionKey)
{
    public static readonly Caller Anonymous = new(CallerKind.None, string.Empty, Role.Unspecified, string.Empty, string.Empty);

    public bool IsPerson => Kind == CallerKind.Person;

    public bool IsNode => Kind == CallerKind.Node;

    /// <summary>The account recorded with a person's decisions; "local-admin" for the admin socket.</summary>
    public string AccountName => Kind == CallerKind.LocalAdmin ? "local-admin" : Name;

    public static Caller Of(ClaimsPrincipal? user)
    {
        if (user is null)
        {
            return Anonymous;
        }

        // A request may carry several identities (a node certificate and a token); a token speaks for
        // the person, and the node identity only for node-to-node calls.
        if (user.FindFirst(CallerClaims.NodeId) is { } node && user.FindFirst(CallerClaims.TokenId) is null)
        {
            return new(CallerKind.Node, node.Value, Role.Unspecified, node.Value, "node:" + node.Value);
        }

        if (user.FindFirst(CallerClaims.TokenId) is { } token)
        {
            var role = Enum.TryParse<Role>(user.FindFirst(CallerClaims.Role)?.Value, out var parsed) ? parsed : Role.Unspecified;
            return new(CallerKind.Person, user.FindFirst(CallerClaims.Name)?.Value ?? string.Empty, role,
                user.FindFirst(CallerClaims.Scope)?.Value ?? string.Empty, "token:" + token.Value);
        }

        if (user.FindFirst(CallerClaims.Kind)?.Value == nameof(CallerKind.LocalAdmin))
        {
            return new(CallerKind.LocalAdmin, "local-admin", Role.Admin, string.Empty, "local-admin");
        }

        return Anonymous;
    }

    /// <summary>The node id of a node caller; null for anyone else.</summary>
    public static string? NodeIdOf(ClaimsPrincipal user) => Of(user) is { IsNode: true } caller ? caller.Name : null;
}
