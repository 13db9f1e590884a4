using Google.Rpc;
using Grpc.Core;

namespace Federation.Node.Web;

/// <summary>What the page does with a refusal from the API.</summary>
internal enum ProblemKind
{
    /// <summary>Show one line above the page.</summary>
    Line,

    /// <summary>The session's credential no longer holds: end the session, back to the login page.</summary>
    Login,

    /// <summary>Not for this account: the 403 page.</summary>
    Forbidden,

    /// <summary>Nothing for the period yet: an empty page that says so, not an error.</summary>
    NoFigures,
}

/// <summary>A refusal as a person sees it: one line in their language and the HTTP status of the page.</summary>
internal sealed record WebProblem(ProblemKind Kind, int StatusCode, string Line);

/// <summary>
/// Maps the API's status and ErrorInfo reason to one line for a person; the English detail is never
/// shown raw except quoted after "the node refused", and no stack trace ever reaches a page.
/// </summary>
internal static class ApiProblems
{
    public static WebProblem From(RpcException exception, WebTexts texts)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(texts);
        var reason = Reason(exception);
        return exception.StatusCode switch
        {
            StatusCode.Unauthenticated => new(ProblemKind.Login, StatusCodes.Status401Unauthorized, texts["login.expired"]),
            StatusCode.PermissionDenied => new(ProblemKind.Forbidden, StatusCodes.Status403Forbidden, texts["forbidden"]),
            StatusCode.NotFound when reason == "NO_FIGURES" => new(ProblemKind.NoFigures, StatusCodes.Status200OK, texts["no-figures"]),
            StatusCode.NotFound when reason is "UNKNOWN_NODE" or "UNKNOWN_UNIT" => new(ProblemKind.Line, StatusCodes.Status404NotFound, texts["error.unknown-node"]),
            StatusCode.ResourceExhausted => new(ProblemKind.Line, StatusCodes.Status429TooManyRequests, texts["error.rate"]),
            StatusCode.Unavailable when reason == "CHILD_UNREACHABLE" => new(ProblemKind.Line, StatusCodes.Status503ServiceUnavailable, texts["error.child-unreachable"]),
            StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled =>
                new(ProblemKind.Line, StatusCodes.Status503ServiceUnavailable, texts["error.unavailable"]),
            _ => new(ProblemKind.Line, StatusOf(exception.StatusCode), reason switch
            {
                "MALFORMED_PERIOD" => texts["error.period"],
                "PERIOD_NOT_STARTED" => texts["error.period-not-started"],
                "REASON_REQUIRED" => texts["error.reason-required"],
                "LOCKED" => texts["error.locked"],
                "BELOW_NOT_APPROVED" => texts["error.below-not-approved"],
                "WRONG_REVIEW_STATE" => texts["error.wrong-state"],
                "UNKNOWN_ITEM" => texts["error.unknown-item"],
                _ when exception.StatusCode is StatusCode.Internal or StatusCode.Unknown => texts["error.generic"],
                _ => texts.Format("error.refused", Bounded(exception.Status.Detail)),
            }),
        };
    }

    /// <summary>
    /// A refusal of a ledger step taken from the page. Who may take it is the API's answer (the tier above, never the
    /// unit itself), so a role the step does not admit is a line beside the ledger, not the 403 page.
    /// </summary>
    public static WebProblem ForLedgerStep(RpcException exception, WebTexts texts)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(texts);
        return (exception.StatusCode, Reason(exception)) switch
        {
            (StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED") => new(ProblemKind.Line, StatusCodes.Status403Forbidden, texts["error.ledger-tier-above"]),
            (StatusCode.NotFound, "UNKNOWN_UNIT") => new(ProblemKind.Line, StatusCodes.Status404NotFound, texts["error.ledger-unit"]),
            (_, "CHILD_REFUSED") => new(ProblemKind.Line, StatusCodes.Status409Conflict, texts.Format("error.child-refused",
                exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Metadata.GetValueOrDefault("child_reason") ?? "—")),
            _ => From(exception, texts),
        };
    }

    /// <summary>The refusal's ErrorInfo reason (UPPER_SNAKE), or empty when it carries none.</summary>
    public static string Reason(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason ?? string.Empty;
    }

    private static int StatusOf(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.Aborted => StatusCodes.Status409Conflict,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string Bounded(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
