using System.Text;
using Federation.Aggregator;
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
        RejectionReason.StaleVersion or RejectionReason.Equivocation => StatusCode.FailedPrecondition,
        RejectionReason.UnknownUnit or RejectionReason.UnknownNode or RejectionReason.NoFigures => StatusCode.NotFound,
        RejectionReason.MissingCredentials or RejectionReason.InvalidToken or RejectionReason.TokenExpired or RejectionReason.TokenRevoked => StatusCode.Unauthenticated,
        RejectionReason.RoleNotAllowed or RejectionReason.OutOfScope or RejectionReason.NotEnrolled => StatusCode.PermissionDenied,
        RejectionReason.UnknownToken => StatusCode.NotFound,
        RejectionReason.RateLimited => StatusCode.ResourceExhausted,
        RejectionReason.IdInUse => StatusCode.AlreadyExists,
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

    public static RpcException ToException(Rejection rejection) => ToStatus(rejection).ToRpcException();

    /// <summary>The google.rpc.Status of a rejection: code, message and details.</summary>
    public static Google.Rpc.Status ToStatus(Rejection rejection)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)CodeOf(rejection.Reason),
            Message = rejection.Message,
        };
        var info = new ErrorInfo { Reason = ReasonText(rejection.Reason), Domain = Domain };
        foreach (var (key, value) in rejection.Metadata ?? new Dictionary<string, string>())
        {
            info.Metadata[key] = value;
        }

        status.Details.Add(Any.Pack(info));
        if (rejection.Violations.Count > 0)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.AddRange(rejection.Violations.Select(static v => new BadRequest.Types.FieldViolation
            {
                Field = v.Field,
                Description = v.Description,
            }));
            status.Details.Add(Any.Pack(badRequest));
        }

        return status;
    }

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
