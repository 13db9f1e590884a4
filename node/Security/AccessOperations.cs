using System.Collections.Concurrent;
using System.Security.Cryptography;
using Federation.Aggregator;
using Federation.Aggregator.Identifiers;
using Federation.Node.Application;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Microsoft.Extensions.Options;

namespace Federation.Node.Security;

/// <summary>Why a presented token was not accepted.</summary>
internal enum TokenProblem
{
    None = 0,
    Malformed,
    Unknown,
    Expired,
    Revoked,
}

/// <summary>
/// Accounts and tokens: issued, listed and revoked through the single writer, and checked on every
/// call from a copy in memory that changes only after a write commits, so an expiry or a revocation
/// takes effect at once without a database read per request.
/// </summary>
internal sealed class AccessOperations(NodeStore store, StoreWriter writer, NodeIdentity identity, IOptions<AccessOptions> options, TimeProvider time)
{
    private readonly Lazy<ConcurrentDictionary<string, TokenDocument>> _tokens = new(() => new(
        store.Read(static s => s.Database.GetCollection<TokenDocument>(AccessCollections.Tokens).FindAll().ToList())
            .Select(static t => KeyValuePair.Create(t.Id, t)), StringComparer.Ordinal));

    /// <summary>Checks a bearer token; returns its record, or why it is refused.</summary>
    public (TokenDocument? Token, TokenProblem Problem) Check(string bearer)
    {
        if (!TokenFormat.TryParse(bearer, out var tokenId, out var secret))
        {
            return (null, TokenProblem.Malformed);
        }

        if (!_tokens.Value.TryGetValue(tokenId, out var token) ||
            !CryptographicOperations.FixedTimeEquals(token.SecretHash, TokenFormat.Hash(secret)))
        {
            return (null, TokenProblem.Unknown);
        }

        if (token.RevokedTicks != 0)
        {
            return (null, TokenProblem.Revoked);
        }

        return token.ExpiresTicks <= time.GetUtcNow().UtcTicks ? (null, TokenProblem.Expired) : (token, TokenProblem.None);
    }

    public async Task<Outcome<IssuedToken>> IssueAsync(
        string account, Role role, string scope, TimeSpan validFor, string note, string issuedBy, CancellationToken cancellationToken)
    {
        if (Validate(account, role, scope, validFor, note) is { } rejection)
        {
            return rejection;
        }

        var (tokenId, bearer, hash) = TokenFormat.Create();
        var outcome = await writer.ExecuteAsync<Outcome<IssuedToken>>(context =>
        {
            var accounts = context.Store.Database.GetCollection<AccountDocument>(AccessCollections.Accounts);
            if (accounts.ById(account) is { } existing && (existing.Role != role || existing.Scope != scope))
            {
                return Rejection.Of(RejectionReason.IdInUse,
                    $"account '{account}' exists as {existing.Role} of {existing.Scope}; issue its tokens with that role and scope, or choose another name.", "account");
            }

            var now = context.UtcNow();
            accounts.Upsert(new AccountDocument { Id = account, Role = role, Scope = scope, CreatedTicks = now.UtcTicks });
            var token = new TokenDocument
            {
                Id = tokenId,
                Account = account,
                Role = role,
                Scope = scope,
                SecretHash = hash,
                IssuedTicks = now.UtcTicks,
                ExpiresTicks = (now + validFor).UtcTicks,
                Note = note,
                IssuedBy = issuedBy,
            };
            context.Store.Database.GetCollection<TokenDocument>(AccessCollections.Tokens).Insert(token);
            return new IssuedToken(bearer, token);
        }, cancellationToken);
        if (outcome.Value is { } issued)
        {
            _tokens.Value[issued.Token.Id] = issued.Token;
        }

        return outcome;
    }

    public async Task<Outcome<TokenDocument>> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        var outcome = await writer.ExecuteAsync<Outcome<TokenDocument>>(context =>
        {
            var tokens = context.Store.Database.GetCollection<TokenDocument>(AccessCollections.Tokens);
            if (tokens.ById(tokenId) is not { } token)
            {
                return Rejection.Of(RejectionReason.UnknownToken, $"no token with id '{Bounded(tokenId)}' was issued by node {identity.NodeId}.", "token_id");
            }

            if (token.RevokedTicks == 0)
            {
                token.RevokedTicks = context.UtcNow().UtcTicks;
                tokens.Update(token);
            }

            return token;
        }, cancellationToken);
        if (outcome.Value is { } revoked)
        {
            _tokens.Value[revoked.Id] = revoked;
        }

        return outcome;
    }

    public IReadOnlyList<TokenDocument> List(string afterId, int pageSize) =>
        store.Read(s => s.Database.GetCollection<TokenDocument>(AccessCollections.Tokens)
            .Find(LiteDB.Query.GT("_id", afterId ?? string.Empty), limit: pageSize).ToList());

    private Rejection? Validate(string account, Role role, string scope, TimeSpan validFor, string note)
    {
        if (ValidateAccount(account, role, scope) is { } rejection)
        {
            return rejection;
        }

        if (validFor <= TimeSpan.Zero || validFor > options.Value.MaxTokenLifetime)
        {
            return Rejection.Of(RejectionReason.MissingField,
                $"valid_for must be positive and at most {options.Value.MaxTokenLifetime.TotalDays:0} days.", "valid_for");
        }

        return note.Length > 200 ? Rejection.Of(RejectionReason.ValueTooLarge, "note is longer than 200 characters.", "note") : null;
    }

    /// <summary>The rules for an account's name, role and scope, shared by tokens and passwords.</summary>
    public Rejection? ValidateAccount(string account, Role role, string scope)
    {
        if (string.IsNullOrEmpty(account) || account.Length > 64 || !account.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@'))
        {
            return Rejection.Of(RejectionReason.MalformedId, "account must be 1–64 characters: letters, digits, '.', '_', '-', '@'.", "account");
        }

        if (!Enum.IsDefined(role) || role == Role.Unspecified)
        {
            return Rejection.Of(RejectionReason.MissingField, "role is required (clerk, reviewer, reader or admin).", "role");
        }

        if (!NodeIds.IsValid(scope))
        {
            return Rejection.Of(RejectionReason.MalformedId, $"scope must be a node or unit id ({NodeIds.Rule}).", "scope");
        }

        var hosted = store.Read(s => s.Units.ById(scope) is not null);
        var refusal = role switch
        {
            Role.Admin when scope != identity.NodeId => $"an admin's scope is this node, {identity.NodeId}.",
            Role.Clerk when scope != identity.NodeId && !hosted => $"a clerk's scope is a unit this node hosts, or {identity.NodeId} for all of them; '{scope}' is neither.",
            _ => null,
        };
        return refusal is null ? null : Rejection.Of(RejectionReason.OutOfScope, refusal, "scope");
    }

    private static string Bounded(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>A token just issued: the bearer string, shown once, and its record.</summary>
internal sealed record IssuedToken(string Bearer, TokenDocument Token);
