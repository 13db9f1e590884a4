using Federation.Aggregator;

namespace Federation.Node.Application;

/// <summary>Why a request was refused: one rule from the closed list, a sentence, and the fields at fault.</summary>
internal sealed record Rejection(RejectionReason Reason, string Message, IReadOnlyList<FieldViolation> Violations)
{
    /// <summary>Machine-readable facts about the refusal, sent as google.rpc.ErrorInfo metadata (e.g. leaf_allowance).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public static Rejection Of(RejectionReason reason, string message, string? field = null) =>
        new(reason, message, field is null ? [] : [new FieldViolation(field, reason, message)]);

    public static Rejection Of(IReadOnlyList<FieldViolation> violations) =>
        new(violations[0].Reason, string.Join(" ", violations.Select(static v => v.Description)), violations);
}

/// <summary>The result of an application operation: a value, or a rejection that changed nothing.</summary>
internal readonly record struct Outcome<T>(T? Value, Rejection? Rejection)
    where T : class
{
    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(Rejection rejection) => new(null, rejection);
}
