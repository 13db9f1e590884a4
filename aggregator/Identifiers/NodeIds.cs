using System.Globalization;
using System.Text;
using Federation.Aggregator.Periods;

namespace Federation.Aggregator.Identifiers;

/// <summary>
/// The rule every node, unit and child id follows, checked before a request is used for anything else:
/// 1 to <see cref="MaxLength"/> characters from ASCII letters, digits, '-', '_' and '.'. Statistical
/// division codes fit, and so do stable names such as <c>coop-07</c>. The rule keeps ids printable
/// in one log line, far below LiteDB's index key limit, and free of '|', which storage keys use as
/// a separator.
/// </summary>
public static class NodeIds
{
    /// <summary>The rule, as said to people.</summary>
    public const string Rule = "1–64 characters: letters, digits, '-', '_', '.'";

    /// <summary>Longest id accepted, in characters (the longest statistical code has 12).</summary>
    public const int MaxLength = 64;

    /// <summary>Longest period text accepted before it is parsed (the longest valid form has 7).</summary>
    public const int MaxPeriodLength = 16;

    /// <summary>True when <paramref name="id"/> follows the rule.</summary>
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Checks an id field; null when it is fine. An empty value is <see cref="RejectionReason.MissingField"/>
    /// when <paramref name="required"/>, and fine otherwise (an optional id, "this node").
    /// </summary>
    public static FieldViolation? Check(string? value, string field, bool required = true)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (string.IsNullOrEmpty(value))
        {
            return required ? new FieldViolation(field, RejectionReason.MissingField, $"{field} is required.") : null;
        }

        if (value.Length > MaxLength)
        {
            return new FieldViolation(field, RejectionReason.MalformedId, string.Create(CultureInfo.InvariantCulture,
                $"{field} '{Echo.Of(value)}' has {value.Length} characters; at most {MaxLength} are allowed."));
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (!IsAllowed(value[i]))
            {
                return new FieldViolation(field, RejectionReason.MalformedId, string.Create(CultureInfo.InvariantCulture,
                    $"{field} '{Echo.Of(value)}' has {Echo.Describe(value[i])} at position {i}; ids use letters, digits, '-', '_' and '.'."));
            }
        }

        return null;
    }

    /// <summary>Checks and parses a period field: bounded length first, then the period forms.</summary>
    public static FieldViolation? CheckPeriod(string? value, string field, out Period period)
    {
        ArgumentNullException.ThrowIfNull(field);
        period = default;
        if (string.IsNullOrEmpty(value))
        {
            return new FieldViolation(field, RejectionReason.MissingField, $"{field} is required; expected 2026, 2026-H1, 2026-Q1 or 2026-03.");
        }

        if (value.Length > MaxPeriodLength || !Period.TryParse(value, out period))
        {
            return new FieldViolation(field, RejectionReason.MalformedPeriod,
                $"{field} '{Echo.Of(value)}' is malformed; expected 2026, 2026-H1, 2026-Q1 or 2026-03.");
        }

        return null;
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}

/// <summary>
/// Bounded echoes of caller input in messages: an error never repeats more than a short prefix of what
/// it was sent, so a huge or hostile value cannot blow a response header or a log line.
/// </summary>
public static class Echo
{
    /// <summary>Most characters of one value repeated in a message.</summary>
    public const int MaxEchoLength = 40;

    /// <summary>
    /// The value, or its first <see cref="MaxEchoLength"/> characters and an ellipsis; control
    /// characters are shown escaped (\u000B) so a message stays on one line.
    /// </summary>
    public static string Of(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        var shown = value.Length > MaxEchoLength ? value.AsSpan(0, MaxEchoLength) : value.AsSpan();
        var builder = new StringBuilder(shown.Length + 8);
        foreach (var c in shown)
        {
            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (value.Length > MaxEchoLength)
        {
            builder.Append('…');
        }

        return builder.ToString();
    }

    /// <summary>
    /// The text, or its first <paramref name="maxLength"/> - 1 characters and an ellipsis, never splitting a
    /// surrogate pair (the result must stay valid UTF-16 to be encoded into a header or a log line).
    /// </summary>
    public static string Truncate(string? text, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (text.Length <= maxLength)
        {
            return text;
        }

        var cut = maxLength - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return string.Concat(text.AsSpan(0, cut), "…");
    }

    /// <summary>One character named for a message: 'x', or U+000B for one that does not print.</summary>
    public static string Describe(char c) =>
        char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c)
            ? string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}")
            : $"'{c}'";
}
