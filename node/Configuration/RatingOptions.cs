using Microsoft.Extensions.Options;

namespace Federation.Node.Configuration;

/// <summary>Star rating of the units directly below this node (configuration section "Ratings").</summary>
public sealed class RatingOptions
{
    public const string SectionName = "Ratings";

    /// <summary>A rating scheme in proto JSON (see protos/federation/v1/rating.proto); empty, the default, uses the scheme that ships with the node.</summary>
    public string SchemePath { get; set; } = string.Empty;

    /// <summary>The tier label of the units this node hosts, as their stars are counted upward. Default "village".</summary>
    public string HostedUnitTier { get; set; } = "village";
}

/// <summary>Checks the rating settings when the host starts; the scheme itself is checked when it is loaded.</summary>
internal sealed class RatingOptionsValidator : IValidateOptions<RatingOptions>
{
    /// <summary>Longest tier label a parent accepts in a star histogram.</summary>
    public const int MaxTierLength = 64;

    public ValidateOptionsResult Validate(string? name, RatingOptions options) =>
        options.HostedUnitTier.Length is 0 or > MaxTierLength || options.HostedUnitTier.Any(char.IsControl)
            ? ValidateOptionsResult.Fail($"Ratings:HostedUnitTier must be 1 to {MaxTierLength} printable characters, e.g. village.")
            : ValidateOptionsResult.Success;
}
