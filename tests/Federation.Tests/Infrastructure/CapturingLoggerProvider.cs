using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Federation.Tests.Infrastructure;

/// <summary>
/// Keeps every line a node logs at Information or above (after the node's own level filters), so that a
/// test can fail on an unexpected error, and check what an operator would read.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<string> _warnings = new();
    private readonly ConcurrentQueue<string> _information = new();

    public IReadOnlyCollection<string> Errors => _errors;

    public IReadOnlyCollection<string> Warnings => _warnings;

    /// <summary>Information lines, as "category[event id] message".</summary>
    public IReadOnlyCollection<string> Information => _information;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{category}[{eventId.Id}] {formatter(state, exception)} {exception}";
            (logLevel >= LogLevel.Error ? owner._errors : logLevel >= LogLevel.Warning ? owner._warnings : owner._information).Enqueue(line);
        }
    }
}
