namespace Federation.Node.Security;

/// <summary>The rule for ids in scopes and accounts.</summary>
internal static class Ids
{
    public const string Rule = "1–64 characters: letters, digits, '-', '_', '.'";

    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && id.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
