using System.Globalization;
using Federation.Aggregator;

namespace Federation.Node.Application;

/// <summary>Why a request was refused: one rule from the closed list, a sentence, and the fields at fault.</summary>
/// <param name="Reason">The rule broken (the first, when several are).</param>
/// <param name="Message">A short English sentence; the status message.</param>
/// <param name="Violations">The fields at fault that are described.</param>
/// <param name="OmittedViolationCount">Further violations found but not described; sent as one VIOLATIONS_OMITTED entry.</param>
internal sealed record Rejection(RejectionReason Reason, string Message, IReadOnlyList<FieldViolation> Violations, int OmittedViolationCount = 0)
{
    /// <summary>Violation sentences joined into the status message; the rest are in the details only.</summary>
    private const int MessageViolationCount = 3;

    /// <summary>Machine-readable facts about the refusal, sent as google.rpc.ErrorInfo metadata (e.g. leaf_allowance).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public static Rejection Of(RejectionReason reason, string message, string? field = null) =>
        new(reason, message, field is null ? [] : [new FieldViolation(field, reason, message)]);

    public static Rejection Of(FieldViolation violation) => Of(violation.Reason, violation.Description, violation.Field);

    /// <summary>A rejection listing <paramref name="violations"/>, and counting <paramref name="omittedCount"/> more.</summary>
    public static Rejection Of(IReadOnlyList<FieldViolation> violations, int omittedCount = 0)
    {
        var total = violations.Count + omittedCount;
        var message = string.Join(" ", violations.Take(MessageViolationCount).Select(static v => v.Description));
        if (total > MessageViolationCount)
        {
            message += string.Create(CultureInfo.InvariantCulture, $" ({total} violations in all.)");
        }

        return new(violations[0].Reason, message, violations, omittedCount);
    }
}

/// <summary>The result of an application operation: a value, or a rejection that changed nothing.</summary>
internal readonly record struct Outcome<T>(T? Value, Rejection? Rejection)
    where T : class
{
    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(Rejection rejection) => new(null, rejection);
}
