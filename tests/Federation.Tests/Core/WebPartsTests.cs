using Federation.Node.Configuration;
using Federation.Node.Web;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Federation.Tests.Core;

/// <summary>The web page's pure parts: the login throttle, the chart, refusals as a person sees them, names.</summary>
public sealed class WebPartsTests
{
    [Fact]
    public void LoginThrottle_AfterTheAllowedFailures_RefusesUntilTheOldestLeavesTheWindow()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var throttle = new LoginThrottle(Options.Create(new WebOptions()), clock);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(TimeSpan.Zero, throttle.RetryAfter("li.na", "10.0.0.1"));
            throttle.Failed("li.na", "10.0.0.1");
            clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(TimeSpan.FromMinutes(10), throttle.RetryAfter("LI.NA", "10.0.0.2"));
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter("wang.fang", "10.0.0.2"));
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter("li.na", "10.0.0.1"));
    }

    [Fact]
    public void LoginThrottle_ManyAccountsFromOneAddress_RefusesTheAddress_AndASuccessDoesNotUnlockIt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var throttle = new LoginThrottle(Options.Create(new WebOptions()), clock);
        for (var i = 0; i < 20; i++)
        {
            throttle.Failed("guess" + i, "10.0.0.9");
        }

        throttle.Succeeded("guess0");
        Assert.True(throttle.RetryAfter("anyone", "10.0.0.9") > TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter("anyone", "10.0.0.8"));
    }

    [Fact]
    public void LoginThrottle_BadTokens_CountAgainstTheAddressOnly()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var throttle = new LoginThrottle(Options.Create(new WebOptions()), clock);
        for (var i = 0; i < 19; i++)
        {
            throttle.Failed(null, "10.0.0.7");
        }

        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter(null, "10.0.0.6"));
        Assert.Equal(TimeSpan.Zero, throttle.RetryAfter(null, "10.0.0.7"));
        throttle.Failed(null, "10.0.0.7");
        Assert.True(throttle.RetryAfter(null, "10.0.0.7") > TimeSpan.Zero);
    }

    [Fact]
    public void SvgChart_PeriodsWithoutFigures_BreakTheLineAndAreMarked()
    {
        var svg = SvgChart.Line(
            [new("2025-Q3", 0.5), new("2025-Q4", 0.6), new("2026-Q1", null), new("2026-Q2", 0.9), new("2026-Q3", 0.85)],
            0.8, percent: true, "满意度 <test>", "无数据", "≥ 80%");

        Assert.Equal(2, CountOf(svg, "<polyline"));
        Assert.Equal(4, CountOf(svg, "<circle"));
        Assert.Contains(">无数据<", svg, StringComparison.Ordinal);
        Assert.Contains("stroke-dasharray", svg, StringComparison.Ordinal);
        Assert.Contains("&lt;test&gt;", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("style=", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void SvgChart_Bars_DrawsOneBarPerSeriesAndCategory_WithWholeNumberGridlines()
    {
        var svg = SvgChart.Bars(["5★", "4★", "无星"], [new("township <a>", [0, 2, 1]), new("village", [1, 0, 0])], "星级 & 分布");

        Assert.Equal(6, CountOf(svg, "<rect class=\"bar\""));
        Assert.Contains("township &lt;a&gt;", svg, StringComparison.Ordinal);
        Assert.Contains("星级 &amp; 分布", svg, StringComparison.Ordinal);
        Assert.DoesNotContain(">0.5<", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("style=", svg, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.9, 0.2, 1.0)]
    [InlineData(191, 50, 200)]
    [InlineData(1, 0.2, 1)]
    public void SvgChart_Scale_TakesOneTwoOrFiveStepsUpToTheTop(double top, double step, double max)
    {
        Assert.Equal((step, max), SvgChart.Scale(top));
    }

    [Fact]
    public void ApiProblems_RefusalsOfTheApi_BecomeWhatAPersonShouldSee()
    {
        Assert.Equal(ProblemKind.Forbidden, ApiProblems.From(Refusal(StatusCode.PermissionDenied, "OUT_OF_SCOPE"), WebTexts.Zh).Kind);
        Assert.Equal(403, ApiProblems.From(Refusal(StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED"), WebTexts.Zh).StatusCode);
        Assert.Equal(ProblemKind.Login, ApiProblems.From(Refusal(StatusCode.Unauthenticated, "TOKEN_EXPIRED"), WebTexts.En).Kind);
        Assert.Equal(ProblemKind.NoFigures, ApiProblems.From(Refusal(StatusCode.NotFound, "NO_FIGURES"), WebTexts.Zh).Kind);
        Assert.Equal("请填写理由。", ApiProblems.From(Refusal(StatusCode.InvalidArgument, "REASON_REQUIRED"), WebTexts.Zh).Line);
        var unexpected = ApiProblems.From(new RpcException(new Grpc.Core.Status(StatusCode.Internal, "System.NullReferenceException at …")), WebTexts.En);
        Assert.Equal("Something went wrong; please try again.", unexpected.Line);
    }

    [Fact]
    public void ApiProblems_ForLedgerStep_ARoleNotAllowedIsALine_NotThe403Page()
    {
        var own = ApiProblems.ForLedgerStep(Refusal(StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED"), WebTexts.Zh);
        Assert.Equal((ProblemKind.Line, 403), (own.Kind, own.StatusCode));
        Assert.Contains("上一级", own.Line, StringComparison.Ordinal);
        Assert.Equal(ProblemKind.Forbidden, ApiProblems.ForLedgerStep(Refusal(StatusCode.PermissionDenied, "OUT_OF_SCOPE"), WebTexts.Zh).Kind);
        Assert.Equal("There is no such ledger item.", ApiProblems.ForLedgerStep(Refusal(StatusCode.NotFound, "UNKNOWN_ITEM"), WebTexts.En).Line);
        Assert.Equal("请填写理由。", ApiProblems.ForLedgerStep(Refusal(StatusCode.InvalidArgument, "REASON_REQUIRED"), WebTexts.Zh).Line);
        Assert.Equal("当前审核状态下不能这样操作。", ApiProblems.ForLedgerStep(Refusal(StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE"), WebTexts.Zh).Line);
    }

    [Fact]
    public void WebTexts_EveryEntry_HasChineseAndEnglish()
    {
        foreach (var key in WebTexts.Keys)
        {
            Assert.False(string.IsNullOrWhiteSpace(WebTexts.Zh[key]), key);
            Assert.False(string.IsNullOrWhiteSpace(WebTexts.En[key]), key);
        }

        foreach (var item in WebNav.Items)
        {
            Assert.Contains(item.TextKey, WebTexts.Keys);
        }
    }

    [Theory]
    [InlineData("https://0.0.0.0:5003", "https://127.0.0.1:5003")]
    [InlineData("https://[::]:5003", "https://[::1]:5003")]
    [InlineData("https://10.1.2.3:5003", "https://10.1.2.3:5003")]
    [InlineData("http://127.0.0.1:41234", "http://127.0.0.1:41234")]
    public void NodeApi_Loopback_TurnsAWildcardListenerIntoThisMachine(string listening, string called)
    {
        Assert.Equal(called, NodeApi.Loopback(listening));
    }

    [Theory]
    [InlineData("济南市 (3701) 2026-Q1: totals", "济南市 (3701) 2026-Q1  totals")]
    [InlineData("a/b\\c?d*e[f]g", "a b c d e f g")]
    [InlineData("", "Sheet1")]
    public void XlsxTable_SheetName_FollowsExcelsRules(string title, string name)
    {
        Assert.Equal(name, XlsxTable.SheetName(title));
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;

    private static RpcException Refusal(StatusCode code, string reason)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = "refused", Details = { Google.Protobuf.WellKnownTypes.Any.Pack(new ErrorInfo { Reason = reason, Domain = "federation.v1" }) } };
        var trailers = new Metadata { { "grpc-status-details-bin", status.ToByteArray() } };
        return new RpcException(new Grpc.Core.Status(code, "refused"), trailers);
    }
}
