using Microsoft.Extensions.Options;

namespace Federation.Node.Configuration;

/// <summary>
/// How long replaced versions are kept (configuration section "History"). The rule itself is
/// <c>Federation.Aggregator.Retention.HistoryRetention</c>: every version a proof can still be asked for is kept,
/// the rest goes once it has been replaced for <see cref="KeepReplacedFor"/>.
/// </summary>
public sealed class HistoryOptions
{
    public const string SectionName = "History";

    /// <summary>False keeps every replaced version for good, as nodes did before the rule. Default true.</summary>
    public bool Prune { get; set; } = true;

    /// <summary>
    /// A replaced report, child summary or own summary is kept at least this long after the version that replaced
    /// it arrived, cited or not: time for the tiers above to take the newer figures before an older proof goes.
    /// Default 90 days.
    /// </summary>
    public TimeSpan KeepReplacedFor { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Time between two passes over the history, from 100 ms to 30 days. Default 1 hour.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most documents removed in one write, so that a pass never holds the single writer for long. Default 32.</summary>
    public int PruneBatchSize { get; set; } = 32;
}

/// <summary>Validates the history options when the host starts.</summary>
internal sealed class HistoryOptionsValidator : IValidateOptions<HistoryOptions>
{
    public ValidateOptionsResult Validate(string? name, HistoryOptions options) =>
        options.KeepReplacedFor < TimeSpan.Zero || options.PruneInterval < TimeSpan.FromMilliseconds(100) || options.PruneInterval > TimeSpan.FromDays(30) ||
        options.PruneBatchSize is < 1 or > 1000
            ? ValidateOptionsResult.Fail("History: KeepReplacedFor ≥ 0, 100 ms ≤ PruneInterval ≤ 30 days, 1 ≤ PruneBatchSize ≤ 1000.")
            : ValidateOptionsResult.Success;
}
