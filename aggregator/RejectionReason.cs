namespace Federation.Aggregator;

/// <summary>
/// The closed list of reasons the core gives for rejecting peer or user input. The node maps each
/// to one gRPC status code and an UPPER_SNAKE ErrorInfo reason (the enum name, in upper snake case).
/// The public contract publishes the same list as <c>federation.v1.ErrorReason</c> in
/// protos/federation/v1/errors.proto; a test keeps the two equal, so a new reason goes in both.
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

    /// <summary>An id is empty where required, too long, or has a character outside the id rule.</summary>
    MalformedId,

    /// <summary>The request bytes are not a valid protobuf message of the method's request type.</summary>
    MalformedRequest,

    /// <summary>Only as the last field violation of a capped list: how many further violations were not listed.</summary>
    ViolationsOmitted,

    /// <summary>The call carries no credential: no token and no node certificate.</summary>
    MissingCredentials,

    /// <summary>The bearer token is malformed or not one this node issued, or the client certificate is not the deployment CA's.</summary>
    InvalidToken,

    /// <summary>The token has expired.</summary>
    TokenExpired,

    /// <summary>The token was revoked.</summary>
    TokenRevoked,

    /// <summary>No token with that id was issued by this node.</summary>
    UnknownToken,

    /// <summary>The caller's role (or node relation) does not admit this call.</summary>
    RoleNotAllowed,

    /// <summary>The request acts on a unit or node outside the caller's scope.</summary>
    OutOfScope,

    /// <summary>A node certificate of a node that is neither this node's parent nor an enrolled child.</summary>
    NotEnrolled,

    /// <summary>The caller made more requests than its rate limit allows.</summary>
    RateLimited,

    /// <summary>A summary's counts contradict each other (min above max, a histogram not adding up, coverage out of order).</summary>
    InconsistentCounts,

    /// <summary>A summary version or an announcement time beyond the receiver's clock plus the allowed skew.</summary>
    FutureVersion,

    /// <summary>A child's summary claims more leaves than the parent allows it.</summary>
    LeafAllowanceExceeded,

    /// <summary>More than one child answers for the node a query is about.</summary>
    ConflictingAnswers,

    /// <summary>A strict correction leaves out indicators the previous version had.</summary>
    FieldsDropped,

    /// <summary>A report lacks indicators the catalogue requires for the period's type.</summary>
    MissingRequired,

    /// <summary>A report breaks a catalogue validation rule of severity ERROR.</summary>
    RuleViolated,

    /// <summary>Approved figures (or a period approved above): no correction, return or withdrawal until a reopen.</summary>
    Locked,

    /// <summary>A child's summary cannot be approved while a leaf below it is not approved.</summary>
    BelowNotApproved,

    /// <summary>A return or reopen without a reason.</summary>
    ReasonRequired,

    /// <summary>The decision does not apply in the current review state.</summary>
    WrongReviewState,

    /// <summary>The child to be told of a decision about its summary or report could not be reached.</summary>
    ChildUnreachable,

    /// <summary>An imported file is not a readable sheet, or has no header row naming units and indicators.</summary>
    UnreadableSheet,

    /// <summary>The child to be told of a decision answered and refused it; its own reason travels as metadata.</summary>
    ChildRefused,

    /// <summary>A star-rating item id the node's rating scheme does not have (of the kind expected where it is named).</summary>
    UnknownRatingItem,

    /// <summary>An item's points are above the item's maximum in the rating scheme.</summary>
    PointsAboveMaximum,

    /// <summary>A unit to rate is neither a hosted unit active in the year nor an enrolled child of the rating node.</summary>
    NotDirectlyBelow,

    /// <summary>A valid period of the wrong type (a rating year that is not a year, an assessment period outside the rated year).</summary>
    WrongPeriodType,

    /// <summary>The same unit, assessment period or item more than once in one request.</summary>
    DuplicateEntry,

    /// <summary>A password too short, too long, or the account's own name.</summary>
    WeakPassword,

    /// <summary>A report or sheet types an indicator the catalogue computes from the rectification ledger.</summary>
    ComputedIndicator,

    /// <summary>No rectification ledger item with that id for the unit.</summary>
    UnknownItem,

    /// <summary>A page token of a listing the node no longer holds: expired, lost in a restart, or let go for newer ones.</summary>
    PageTokenExpired,
    /// <summary>A replaced version a proof asked for is no longer kept: the history's retention rule let it go.</summary>
    HistoryPruned,
}

/// <summary>One field of a request that breaks a rule.</summary>
/// <param name="Field">The request path, e.g. <c>values[2].count</c>.</param>
/// <param name="Reason">The rule broken.</param>
/// <param name="Description">A short English sentence naming the field and the rule.</param>
public readonly record struct FieldViolation(string Field, RejectionReason Reason, string Description);
