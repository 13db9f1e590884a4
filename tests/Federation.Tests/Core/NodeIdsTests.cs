using Federation.Aggregator;
using Federation.Aggregator.Identifiers;

namespace Federation.Tests.Core;

public sealed class NodeIdsTests
{
    [Theory]
    [InlineData("3701")]
    [InlineData("370113001001")]
    [InlineData("coop-07")]
    [InlineData("Co_op.7")]
    public void Check_IdFollowingTheRule_IsAccepted(string id)
    {
        Assert.True(NodeIds.IsValid(id));
        Assert.Null(NodeIds.Check(id, "unit_id"));
    }

    [Theory]
    [InlineData("a\v")]
    [InlineData("a b")]
    [InlineData("a|b")]
    [InlineData("a\tb")]
    [InlineData("村")]
    [InlineData("a/b")]
    public void Check_IdWithAForbiddenCharacter_IsMalformedIdNamingTheField(string id)
    {
        var violation = NodeIds.Check(id, "unit_id");

        Assert.False(NodeIds.IsValid(id));
        Assert.Equal(RejectionReason.MalformedId, violation?.Reason);
        Assert.Equal("unit_id", violation?.Field);
        Assert.DoesNotContain('\v', violation!.Value.Description);
    }

    [Fact]
    public void Check_IdOfMaxLength_IsAcceptedAndOneMoreIsNot()
    {
        Assert.Null(NodeIds.Check(new string('7', NodeIds.MaxLength), "node_id"));
        Assert.Equal(RejectionReason.MalformedId, NodeIds.Check(new string('7', NodeIds.MaxLength + 1), "node_id")?.Reason);
    }

    [Fact]
    public void Check_HugeId_EchoesOnlyABoundedPrefix()
    {
        var violation = NodeIds.Check(new string('x', 1 << 20), "unit_id");

        Assert.Equal(RejectionReason.MalformedId, violation?.Reason);
        Assert.True(violation!.Value.Description.Length < 200, violation.Value.Description);
        Assert.Contains("…", violation.Value.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_EmptyId_IsMissingWhenRequiredAndFineWhenOptional()
    {
        Assert.Equal(RejectionReason.MissingField, NodeIds.Check(string.Empty, "unit_id")?.Reason);
        Assert.Null(NodeIds.Check(string.Empty, "node_id", required: false));
    }

    [Theory]
    [InlineData("2026-Q9")]
    [InlineData("2026-Q1 ")]
    [InlineData("2026-Q1\u0000")]
    [InlineData("20260000000000000000001")]
    public void CheckPeriod_Malformed_IsMalformedPeriod(string period)
    {
        Assert.Equal(RejectionReason.MalformedPeriod, NodeIds.CheckPeriod(period, "period", out _)?.Reason);
    }

    [Fact]
    public void CheckPeriod_Valid_ParsesIt()
    {
        Assert.Null(NodeIds.CheckPeriod("2026-Q1", "period", out var period));
        Assert.Equal("2026-Q1", period.ToString());
    }

    [Fact]
    public void Echo_ControlCharactersAndLongValues_AreEscapedAndCut()
    {
        Assert.Equal("a\\u000B", Echo.Of("a\v"));
        Assert.Equal(new string('z', Echo.MaxEchoLength) + "…", Echo.Of(new string('z', 5000)));
    }
}
