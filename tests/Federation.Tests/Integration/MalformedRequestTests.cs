using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>Bytes that are not a protobuf message get InvalidArgument, not Unknown with an error log.</summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private const string Village = "370113001001";
    private static readonly Marshaller<byte[]> s_raw = Marshallers.Create(static b => b, static b => b);
    private readonly TempFolder _folder = new();
    private TestNode _node = null!;

    private readonly FakeChild _child = new("370113001001099", 31);

    public async Task InitializeAsync() =>
        _node = await TestNode.StartAsync(
            new NodeSpec(Village, "village") { HostedUnitIds = [Village], Children = [(_child.Id, _child.PublicKey)] }, _folder.Sub(Village));

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _child.Dispose();
        _folder.Dispose();
    }

    [Theory]
    [InlineData("federation.v1.ReportingService", "SubmitReport")]
    [InlineData("federation.v1.QueryService", "GetTotals")]
    [InlineData("federation.v1.FederationService", "PushSummary")]
    public async Task Call_GarbageBytes_IsInvalidArgumentAndLogsNoError(string service, string method)
    {
        // A field tag with wire type 7 does not exist: no protobuf parser accepts it.
        byte[] garbage = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x07, 0x01, 0x02];

        var status = await Rpc.FailsAsync(() => CallRawAsync(service, method, garbage), StatusCode.InvalidArgument, "MALFORMED_REQUEST");

        Assert.Contains("protobuf", status.Message, StringComparison.Ordinal);
        Assert.Empty(_node.Logs.Errors);
        Assert.Empty(_node.Logs.Warnings);
    }

    [Fact]
    public async Task Call_ValidBytesThroughTheSameRawPath_IsAnswered()
    {
        var request = new GetReportRequest { UnitId = Village, Period = "2026-Q1" }.ToByteArray();

        var ex = await Assert.ThrowsAsync<RpcException>(() => CallRawAsync("federation.v1.ReportingService", "GetReport", request));

        // Parsed and answered by the service: the unit has not reported yet.
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    private async Task CallRawAsync(string service, string method, byte[] body)
    {
        var raw = new Method<byte[], byte[]>(MethodType.Unary, service, method, s_raw, s_raw);
        // Each call as a caller its policy admits, so that the bytes reach the parser.
        var channel = method switch
        {
            "SubmitReport" => _node.ChannelWith(_node.Tokens.Clerk),
            "PushSummary" => TestPki.Channel(_node.Address, asNode: _child.Id),
            _ => _node.Channel,
        };
        await channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(deadline: Rpc.Deadline()), body);
    }
}
