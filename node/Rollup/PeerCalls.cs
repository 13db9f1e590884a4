using Federation.Node.Configuration;
using Federation.Node.Storage;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Options;

namespace Federation.Node.Rollup;

/// <summary>
/// How long the work for one incoming call may take: the earlier of the caller's deadline and this
/// node's own budget (gRPC has no default deadline), with the caller's cancellation. Made once at the
/// endpoint and passed down; every call to a child derives its deadline from it.
/// </summary>
internal readonly record struct CallBudget(DateTimeOffset Deadline, CancellationToken CancellationToken);

/// <summary>A child's answer, or why there was none.</summary>
internal readonly record struct ChildAnswer<T>(T? Value, StatusCode Status, RpcException? Error)
    where T : class
{
    public bool Answered => Status == StatusCode.OK;
}

/// <summary>
/// Every call this node makes to a child: over the one channel factory (this node's certificate, the
/// child's expected identity), with a deadline that keeps a margin of the budget for this hop, and one
/// handling of a child that cannot answer: no address, no time left, a failed call or an unusable
/// address all become a <see cref="ChildAnswer{T}"/> without an answer, never an exception.
/// </summary>
internal sealed class PeerCalls(ChildChannels channels, IOptions<PullOptions> options, TimeProvider time)
{
    private readonly PullOptions _options = options.Value;

    /// <summary>The budget of an incoming call.</summary>
    public CallBudget For(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return For(context.Deadline, context.CancellationToken);
    }

    /// <summary>The budget for a call deadline (DateTime.MaxValue when the caller set none).</summary>
    public CallBudget For(DateTime callDeadline, CancellationToken cancellationToken)
    {
        var budget = time.GetUtcNow() + _options.DefaultBudget;
        if (callDeadline == DateTime.MaxValue)
        {
            return new(budget, cancellationToken);
        }

        var caller = new DateTimeOffset(DateTime.SpecifyKind(callDeadline, DateTimeKind.Utc));
        return new(caller < budget ? caller : budget, cancellationToken);
    }

    /// <summary>The budget of the next hop down: this one's, less this hop's margin.</summary>
    public CallBudget Down(CallBudget budget)
    {
        var remaining = budget.Deadline - time.GetUtcNow();
        var margin = remaining * _options.HopMarginFraction;
        return budget with { Deadline = budget.Deadline - (margin > _options.MinHopMargin ? margin : _options.MinHopMargin) };
    }

    /// <summary>Asks <paramref name="child"/> under <paramref name="hop"/> (a budget already brought <see cref="Down"/>).</summary>
    public async Task<ChildAnswer<T>> AskAsync<T>(
        ChildDocument child, CallBudget hop, Func<GrpcChannel, CallOptions, Task<T>> call, Metadata? headers = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(call);
        if (string.IsNullOrWhiteSpace(child.Address))
        {
            return new(null, StatusCode.Unavailable, null);
        }

        if (hop.Deadline <= time.GetUtcNow())
        {
            return new(null, StatusCode.DeadlineExceeded, null);
        }

        try
        {
            var value = await call(channels.For(child.Address, child.Id), new CallOptions(headers, hop.Deadline.UtcDateTime, hop.CancellationToken));
            return new(value, StatusCode.OK, null);
        }
        catch (RpcException ex)
        {
            return new(null, ex.StatusCode == StatusCode.OK ? StatusCode.Unknown : ex.StatusCode, ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or UriFormatException)
        {
            // An unusable address is a child that cannot answer, not a failure of this node's work.
            return new(null, StatusCode.Unavailable, null);
        }
    }
}
