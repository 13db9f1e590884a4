using System.Buffers;
using System.Buffers.Binary;
using Federation.Aggregator;
using Federation.Node.Application;
using Federation.Node.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Grpc;

/// <summary>
/// Lets only a few large request messages be read at once. The size is read from the gRPC frame header
/// before the message is, so a flood of big requests costs memory in proportion to the gate, not to the
/// flood. The others are refused at once rather than made to wait: a waiting stream's unread data holds
/// the connection's HTTP/2 flow-control window, and would starve the very requests being read.
/// </summary>
internal sealed class LargeRequestGate(RequestDelegate next, IOptions<LimitsOptions> options) : IDisposable
{
    private const int FrameHeaderBytes = 5;
    private readonly LimitsOptions _limits = options.Value;
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentLargeRequests, options.Value.MaxConcurrentLargeRequests);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!GrpcResponses.IsGrpc(context) || await MessageLengthAsync(context) < _limits.LargeRequestBytes)
        {
            await next(context);
            return;
        }

        if (!await _slots.WaitAsync(TimeSpan.Zero, context.RequestAborted))
        {
            await GrpcResponses.WriteStatusAsync(context, RejectionReason.RateLimited,
                "too many large requests are being read at once; retry later.");
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>The length the first gRPC frame declares, read without consuming it; 0 when the body ends first.</summary>
    private static async Task<long> MessageLengthAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            var buffer = result.Buffer;
            if (buffer.Length >= FrameHeaderBytes)
            {
                Span<byte> header = stackalloc byte[FrameHeaderBytes];
                buffer.Slice(0, FrameHeaderBytes).CopyTo(header);
                reader.AdvanceTo(buffer.Start);
                return BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                reader.AdvanceTo(buffer.Start);
                return 0;
            }

            // Not five bytes yet: look at everything, consume nothing, and wait for more.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
