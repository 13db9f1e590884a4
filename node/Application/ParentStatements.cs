using Federation.Aggregator;
using Federation.Aggregator.Signing;

namespace Federation.Node.Application;

/// <summary>
/// The one check every statement a parent delivers passes first (a review decision, a ledger step): it is
/// there, a parent key is pinned, and its signature verifies against that key. What it must then say is
/// the receiver's own rule.
/// </summary>
internal static class ParentStatements
{
    /// <param name="missing">True when the request carries no statement bytes.</param>
    /// <param name="parentKey">The pinned parent key, or null when none is configured.</param>
    /// <param name="field">The request field holding the statement, e.g. "decision".</param>
    /// <param name="what">What the statement is, for the message, e.g. "decision".</param>
    /// <param name="verify">The statement type's verification against the key.</param>
    public static Outcome<Verification<T>> Verify<T>(bool missing, byte[]? parentKey, string field, string what, Func<byte[], Verification<T>> verify)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(verify);
        if (missing)
        {
            return Rejection.Of(RejectionReason.MissingField, $"{field} is required.", field);
        }

        if (parentKey is null)
        {
            return Rejection.Of(RejectionReason.UnknownSigner, $"no parent key is pinned (Node:Parent:PublicKey); a parent's {what} cannot be verified.", field);
        }

        var verification = verify(parentKey);
        return verification.IsValid ? verification : Rejection.Of(verification.Reason, verification.Message, field);
    }
}
