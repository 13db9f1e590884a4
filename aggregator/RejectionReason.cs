namespace Federation.Aggregator;

/// <summary>
/// The closed list of reasons the core gives for rejecting peer or user input. The node maps each
/// to one gRPC status code and an UPPER_SNAKE ErrorInfo reason (the enum name, in upper snake case).
/// </summary>
public enum RejectionReason
{
    None = 0,
    MissingField,
    MalformedPeriod,
    PeriodNotStarted,
    EmptyReport,
    UnknownIndicator,
    DerivedIndicator,
    DuplicateIndicator,
    ValueKindMismatch,
    NegativeValue,
    ValueTooLarge,
    UnknownCategory,
    NumeratorExceedsDenominator,
    UnknownUnit,
    MalformedSummary,
    BadSignature,
    UnknownSigner,
    SenderMismatch,
    StaleVersion,
    Equivocation,
    MalformedKey,
    UnknownNode,
    NoFigures,
    MalformedAddress,
    IdInUse,
    MalformedId,
    MissingCredentials,
    InvalidToken,
    TokenExpired,
    TokenRevoked,
    UnknownToken,
    RoleNotAllowed,
    OutOfScope,
    NotEnrolled,
    RateLimited,
    InconsistentCounts,
    FutureVersion,
    LeafAllowanceExceeded,
}

/// <summary>One field of a request that breaks a rule.</summary>
/// <param name="Field">The request path, e.g. <c>values[2].count</c>.</param>
/// <param name="Reason">The rule broken.</param>
/// <param name="Description">A short English sentence naming the field and the rule.</param>
public readonly record struct FieldViolation(string Field, RejectionReason Reason, string Description);
