using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Protos.V1;

namespace Federation.Tests.Core;

/// <summary>The reasons the node sends and the reasons the public contract lists are one list.</summary>
public sealed class ErrorContractTests
{
    [Fact]
    public void ErrorReason_InErrorsProto_EqualsRejectionReasonInUpperSnakeCase()
    {
        var published = ErrorsReflection.Descriptor.EnumTypes.Single(static e => e.Name == nameof(ErrorReason)).Values.Where(static v => v.Number != 0).Select(static v => (v.Name, v.Number)).ToList();
        var sent = Enum.GetValues<RejectionReason>().Where(static r => r != RejectionReason.None).Select(static r => (RpcErrors.ReasonText(r), (int)r)).ToList();

        // A new reason goes in both places: RejectionReason (aggregator) and ErrorReason (protos/federation/v1/errors.proto).
        Assert.Equal(sent, published);
        Assert.Equal("ERROR_REASON_UNSPECIFIED", ErrorsReflection.Descriptor.EnumTypes.Single(static e => e.Name == nameof(ErrorReason)).FindValueByNumber(0).Name);
    }

    [Fact]
    public void CodeOf_EveryReason_IsACanonicalStatusOtherThanOkUnknownOrInternal()
    {
        foreach (var reason in Enum.GetValues<RejectionReason>().Where(static r => r != RejectionReason.None))
        {
            Assert.DoesNotContain(RpcErrors.CodeOf(reason), new[] { Grpc.Core.StatusCode.OK, Grpc.Core.StatusCode.Unknown, Grpc.Core.StatusCode.Internal });
        }
    }
}
