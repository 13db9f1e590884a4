using Microsoft.Extensions.Options;

namespace Federation.Node.Configuration;

/// <summary>The web page every node serves on its TLS listener (configuration section "Web").</summary>
public sealed class WebOptions
{
    public const string SectionName = "Web";

    /// <summary>Serve the page. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Minutes without a request after which a session ends (sliding). Default 30.</summary>
    public int SessionMinutes { get; set; } = 30;

    /// <summary>Failed logins allowed for one account within <see cref="LoginFailureWindow"/>; then it is refused until the window passes. Default 5.</summary>
    public int LoginFailuresPerAccount { get; set; } = 5;

    /// <summary>Failed logins allowed from one address within <see cref="LoginFailureWindow"/>. Default 20.</summary>
    public int LoginFailuresPerAddress { get; set; } = 20;

    /// <summary>How long failed logins are remembered. Default 15 minutes.</summary>
    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Budget of each call the page makes to its own node's API (a pull with refresh included). Default 15 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan Session => TimeSpan.FromMinutes(SessionMinutes);
}

/// <summary>Validates the web options at start.</summary>
internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        var failures = new List<string>();
        if (options.SessionMinutes is < 1 or > 24 * 60)
        {
            failures.Add("Web:SessionMinutes must be between 1 and 1440.");
        }

        if (options.LoginFailuresPerAccount < 1 || options.LoginFailuresPerAddress < 1)
        {
            failures.Add("Web:LoginFailuresPerAccount and Web:LoginFailuresPerAddress must be positive.");
        }

        if (options.LoginFailureWindow <= TimeSpan.Zero || options.CallTimeout <= TimeSpan.Zero)
        {
            failures.Add("Web:LoginFailureWindow and Web:CallTimeout must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
