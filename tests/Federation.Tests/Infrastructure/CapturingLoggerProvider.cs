using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Federation.Tests.Infrastructure;

/// <summary>Keeps every warning and error a node logs, so that a test can fail on an unexpected error.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<string> _warnings = new();

    public IReadOnlyCollection<string> Errors => _errors;

    public IReadOnlyCollection<string> Warnings => _warnings;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{category}[{eventId.Id}] {formatter(state, exception)} {exception}";
            (logLevel >= LogLevel.Error ? owner._errors : owner._warnings).Enqueue(line);
        }
    }
}
