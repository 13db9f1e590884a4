using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Periods;
using Federation.Protos.V1;

namespace Federation.Aggregator.Ledger;

/// <summary>Who takes a ledger step, as the node holding the item sees the caller.</summary>
public enum LedgerActor
{
    /// <summary>A clerk whose scope reaches the unit.</summary>
    UnitClerk,

    /// <summary>
    /// A reviewer of the tier above the unit: at the node hosting it (the unit is not the node itself), or the parent of
    /// a node hosting only itself, by a signed step it delivers.
    /// </summary>
    TierAbove,

    /// <summary>A reviewer of the node that is the unit itself (a village running its own node): the unit's own.</summary>
    OwnReviewer,
}

/// <summary>The outcome of a ledger step: the status it leaves, or why it does not apply.</summary>
public readonly record struct LedgerStepCheck(LedgerItemStatus Next, RejectionReason Reason, string Message, string Field)
{
    public bool IsAllowed => Reason == RejectionReason.None;

    internal static LedgerStepCheck To(LedgerItemStatus next) => new(next, RejectionReason.None, string.Empty, string.Empty);

    internal static LedgerStepCheck Refuse(RejectionReason reason, string message, string field = "item_id") => new(default, reason, message, field);
}

/// <summary>A listed problem checked: the entry as it is kept (texts trimmed, period canonical), or what is wrong with it.</summary>
public sealed record LedgerEntryCheck(LedgerEntry? Entry, IReadOnlyList<FieldViolation> Violations)
{
    public bool IsValid => Violations.Count == 0;
}

/// <summary>
/// The rectification ledger's rules (整改台账, 挂牌销号), pure: LIST → OPEN; OPEN → FIX_REPORTED by the unit's clerk, with a
/// note; FIX_REPORTED → CLEARED (ACCEPTED) or back to OPEN (SENT_BACK, with a reason) by a reviewer of the tier above
/// only. A CLEARED item is final. The unit's own reviewer (a village running its own node) takes no step: a unit never
/// clears its own problems. Deadlines are dates in China time; an item is overdue from 00:00 UTC+8 the day after its
/// deadline while it is not cleared.
/// </summary>
public static class LedgerRules
{
    /// <summary>Longest problem, measure or note, in characters.</summary>
    public const int MaxTextLength = 500;

    /// <summary>Longest name of the person responsible, in characters.</summary>
    public const int MaxResponsibleLength = 100;

    /// <summary>Most items one unit may have for one period: a ledger, not a dumping ground, and a bounded tally.</summary>
    public const int MaxItemsPerUnitPeriod = 200;

    /// <summary>Most steps in one item's history (a fix sent back again and again ends here).</summary>
    public const int MaxStepsPerItem = 100;

    /// <summary>China Standard Time, in which deadlines are dates: UTC+8, no daylight saving.</summary>
    public static readonly TimeSpan ChinaOffset = TimeSpan.FromHours(8);

    /// <summary>The status an item is in after a step of <paramref name="kind"/>.</summary>
    public static LedgerItemStatus StatusAfter(LedgerStepKind kind) => kind switch
    {
        LedgerStepKind.List or LedgerStepKind.SentBack => LedgerItemStatus.Open,
        LedgerStepKind.FixReported => LedgerItemStatus.FixReported,
        LedgerStepKind.Accepted => LedgerItemStatus.Cleared,
        _ => LedgerItemStatus.Unspecified,
    };

