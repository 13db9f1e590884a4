using Federation.Aggregator.Identifiers;
using Microsoft.Extensions.Options;

namespace Federation.Node.Configuration;

/// <summary>Checks the node's configuration when the host starts, naming every bad setting.</summary>
internal sealed class NodeOptionsValidator : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Id))
        {
            failures.Add("Node:Id is required (e.g. 370113).");
        }
        else if (!NodeIds.IsValid(options.Id))
        {
            failures.Add($"Node:Id '{Echo.Of(options.Id)}' must be at most {NodeIds.MaxLength} ASCII letters, digits, '-', '_' or '.'.");
        }

        if (string.IsNullOrWhiteSpace(options.Tier))
        {
            failures.Add("Node:Tier is required (e.g. county).");
        }

        if (string.IsNullOrWhiteSpace(options.DataPath))
        {
            failures.Add("Node:DataPath is required.");
        }

        if (!Keys.IsHttpAddress(options.Listen))
        {
            failures.Add($"Node:Listen '{options.Listen}' must be an https:// address such as https://0.0.0.0:5001.");
        }

        if (!string.IsNullOrWhiteSpace(options.AdvertisedAddress) && !Keys.IsPeerAddress(options.AdvertisedAddress))
        {
            failures.Add($"Node:AdvertisedAddress '{options.AdvertisedAddress}' is not an https:// address (http:// only to a loopback address).");
        }

        if (options.Parent.IsConfigured && !Keys.IsPeerAddress(options.Parent.Address))
        {
            failures.Add($"Node:Parent:Address '{options.Parent.Address}' is not an https:// address (http:// only to a loopback address).");
        }

        if (options.Parent.IsConfigured && string.IsNullOrWhiteSpace(options.Parent.Id))
        {
            failures.Add("Node:Parent:Id is required with Node:Parent:Address: the parent's certificate must name it.");
        }

        if (!string.IsNullOrWhiteSpace(options.Parent.PublicKey) && !Keys.TryParsePublicKey(options.Parent.PublicKey, out _))
        {
            failures.Add("Node:Parent:PublicKey is not a base64 raw Ed25519 public key.");
        }

        foreach (var child in options.Children)
        {
            if (string.IsNullOrWhiteSpace(child.Id) || !Keys.TryParsePublicKey(child.PublicKey, out _))
            {
                failures.Add($"Node:Children entry '{child.Id}' needs an id and a base64 raw Ed25519 public key.");
            }

            if (!string.IsNullOrWhiteSpace(child.Address) && !Keys.IsPeerAddress(child.Address))
            {
                failures.Add($"Node:Children entry '{child.Id}' has Address '{child.Address}', not an https:// address (http:// only to a loopback address).");
            }
        }

        if (options.HostedUnits.Any(static u => string.IsNullOrWhiteSpace(u.Id)))
        {
            failures.Add("Node:HostedUnits entries need an id.");
        }

        // Ids from configuration follow the same rule as ids in requests, so nothing stored escapes it.
        foreach (var id in options.HostedUnits.Select(static u => u.Id).Concat(options.Children.Select(static c => c.Id)))
        {
            if (!string.IsNullOrWhiteSpace(id) && !NodeIds.IsValid(id))
            {
                failures.Add($"Node:HostedUnits or Node:Children id '{Echo.Of(id)}' must be at most {NodeIds.MaxLength} ASCII letters, digits, '-', '_' or '.'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Validates the timing options.</summary>
internal sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    public ValidateOptionsResult Validate(string? name, OutboxOptions options) =>
        options.AttemptTimeout <= TimeSpan.Zero || options.RetryBaseDelay < TimeSpan.Zero || options.MaxRetryAttempts < 0 ||
        options.RedeliveryBaseDelay <= TimeSpan.Zero || options.RedeliveryMaxDelay < options.RedeliveryBaseDelay ||
        options.BreakDuration < TimeSpan.FromMilliseconds(500) || options.BreakerFailureRatio is <= 0 or > 1
            ? ValidateOptionsResult.Fail("Outbox: timeouts and delays must be positive, RedeliveryMaxDelay ≥ RedeliveryBaseDelay, BreakDuration ≥ 0.5 s, 0 < BreakerFailureRatio ≤ 1.")
            : ValidateOptionsResult.Success;
}

/// <summary>Validates the pull and rebuild timings.</summary>
internal sealed class TimingOptionsValidator : IValidateOptions<PullOptions>, IValidateOptions<SummaryOptions>
{
    public ValidateOptionsResult Validate(string? name, PullOptions options) =>
        options.DefaultBudget <= TimeSpan.Zero || options.HopMarginFraction is < 0 or >= 1 || options.MinHopMargin < TimeSpan.Zero
            ? ValidateOptionsResult.Fail("Pull: DefaultBudget must be positive, 0 ≤ HopMarginFraction < 1, MinHopMargin ≥ 0.")
            : ValidateOptionsResult.Success;

    public ValidateOptionsResult Validate(string? name, SummaryOptions options) =>
        options.CoalesceDelay < TimeSpan.Zero || options.MaxCoalesceDelay < options.CoalesceDelay
            ? ValidateOptionsResult.Fail("Summary: CoalesceDelay ≥ 0 and MaxCoalesceDelay ≥ CoalesceDelay.")
            : ValidateOptionsResult.Success;
}

/// <summary>Parses keys as they appear in configuration and on the command line.</summary>
internal static class Keys
{
    /// <summary>True for an absolute http:// or https:// address, the only kinds a gRPC channel takes.</summary>
    public static bool IsHttpAddress(string? address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>
    /// True for an address another node may be called at: https://, or http:// to a loopback address only
    /// (the only place a node may listen in the clear). A child cannot steer its parent into plaintext.
    /// </summary>
    public static bool IsPeerAddress(string? address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback));

    public static bool TryParsePublicKey(string? base64, out byte[] publicKey)
    {
        publicKey = [];
        if (string.IsNullOrWhiteSpace(base64))
        {
            return false;
        }

        try
        {
            publicKey = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            return false;
        }

        return Aggregator.Signing.NodeSigningKey.IsValidPublicKey(publicKey);
    }
}
