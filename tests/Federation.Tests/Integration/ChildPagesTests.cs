using Federation.Node.Application;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.DependencyInjection;

namespace Federation.Tests.Integration;

/// <summary>
/// A parent reads a child's subtree page after page, under the caller's deadline. A township whose answer is longer
/// than one page (its units' names pass the 1 MiB a page may hold) is listed whole at the county; when it gives its
/// first page but not the next in time, the county lists it stale with the counts it last received, and none of its
/// units: never a part of them. The county's web page reads every page of its own answer.
/// </summary>
public sealed class ChildPagesTests : IAsyncLifetime
{
    private const string County = "370113";
    private const string Township = "370113001";
    private const string Quarter = "2026-Q1";
    private const int UnitCount = 12;

    /// <summary>Names of 40,000 Chinese characters (120 KB in UTF-8): twelve units take about 1.4 MiB, more than one page.</summary>
    private static string NameOf(int i) => $"{i:D2}" + new string((char)('甲' + i), 40_000);

    private static string Unit(int i) => $"{Township}{i:D3}";

    private readonly TempFolder _folder = new();
    private readonly StallLaterPages _stall = new();
    private TestNode _county = null!;
    private TestNode _township = null!;

    public async Task InitializeAsync()
    {
        var countyKey = TestNode.CreateKey(_folder.Sub(County));
        var townshipKey = TestNode.CreateKey(_folder.Sub(Township));
        _county = await TestNode.StartAsync(new NodeSpec(County, "county") { Children = [(Township, townshipKey)] }, _folder.Sub(County));
        var names = new Dictionary<string, string?>();
        for (var i = 0; i < UnitCount; i++)
        {
            names[$"Node:HostedUnits:{i}:DisplayName"] = NameOf(i + 1);
        }

        var stall = _stall;
        _township = await TestNode.StartAsync(new NodeSpec(Township, "township")
        {
            ParentAddress = _county.Address,
            ParentId = County,
            ParentPublicKey = countyKey,
            HostedUnitIds = [.. Enumerable.Range(1, UnitCount).Select(Unit)],
            Settings = names,
            Customize = builder =>
            {
                builder.Services.AddSingleton(stall);
                builder.Services.Configure<GrpcServiceOptions>(static o => o.Interceptors.Add<StallingInterceptor>());
            },
        }, _folder.Sub(Township));
        await _township.Reporting.SubmitReportAsync(new SubmitReportRequest
        {
            UnitId = Unit(1), Period = Quarter, Values = { Reports.Count("party_members", 30) },
        }, deadline: Rpc.Deadline());
        await TestHierarchy.WaitForTotalsAsync(_county, Quarter, static t => t.Coverage.ReportedLeafCount == 1, "the county to hold the township's summary");
    }

    public async Task DisposeAsync()
    {
        await _township.DisposeAsync();
        await _county.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task GetCompleteness_ChildAnswerLongerThanAPage_EveryPageFollowedAndListedWhole()
    {
        var own = await AllPages.GetSubtreeStatusAsync(_township.FederationAs(County), new GetSubtreeStatusRequest { Period = Quarter, PageSize = 10_000 },
            static () => new CallOptions(deadline: Rpc.Deadline()));
        var first = await _township.FederationAs(County).GetSubtreeStatusAsync(new GetSubtreeStatusRequest { Period = Quarter, PageSize = 10_000 }, deadline: Rpc.Deadline());
        Assert.NotEqual(string.Empty, first.NextPageToken);
        Assert.True(first.Leaves.Count < UnitCount, "the township's answer takes more than one page");

        var whole = await AllPages.GetCompletenessAsync(_county.Query, new GetCompletenessRequest { Period = Quarter }, static () => new CallOptions(deadline: Rpc.Deadline()));

        Assert.Equal([County, Township], whole.Nodes.Select(static n => n.NodeId));
        Assert.DoesNotContain(whole.Nodes, static n => n.Stale);
        Assert.Equal(Enumerable.Range(2, UnitCount - 1).Select(Unit), whole.Missing.Select(static l => l.UnitId));
        Assert.Equal(Enumerable.Range(2, UnitCount - 1).Select(NameOf), whole.Missing.Select(static l => l.DisplayName));
        Assert.Equal(own.Leaves.Where(static l => !l.Reported), whole.Missing);
        Assert.Equal((12u, 1u), (whole.Nodes[0].ExpectedLeafCount, whole.Nodes[0].ReportedLeafCount));
    }

    [Fact]
    public async Task GetCompleteness_ChildGivesItsFirstPageButNotTheNext_ListedStaleWithNoneOfItsUnits()
    {
        _stall.Enabled = true;
        GetCompletenessResponse cut;
        try
        {
            cut = await AllPages.GetCompletenessAsync(_county.Query, new GetCompletenessRequest { Period = Quarter },
                static () => new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)));
        }
        finally
        {
            _stall.Enabled = false;
        }