    /// <summary>
    /// Whether <paramref name="actor"/> may take a step of <paramref name="kind"/> on an item in <paramref name="current"/>
    /// (<see cref="LedgerItemStatus.Unspecified"/> for a new item), with <paramref name="note"/>, after <paramref name="stepCount"/> steps.
    /// </summary>
    public static LedgerStepCheck Step(LedgerItemStatus current, LedgerStepKind kind, LedgerActor actor, string note, int stepCount)
    {
        ArgumentNullException.ThrowIfNull(note);
        var noteField = kind == LedgerStepKind.SentBack ? "reason" : "note";
        if (CheckText(note, noteField, MaxTextLength, required: false) is { } badNote)
        {
            return LedgerStepCheck.Refuse(badNote.Reason, badNote.Description, noteField);
        }

        if (kind is LedgerStepKind.FixReported or LedgerStepKind.SentBack && string.IsNullOrWhiteSpace(note))
        {
            return LedgerStepCheck.Refuse(RejectionReason.ReasonRequired,
                kind == LedgerStepKind.FixReported ? "a fix report needs a note saying what was done." : "sending a fix back needs a reason.", noteField);
        }

        if (Allows(kind, actor) is { } refusal)
        {
            return refusal;
        }

        if (kind != LedgerStepKind.List && stepCount >= MaxStepsPerItem)
        {
            return LedgerStepCheck.Refuse(RejectionReason.ValueTooLarge, $"the item already has {MaxStepsPerItem} steps, the most one item may have; list the problem again.");
        }

        return (kind, current) switch
        {
            (LedgerStepKind.List, LedgerItemStatus.Unspecified) => LedgerStepCheck.To(LedgerItemStatus.Open),
            (LedgerStepKind.FixReported, LedgerItemStatus.Open) => LedgerStepCheck.To(LedgerItemStatus.FixReported),
            (LedgerStepKind.Accepted, LedgerItemStatus.FixReported) => LedgerStepCheck.To(LedgerItemStatus.Cleared),
            (LedgerStepKind.SentBack, LedgerItemStatus.FixReported) => LedgerStepCheck.To(LedgerItemStatus.Open),
            (LedgerStepKind.Unspecified, _) => LedgerStepCheck.Refuse(RejectionReason.MissingField, "the step kind is required.", "step"),
            (_, LedgerItemStatus.Cleared) => LedgerStepCheck.Refuse(RejectionReason.WrongReviewState, "the item is cleared (销号); nothing changes it any more."),
            (LedgerStepKind.Accepted or LedgerStepKind.SentBack, LedgerItemStatus.Open) => LedgerStepCheck.Refuse(RejectionReason.WrongReviewState,
                "the item is open: the unit has not reported it fixed, so there is nothing to accept or send back."),
            (LedgerStepKind.FixReported, LedgerItemStatus.FixReported) => LedgerStepCheck.Refuse(RejectionReason.WrongReviewState,
                "a fix is already reported and waits for the tier above; it accepts it or sends it back first."),
            _ => LedgerStepCheck.Refuse(RejectionReason.WrongReviewState, $"a {Name(kind)} does not apply to an item that is {Name(current)}."),
        };
    }

    /// <summary>
    /// Who may take each step: the unit's clerk or the tier above lists; the clerk reports fixes; only the tier above accepts
    /// or sends back; the unit's own reviewer takes none. Null when <paramref name="actor"/> may take a step of <paramref name="kind"/>.
    /// </summary>
    public static LedgerStepCheck? Allows(LedgerStepKind kind, LedgerActor actor) => (kind, actor) switch
    {
        (_, LedgerActor.OwnReviewer) => LedgerStepCheck.Refuse(RejectionReason.RoleNotAllowed,
            "a reviewer of the unit's own node takes no ledger step about it: its problems are listed by its clerk or the tier above, and only a reviewer of the tier above accepts or sends back a fix.",
            "unit_id"),
        (LedgerStepKind.FixReported, LedgerActor.TierAbove) => LedgerStepCheck.Refuse(RejectionReason.RoleNotAllowed,
            "the unit's clerk reports a fix; the tier above accepts it or sends it back.", "unit_id"),
        (LedgerStepKind.Accepted or LedgerStepKind.SentBack, LedgerActor.UnitClerk) => LedgerStepCheck.Refuse(RejectionReason.RoleNotAllowed,
            "only a reviewer of the tier above accepts or sends back a fix; a clerk's fix report alone leaves the item open.", "unit_id"),
        _ => null,
    };

    /// <summary>
    /// Checks a problem to list at <paramref name="now"/>: its period (started), category (one of the catalogue's), texts
    /// and deadline. Every fault is listed, with the field under <paramref name="field"/>.
    /// </summary>
    public static LedgerEntryCheck CheckEntry(CatalogueIndex catalogue, LedgerEntry? entry, DateTimeOffset now, string field = "entry")
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        if (entry is null)
        {
            return new(null, [new(field, RejectionReason.MissingField, $"{field} is required: period, category, problem, measure, deadline and responsible.")]);
        }

        var violations = new List<FieldViolation>();
        var canonicalPeriod = string.Empty;
        if (NodeIds.CheckPeriod(entry.Period, $"{field}.period", out var period) is { } badPeriod)
        {
            violations.Add(badPeriod);
        }
        else if (period.StartInstant > now)
        {
            violations.Add(new($"{field}.period", RejectionReason.PeriodNotStarted, $"{field}.period {period} has not started yet."));
        }
        else
        {
            canonicalPeriod = period.ToString();
        }

