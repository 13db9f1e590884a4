using System.Globalization;
using System.Text;
using Federation.Aggregator;
using Federation.Aggregator.Identifiers;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Federation.Node.Application;

/// <summary>
/// The one mapping from rejections to gRPC statuses: a canonical code, a short English message, and
/// rich details (google.rpc.ErrorInfo with an UPPER_SNAKE reason, BadRequest field violations).
/// </summary>
internal static class RpcErrors
{
    public const string Domain = "federation.v1";

    public static StatusCode CodeOf(RejectionReason reason) => reason switch
    {
        RejectionReason.UnknownSigner or RejectionReason.BadSignature => StatusCode.Unauthenticated,
        RejectionReason.SenderMismatch => StatusCode.PermissionDenied,
        RejectionReason.StaleVersion or RejectionReason.Equivocation or RejectionReason.ConflictingAnswers or RejectionReason.FieldsDropped => StatusCode.FailedPrecondition,
        RejectionReason.UnknownUnit or RejectionReason.UnknownNode or RejectionReason.NoFigures or RejectionReason.UnknownItem or RejectionReason.HistoryPruned => StatusCode.NotFound,
        RejectionReason.MissingCredentials or RejectionReason.InvalidToken or RejectionReason.TokenExpired or RejectionReason.TokenRevoked => StatusCode.Unauthenticated,
        RejectionReason.RoleNotAllowed or RejectionReason.OutOfScope or RejectionReason.NotEnrolled => StatusCode.PermissionDenied,
        RejectionReason.UnknownToken => StatusCode.NotFound,
        RejectionReason.RateLimited => StatusCode.ResourceExhausted,
        RejectionReason.IdInUse => StatusCode.AlreadyExists,
        RejectionReason.Locked or RejectionReason.BelowNotApproved or RejectionReason.WrongReviewState or RejectionReason.ChildRefused => StatusCode.FailedPrecondition,
        RejectionReason.ChildUnreachable => StatusCode.Unavailable,
        _ => StatusCode.InvalidArgument,
    };

    /// <summary>UPPER_SNAKE form of a reason, e.g. NUMERATOR_EXCEEDS_DENOMINATOR.</summary>
    public static string ReasonText(RejectionReason reason)
    {
        var name = reason.ToString();
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                builder.Append('_');
            }

            builder.Append(char.ToUpperInvariant(name[i]));
        }

        return builder.ToString();
    }

    /// <summary>Longest status message sent, in characters; longer ones end with an ellipsis.</summary>
    public const int MaxMessageLength = 512;

    /// <summary>Longest field path or violation description sent, in characters.</summary>
    public const int MaxViolationTextLength = 256;

    /// <summary>
    /// Most bytes of the serialized google.rpc.Status sent in grpc-status-details-bin. With base64 and
    /// the grpc-message header beside it, the trailers stay well under the 16 KiB many HTTP/2 peers
    /// accept for a header block; a larger block breaks the connection for every call on it.
    /// </summary>
    public const int MaxStatusBytes = 6 * 1024;

    /// <summary>
    /// Builds the status of a rejection. Whatever the caller built, the result is bounded: the message
    /// and every violation are truncated, and violations are dropped from the end (the count of those
    /// dropped replaces them) until the serialized status fits <see cref="MaxStatusBytes"/>.
    /// </summary>
    public static RpcException ToException(Rejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        return Build(rejection).ToRpcException();
    }

    /// <summary>The bounded google.rpc.Status of a rejection.</summary>
    public static Google.Rpc.Status Build(Rejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        var status = new Google.Rpc.Status
        {
            Code = (int)CodeOf(rejection.Reason),
            Message = Truncate(rejection.Message, MaxMessageLength),
        };
        var info = new ErrorInfo { Reason = ReasonText(rejection.Reason), Domain = Domain };
        foreach (var (key, value) in rejection.Metadata ?? new Dictionary<string, string>())
        {
            info.Metadata[key] = Truncate(value, MaxViolationTextLength);
        }

        status.Details.Add(Any.Pack(info));
        if (rejection.Violations.Count == 0)
        {
            return status;
        }

        var violations = rejection.Violations.Select(static v => new BadRequest.Types.FieldViolation
        {
            Field = Truncate(v.Field, MaxViolationTextLength),
            Description = Truncate(v.Description, MaxViolationTextLength),
            Reason = ReasonText(v.Reason),
        }).ToList();
        var omitted = rejection.OmittedViolationCount;
        while (true)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.AddRange(violations);
            if (omitted > 0)
            {
                // The list was capped: one last entry says how many were found but not described.
                badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation
                {
                    Field = violations.Count > 0 ? ListField(violations[^1].Field) : string.Empty,
                    Reason = ReasonText(RejectionReason.ViolationsOmitted),
                    Description = string.Create(CultureInfo.InvariantCulture,
                        $"{omitted} further violations are not listed; only the first {violations.Count} are."),
                });
            }

            var candidate = status.Clone();
            candidate.Details.Add(Any.Pack(badRequest));
            if (candidate.CalculateSize() <= MaxStatusBytes || violations.Count == 0)
            {
                return candidate;
            }

            // Still too large: drop from the end and count what was dropped.
            violations.RemoveAt(violations.Count - 1);
            omitted++;
        }
    }

    /// <summary>The value, or its first <paramref name="maxLength"/> - 1 characters and an ellipsis.</summary>
    public static string Truncate(string? value, int maxLength) => Echo.Truncate(value, maxLength);

    /// <summary>The repeated field a violation's path is in: "values" for "values[19].indicator_id".</summary>
    private static string ListField(string path) => path.IndexOf('[', StringComparison.Ordinal) is > 0 and var bracket ? path[..bracket] : path;

    /// <summary>Unwraps an outcome into its value, or throws its rejection as a status.</summary>
    public static T ValueOrThrow<T>(this Outcome<T> outcome)
        where T : class =>
        outcome.Value ?? throw ToException(outcome.Rejection!);

    /// <summary>A metadata entry of a peer's ErrorInfo, if it is one of ours and has it.</summary>
    public static string? MetadataOf(RpcException exception, string key)
    {
        var info = exception.GetRpcStatus()?.GetDetail<ErrorInfo>();
        return info is not null && info.Domain == Domain && info.Metadata.TryGetValue(key, out var value) ? value : null;
    }

    /// <summary>The reason a peer gave in its ErrorInfo, if it is one of ours.</summary>
    public static RejectionReason? ReasonOf(RpcException exception)
    {
        var info = exception.GetRpcStatus()?.GetDetail<ErrorInfo>();
        if (info is null || info.Domain != Domain)
        {
            return null;
        }

        return System.Enum.GetValues<RejectionReason>().Where(r => ReasonText(r) == info.Reason).Cast<RejectionReason?>().FirstOrDefault();
    }
}
