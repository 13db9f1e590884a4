using System.Net;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// The page on the wire, without a browser: HTTP/1.1 on the TLS listener beside gRPC, the headers every page
/// carries, the way in for a stranger (the login page), forms refused without their antiforgery token, the
/// plaintext listener left HTTP/2-only, and SetPassword's refusals.
/// </summary>
public sealed class WebPageHttpTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private TestNode _node = null!;
    private TestNode _plain = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync(new NodeSpec("370113001", "township") { HostedUnitIds = ["370113001001"] }, _folder.Sub("tls"));
        _plain = await TestNode.StartAsync(new NodeSpec("370113002", "township") { HostedUnitIds = ["370113002001"], Plaintext = true }, _folder.Sub("plain"));
    }

    public async Task DisposeAsync()
    {
        await _plain.DisposeAsync();
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task LoginPage_OverHttp11OnTheTlsListener_IsServedWithItsHeaders()
    {
        using var client = Client(HttpVersion.Version11);
        using var response = await client.GetAsync(_node.Address + "/login");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Contains("__fed_af", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(static c => c.StartsWith("__Host-fed-af=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Page_WithoutASession_RedirectsToTheLoginPage_AndTheStylesheetIsPublic()
    {
        using var client = Client(HttpVersion.Version20);
        using var page = await client.GetAsync(_node.Address + "/drill?period=2026-Q1");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Contains("/login?returnUrl=%2Fdrill", page.Headers.Location?.OriginalString, StringComparison.Ordinal);

        using var css = await client.GetAsync(_node.Address + "/static/site.css");
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Contains("@media print", await css.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginForm_PostedWithoutItsAntiforgeryToken_IsRefused()
    {
        using var client = Client(HttpVersion.Version20);
        using var response = await client.PostAsync(_node.Address + "/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = _node.Tokens.Reader }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(static c => c.StartsWith("__Host-fed-session", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task PlaintextListener_StaysHttp2OnlyForGrpc()
    {
        using var client = new HttpClient { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        try
        {
            // Kestrel answers an HTTP/1.x request on an HTTP/2-only endpoint with an error, or closes the connection.
            using var response = await client.GetAsync(_plain.Address + "/login");
            Assert.False(response.IsSuccessStatusCode, $"HTTP/1.1 got {response.StatusCode}");
            Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
        }
        catch (HttpRequestException)
        {
            // Closed: no page either.
        }

        var identity = await _plain.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline());
        Assert.Equal("370113002", identity.NodeId);
    }

    [Fact]
    public async Task SetPassword_TooShortOrTheAccountsName_IsRefusedAsWeak()
    {
        await Rpc.FailsAsync(
            async () => await _node.Access.SetPasswordAsync(new SetPasswordRequest { Account = "li.na", Role = Role.Reviewer, Scope = "370113001", Password = "short" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "WEAK_PASSWORD");
        await Rpc.FailsAsync(
            async () => await _node.Access.SetPasswordAsync(new SetPasswordRequest { Account = "li.na.2026", Role = Role.Reviewer, Scope = "370113001", Password = "LI.NA.2026" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "WEAK_PASSWORD");
    }

    [Fact]
    public async Task SetPassword_ForAnAccountOfAnotherRole_IsRefused_AndTheStoredPasswordIsNeverReturned()
    {
        await _node.IssueTokenAsync(Role.Reader, "370113001", account: "zhou.qing");
        await Rpc.FailsAsync(
            async () => await _node.Access.SetPasswordAsync(new SetPasswordRequest { Account = "zhou.qing", Role = Role.Reviewer, Scope = "370113001", Password = "long enough password" }, deadline: Rpc.Deadline()),
            StatusCode.AlreadyExists, "ID_IN_USE");

        var set = await _node.Access.SetPasswordAsync(
            new SetPasswordRequest { Account = "zhou.qing", Role = Role.Reader, Scope = "370113001", Password = "long enough password" }, deadline: Rpc.Deadline());
        Assert.Equal("zhou.qing", set.Account);
        Assert.DoesNotContain("long enough password", set.ToString(), StringComparison.Ordinal);
    }

    private static HttpClient Client(Version version)
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false };
        handler.SslOptions.RemoteCertificateValidationCallback = static (_, certificate, _, _) =>
            certificate is not null && Federation.Node.Security.Pki.ChainsTo(
                System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), TestPki.Authority, DateTimeOffset.UtcNow);
        return new HttpClient(handler) { DefaultRequestVersion = version, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    }
}
