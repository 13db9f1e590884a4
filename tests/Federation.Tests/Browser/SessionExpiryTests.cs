using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Tests.Browser;

/// <summary>
/// A session idle for longer than Web:SessionMinutes ends: the next page is the login page. The node's
/// session cookie runs on a test clock here, so the half hour passes at once.
/// </summary>
[Collection(WebHierarchyCollection.Name)]
[Trait("Category", "Browser")]
public sealed class SessionExpiryTests(WebHierarchyFixture fixture) : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _sessionClock = new(DateTimeOffset.UtcNow);
    private TestNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(
            new NodeSpec("3799", "city")
            {
                HostedUnitIds = ["379901"],
                Customize = builder => builder.Services.PostConfigure<CookieAuthenticationOptions>("WebSession", o => o.TimeProvider = _sessionClock),
            },
            _folder.Sub("3799"));
        await _node.Access.SetPasswordAsync(
            new SetPasswordRequest { Account = "sun.li", Role = Role.Reader, Scope = "3799", Password = "a session that idles" }, deadline: Rpc.Deadline());
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Session_IdleLongerThanSessionMinutes_LandsOnTheLoginPage()
    {
        await using var context = await fixture.ContextAsync();
        var page = await WebHierarchyFixture.LogInAsync(context, _node, "sun.li", "a session that idles", "/completeness?period=" + WebHierarchyFixture.Quarter);
        Assert.Contains("/completeness", page.Url, StringComparison.Ordinal);

        _sessionClock.Advance(TimeSpan.FromMinutes(29));
        await page.ReloadAsync();
        Assert.Contains("/completeness", page.Url, StringComparison.Ordinal);

        // Sliding: 29 minutes after that last request, still in; 31 minutes idle, out.
        _sessionClock.Advance(TimeSpan.FromMinutes(29));
        await page.ReloadAsync();
        Assert.Contains("/completeness", page.Url, StringComparison.Ordinal);
        _sessionClock.Advance(TimeSpan.FromMinutes(31));
        await page.ReloadAsync();
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.Contains("returnUrl=%2Fcompleteness", page.Url, StringComparison.Ordinal);
        Assert.Equal(1, await page.Locator("#login-submit").CountAsync());
        await WebHierarchyFixture.ScreenshotAsync(page, "15-session-expired-login");
    }
}