        var category = entry.Category.Trim();
        if (category.Length == 0)
        {
            violations.Add(new($"{field}.category", RejectionReason.MissingField, $"{field}.category is required: one of {Codes(catalogue)}."));
        }
        else if (!catalogue.LedgerCategories.Any(c => c.Code == category))
        {
            violations.Add(new($"{field}.category", RejectionReason.UnknownCategory, catalogue.LedgerCategories.Count == 0
                ? "the catalogue lists no ledger categories: this node takes no ledger items."
                : $"{field}.category '{Echo.Of(entry.Category)}' is not one of {Codes(catalogue)}."));
        }

        foreach (var (name, value, max) in new[] { ("problem", entry.Problem, MaxTextLength), ("measure", entry.Measure, MaxTextLength), ("responsible", entry.Responsible, MaxResponsibleLength) })
        {
            if (CheckText(value, $"{field}.{name}", max, required: true) is { } bad)
            {
                violations.Add(bad);
            }
        }

        if (entry.Deadline.Length == 0)
        {
            violations.Add(new($"{field}.deadline", RejectionReason.MissingField, $"{field}.deadline is required, a date written 2026-06-30 (China time)."));
        }
        else if (!TryParseDeadline(entry.Deadline, out _))
        {
            violations.Add(new($"{field}.deadline", RejectionReason.MalformedRequest,
                $"{field}.deadline '{Echo.Of(entry.Deadline)}' is not a date written 2026-06-30 between 2000 and 2099."));
        }

        if (violations.Count > 0)
        {
            return new(null, violations);
        }

        return new(new LedgerEntry
        {
            Period = canonicalPeriod,
            Category = category,
            Problem = entry.Problem.Trim(),
            Measure = entry.Measure.Trim(),
            Deadline = entry.Deadline,
            Responsible = entry.Responsible.Trim(),
        }, []);
    }

    /// <summary>
    /// Checks a free text: required or not, at most <paramref name="maxLength"/> characters, and no control characters but
    /// line feeds and tabs (a notice on the wall has lines; nothing else unprintable belongs in it).
    /// </summary>
    public static FieldViolation? CheckText(string value, string field, int maxLength, bool required)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (required && string.IsNullOrWhiteSpace(value))
        {
            return new(field, RejectionReason.MissingField, $"{field} is required.");
        }

        if (value.Length > maxLength)
        {
            return new(field, RejectionReason.ValueTooLarge,
                string.Create(CultureInfo.InvariantCulture, $"{field} has {value.Length} characters; at most {maxLength} are kept."));
        }

        return value.Any(static c => char.IsControl(c) && c is not '\n' and not '\t' and not '\r')
            ? new(field, RejectionReason.MalformedRequest, $"{field} holds a control character other than a line break or a tab.")
            : null;
    }

    /// <summary>Parses a deadline written "2026-06-30" (exactly), years 2000 to 2099.</summary>
    public static bool TryParseDeadline(string text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date) && date.Year is >= 2000 and <= 2099;

    /// <summary>The instant an item with this deadline becomes overdue: 00:00 China time (UTC+8) the day after.</summary>
    public static DateTimeOffset OverdueFrom(DateOnly deadline) =>
        new DateTimeOffset(deadline.AddDays(1).ToDateTime(TimeOnly.MinValue), ChinaOffset).ToUniversalTime();

    /// <summary>The instant an item with this deadline text becomes overdue; null when the text is not a deadline.</summary>
    public static DateTimeOffset? OverdueFrom(string deadline) => TryParseDeadline(deadline, out var date) ? OverdueFrom(date) : null;

    /// <summary>Not cleared and the deadline has passed at <paramref name="at"/>.</summary>
    public static bool IsOverdue(LedgerItemStatus status, string deadline, DateTimeOffset at) =>
        status != LedgerItemStatus.Cleared && OverdueFrom(deadline) is { } from && at >= from;

    private static string Codes(CatalogueIndex catalogue) => string.Join(", ", catalogue.LedgerCategories.Select(static c => c.Code));

    private static string Name(LedgerStepKind kind) => kind switch
    {
        LedgerStepKind.List => "listing",
        LedgerStepKind.FixReported => "fix report",
        LedgerStepKind.Accepted => "acceptance",
        LedgerStepKind.SentBack => "send-back",
        _ => "step",
    };

    private static string Name(LedgerItemStatus status) => status switch
    {
        LedgerItemStatus.Open => "open",
        LedgerItemStatus.FixReported => "reported fixed",
        LedgerItemStatus.Cleared => "cleared",
        _ => "not listed",
    };
}
