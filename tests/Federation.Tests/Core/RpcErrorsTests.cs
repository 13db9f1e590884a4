using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Grpc;
using Google.Rpc;

namespace Federation.Tests.Core;

/// <summary>The final size guard: whatever a rejection holds, its status stays small.</summary>
public sealed class RpcErrorsTests
{
    [Fact]
    public void Build_HugeMessageAndLongViolations_FitsTheBoundAndCountsWhatItDrops()
    {
        var violations = Enumerable.Range(0, 20)
            .Select(static i => new FieldViolation(new string('f', 10_000) + i, RejectionReason.UnknownIndicator, new string('d', 10_000)))
            .ToList();
        var rejection = Rejection.Of(violations, omittedCount: 1000) with { Message = new string('m', 1 << 20) };

        var status = RpcErrors.Build(rejection);

        Assert.True(status.CalculateSize() <= RpcErrors.MaxStatusBytes, $"{status.CalculateSize()} bytes");
        Assert.Equal(RpcErrors.MaxMessageLength, status.Message.Length);
        var listed = status.Details.Single(static d => d.Is(BadRequest.Descriptor)).Unpack<BadRequest>().FieldViolations;
        Assert.Equal("VIOLATIONS_OMITTED", listed[^1].Reason);
        var dropped = int.Parse(listed[^1].Description.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(20 + 1000, listed.Count - 1 + dropped);
    }

    [Fact]
    public void Truncate_NeverSplitsASurrogatePair()
    {
        var text = new string('a', 8) + "𠀀𠀀𠀀";

        var cut = RpcErrors.Truncate(text, 10);

        Assert.Equal(new string('a', 8) + "…", cut);
    }
}
