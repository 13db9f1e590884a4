namespace Federation.Aggregator;

/// <summary>The one place the core throws: exceptions mean misuse by the caller, never bad peer input.</summary>
internal static class ThrowHelper
{
    public static Exception Argument(string paramName, string message) => new ArgumentException(message, paramName);

    public static Exception InvalidCatalogue(string message) => new InvalidOperationException("Invalid catalogue: " + message);

    public static Exception InvalidOperation(string message) => new InvalidOperationException(message);
}
