using Federation.Node.Configuration;

namespace Federation.Node.Rollup;

/// <summary>The randomness of the outbox pipeline, injected as its time is, so that a test can fix it.</summary>
internal interface IJitterSource
{
    /// <summary>A number in [0, 1).</summary>
    double NextUnit();
}

/// <summary>The production source: the shared thread-safe generator.</summary>
internal sealed class SharedRandomJitter : IJitterSource
{
    public static readonly SharedRandomJitter Instance = new();

    public double NextUnit() => Random.Shared.NextDouble();
}

/// <summary>
/// How long a row waits before the next durable delivery attempt: the base delay doubling with each
/// attempt up to the maximum, spread ±20% so that children cut off together do not return together.
/// </summary>
internal sealed class RedeliverySchedule(OutboxOptions options, IJitterSource jitter)
{
    public TimeSpan DelayAfter(int attemptCount)
    {
        var exponential = options.RedeliveryBaseDelay * Math.Pow(2, Math.Clamp(attemptCount - 1, 0, 16));
        var capped = exponential < options.RedeliveryMaxDelay ? exponential : options.RedeliveryMaxDelay;
        return capped * (0.8 + (0.4 * jitter.NextUnit()));
    }
}
