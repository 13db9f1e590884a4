using Federation.Aggregator;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Periods;
using Federation.Node.Application;

namespace Federation.Node.Grpc;

/// <summary>
/// The checks every endpoint makes on ids and periods before it does anything else with a request,
/// so that a malformed or huge value is refused at once with InvalidArgument naming the field.
/// </summary>
internal static class RequestChecks
{
    /// <summary>Length of a SHA-256 digest in bytes.</summary>
    public const int DigestBytes = 32;

    /// <summary>Throws InvalidArgument unless <paramref name="value"/> follows the id rule (or is empty and optional).</summary>
    public static void Id(string value, string field, bool required = true)
    {
        if (NodeIds.Check(value, field, required) is { } violation)
        {
            throw RpcErrors.ToException(Rejection.Of(violation));
        }
    }

    /// <summary>Parses a period field, or throws InvalidArgument naming it.</summary>
    public static Period Period(string value, string field = "period") =>
        NodeIds.CheckPeriod(value, field, out var period) is { } violation
            ? throw RpcErrors.ToException(Rejection.Of(violation))
            : period;

    /// <summary>Throws InvalidArgument unless <paramref name="digest"/> has the length of a SHA-256 digest.</summary>
    public static void Digest(ReadOnlySpan<byte> digest, string field)
    {
        if (digest.Length != DigestBytes)
        {
            throw RpcErrors.ToException(Rejection.Of(RejectionReason.MalformedId,
                $"{field} has {digest.Length} bytes; a SHA-256 digest has {DigestBytes}.", field));
        }
    }
}