        var stale = cut.Nodes.Single(static n => n.NodeId == Township);
        Assert.True(stale.Stale);
        Assert.NotNull(stale.AsOfTime);
        Assert.Equal((12u, 1u), (stale.ExpectedLeafCount, stale.ReportedLeafCount));
        Assert.Empty(cut.Missing);
        Assert.Empty(cut.Late);
        Assert.Equal((12u, 1u), (cut.Nodes[0].ExpectedLeafCount, cut.Nodes[0].ReportedLeafCount));
        Assert.True(_stall.Stalled > 0, "the township was asked for a later page and did not give it");
        Assert.Empty(_county.Logs.Errors);
        Assert.Empty(_township.Logs.Errors);
    }

    [Fact]
    public async Task CompletenessPage_ChildAnswerLongerThanAPage_ListsEveryMissingUnit()
    {
        var first = await _county.Query.GetCompletenessAsync(new GetCompletenessRequest { Period = Quarter }, deadline: Rpc.Deadline());
        Assert.NotEqual(string.Empty, first.NextPageToken);
        using var client = WebClient();
        using var login = await client.GetAsync(_county.Address + "/login");
        var form = System.Text.RegularExpressions.Regex.Match(await login.Content.ReadAsStringAsync(), "name=\"__fed_af\"[^>]*value=\"([^\"]+)\"");
        Assert.True(form.Success, "the login page carries its antiforgery token");
        using var session = await client.PostAsync(_county.Address + "/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__fed_af"] = System.Net.WebUtility.HtmlDecode(form.Groups[1].Value),
            ["token"] = _county.Tokens.Reader,
            ["returnUrl"] = "/completeness",
        }));
        Assert.Equal(System.Net.HttpStatusCode.Redirect, session.StatusCode);

        using var page = await client.GetAsync(_county.Address + $"/completeness?period={Quarter}&lang=en");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        Assert.All(Enumerable.Range(2, UnitCount - 1).Select(Unit), id => Assert.Contains($"data-key=\"{id}\"", html, StringComparison.Ordinal));
        Assert.Contains("Not reported: 11 listed", html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"more-", html, StringComparison.Ordinal);
    }

    private static HttpClient WebClient()
    {
        var handler = new SocketsHttpHandler { AllowAutoRedirect = false, CookieContainer = new System.Net.CookieContainer() };
        handler.SslOptions.RemoteCertificateValidationCallback = static (_, certificate, _, _) =>
            certificate is not null && Federation.Node.Security.Pki.ChainsTo(
                System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()), TestPki.Authority, DateTimeOffset.UtcNow);
        return new HttpClient(handler) { Timeout = Eventually.HangGuard };
    }

    /// <summary>Whether the township stalls every page of its subtree after the first.</summary>
    private sealed class StallLaterPages
    {
        private int _stalled;

        public volatile bool Enabled;

        public int Stalled => Volatile.Read(ref _stalled);

        public void Count() => Interlocked.Increment(ref _stalled);
    }

    /// <summary>Holds a GetSubtreeStatus call with a page token until the caller gives up, while stalling is on.</summary>
    private sealed class StallingInterceptor(StallLaterPages stall) : Interceptor
    {
        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
            TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            if (stall.Enabled && request is GetSubtreeStatusRequest { PageToken.Length: > 0 })
            {
                stall.Count();
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }

            return await continuation(request, context);
        }
    }
}
