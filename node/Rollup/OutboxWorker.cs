using Federation.Aggregator;
using Federation.Aggregator.Signing;
using Federation.Node.Application;
using Federation.Node.Configuration;
using Federation.Node.Hosting;
using Federation.Node.Operations;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Federation.Node.Rollup;

/// <summary>
/// Drains the persisted outbox to the parent. Polly wraps one delivery (timeout per attempt, quick
/// retries with exponential backoff and jitter, circuit breaker); longer waits are durable: the row
/// keeps its attempt count and next-attempt time, so a restart resumes where the node stopped.
/// Only the newest summary of a period travels.
/// </summary>
internal sealed class OutboxWorker(
    NodeStore store,
    StoreWriter writer,
    OutboxSignal signal,
    ParentChannel parent,
    NodeIdentity identity,
    HeldVersions heldVersions,
    IOptions<NodeOptions> nodeOptions,
    IOptions<OutboxOptions> outboxOptions,
    TimeProvider time,
    NodeMetrics metrics,
    ILogger<OutboxWorker> logger,
    IJitterSource? jitter = null) : BackgroundService
{
    private static readonly TimeSpan s_idleWait = TimeSpan.FromSeconds(30);
    private readonly OutboxOptions _options = outboxOptions.Value;
    private readonly IJitterSource _jitter = jitter ?? SharedRandomJitter.Instance;
    private readonly byte[]? _parentKey = Keys.TryParsePublicKey(nodeOptions.Value.Parent.PublicKey, out var key) ? key : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!nodeOptions.Value.Parent.IsConfigured)
        {
            return;
        }

        if (_parentKey is null)
        {
            RollupLog.ParentKeyNotPinned(logger);
        }

        var pipeline = BuildPipeline();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wait = await DeliverDueAsync(pipeline, stoppingToken);
                if (wait > TimeSpan.Zero)
                {
                    await signal.WaitAsync(wait, time, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; undelivered rows stay in the outbox.
        }
    }

    /// <summary>Delivers every due row; returns how long until the next one is due.</summary>
    private async Task<TimeSpan> DeliverDueAsync(ResiliencePipeline pipeline, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var wait = s_idleWait;
        foreach (var row in store.Read(static s => s.Outbox.Find(o => !o.Refused).OrderBy(static o => o.NextAttemptTicks).ToList()))
        {
            var dueIn = new DateTimeOffset(row.NextAttemptTicks, TimeSpan.Zero) - now;
            if (dueIn > TimeSpan.Zero)
            {
                wait = dueIn < wait ? dueIn : wait;
                continue;
            }

            await DeliverAsync(pipeline, row, cancellationToken);
            wait = TimeSpan.Zero;
        }

        return wait;
    }

    private async Task DeliverAsync(ResiliencePipeline pipeline, OutboxDocument row, CancellationToken cancellationToken)
    {
        var document = store.Read(s => s.Summaries.ById(row.Id));
        if (document is null)
        {
            await RemoveAsync(row.Id, row.Version, cancellationToken);
            return;
        }

        var request = new PushSummaryRequest { SignedSummary = document.ToSigned() };
        try
        {
            var response = await pipeline.ExecuteAsync(
                async token => await parent.Client.PushSummaryAsync(request, deadline: time.GetUtcNow().UtcDateTime + _options.AttemptTimeout, cancellationToken: token),
                cancellationToken);
            if (ReceiptProblem(response.Receipt, document, out var allowance) is { } problem)
            {
                metrics.PushReceiptRefused();
                await RefuseAsync(row.Id, document.Version, "receipt: " + problem, cancellationToken);
                return;
            }

            await RemoveAsync(row.Id, document.Version, cancellationToken);
            metrics.SummaryPushed(response.Outcome);
            RollupLog.Delivered(logger, row.Id, document.Version, response.Outcome);
            if (allowance > 0 && allowance != store.Read(LeafBudget.Capacity))
            {
                await LearnAllowanceAsync(row.Id, allowance, cancellationToken);
            }
        }
        catch (RpcException ex) when (IsPermanent(ex.StatusCode) && RpcErrors.ReasonOf(ex) != RejectionReason.UnknownSigner)
        {
            metrics.PushRefused(RpcErrors.ReasonOf(ex), ex.StatusCode);
            if (RpcErrors.ReasonOf(ex) is RejectionReason.StaleVersion or RejectionReason.Equivocation)
            {
                // The parent holds a version this node no longer has (it was restored from a backup): number the next one above it.
                RollupLog.DeliveryStale(logger, row.Id, document.Version);
                if (!await heldVersions.RaiseAboveParentAsync(row.Id, cancellationToken))
                {
                    await PostponeAsync(row, ex, cancellationToken);
                }

                return;
            }

            if (RpcErrors.ReasonOf(ex) == RejectionReason.LeafAllowanceExceeded &&
                uint.TryParse(RpcErrors.MetadataOf(ex, LeafBudget.MetadataKey), System.Globalization.CultureInfo.InvariantCulture, out var allowance) &&
                (await LearnAllowanceAsync(row.Id, allowance, cancellationToken) || store.Read(s => s.Dirty.ById(row.Id) is not null)))
            {
                // The rebuild the lesson set off (possibly while this version, built before it, travelled)
                // queues a version that fits; until then this one waits like any failure.
                await PostponeAsync(row, ex, cancellationToken);
                return;
            }

            await RefuseAsync(row.Id, document.Version, $"{ex.StatusCode}: {ex.Status.Detail}", cancellationToken);
        }
        catch (Exception ex) when (ex is RpcException or TimeoutRejectedException or BrokenCircuitException or HttpRequestException)
        {
            // Transient failures and an unknown signer (the parent has not enrolled this node yet) wait durably and try again.
            if (ex is RpcException { StatusCode: var code } refusal && IsPermanent(code))
            {
                metrics.PushRefused(RpcErrors.ReasonOf(refusal), code);
            }

            await PostponeAsync(row, ex, cancellationToken);
        }
    }

    /// <summary>
    /// Records the leaves the parent accepts from this node; children whose held summaries no longer fit
    /// their share are set aside (see <see cref="LeafBudget.Learn"/>). False when nothing changed.
    /// </summary>
    private async Task<bool> LearnAllowanceAsync(string period, uint allowance, CancellationToken cancellationToken)
    {
        var setAside = await writer.ExecuteAsync(context => LeafBudget.Learn(context, allowance), cancellationToken);
        if (setAside is null)
        {
            return false;
        }

        RollupLog.AllowanceLearned(logger, period, allowance, setAside.Count == 0 ? "none" : string.Join(", ", setAside));
        return true;
    }

    /// <summary>Checks the parent's receipt against its pinned key and the summary delivered; gives the leaf allowance it states.</summary>
    private string? ReceiptProblem(SignedReceipt? signed, SummaryDocument delivered, out uint leafAllowance)
    {
        leafAllowance = 0;
        if (_parentKey is null)
        {
            // An unverified receipt may not shrink what this node accepts from its children.
            return null;
        }

        if (signed is null)
        {
            return "missing";
        }

        var verification = SignedMessages.VerifyReceipt(signed, _parentKey);
        if (!verification.IsValid)
        {
            return verification.Message;
        }

        var receipt = verification.Value!;
        leafAllowance = receipt.LeafAllowance;
        var holdsThis = (long)receipt.Version > delivered.Version ||
            ((long)receipt.Version == delivered.Version && receipt.Digest.Span.SequenceEqual(delivered.Digest));
        return receipt.ChildId == identity.NodeId && receipt.Period == delivered.Id && holdsThis
            ? null
            : $"it acknowledges {receipt.ChildId} {receipt.Period} v{receipt.Version}, not what was sent";
    }

    private Task RemoveAsync(string period, long deliveredVersion, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(context =>
        {
            // A rebuild may have queued a newer version meanwhile; that one must still travel.
            if (context.Store.Outbox.ById(period) is { } current && current.Version <= deliveredVersion)
            {
                context.Store.Outbox.Delete(period);
            }

            return true;
        }, cancellationToken);

    /// <summary>
    /// Marks the row refused for good: it is not tried again until a rebuild queues a newer version, and
    /// it shows in the status as an alert. Logged at Error once per refused version, never per retry.
    /// </summary>
    private async Task RefuseAsync(string period, long version, string reason, CancellationToken cancellationToken)
    {
        var marked = await writer.ExecuteAsync(context =>
        {
            if (context.Store.Outbox.ById(period) is { } current && current.Version <= version && !current.Refused)
            {
                current.Refused = true;
                current.RefusedTicks = context.UtcNow().UtcTicks;
                current.LastError = reason;
                context.Store.Outbox.Update(current);
                return true;
            }

            return false;
        }, cancellationToken);
        if (marked)
        {
            RollupLog.DeliveryRefused(logger, period, version, reason);
        }
    }

    private Task PostponeAsync(OutboxDocument row, Exception exception, CancellationToken cancellationToken)
    {
        var attempts = row.AttemptCount + 1;
        var delay = new RedeliverySchedule(_options, _jitter).DelayAfter(attempts);
        RollupLog.DeliveryFailed(logger, row.Id, attempts, delay, exception);
        var next = time.GetUtcNow() + delay;
        return writer.ExecuteAsync(context =>
        {
            if (context.Store.Outbox.ById(row.Id) is { } current && current.Version == row.Version)
            {
                current.AttemptCount = attempts;
                current.NextAttemptTicks = next.UtcTicks;
                current.LastError = exception.Message;
                context.Store.Outbox.Update(current);
            }

            return true;
        }, cancellationToken);
    }

    private ResiliencePipeline BuildPipeline()
    {
        var transient = new PredicateBuilder()
            .Handle<RpcException>(static ex => !IsPermanent(ex.StatusCode))
            .Handle<TimeoutRejectedException>()
            .Handle<HttpRequestException>();
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (_options.MaxRetryAttempts > 0)
        {
            // Zero quick retries is allowed: then every failure waits for the durable redelivery.
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = _options.MaxRetryAttempts,
                Delay = _options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Randomizer = _jitter.NextUnit,
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = _options.BreakerFailureRatio,
                MinimumThroughput = Math.Max(2, _options.BreakerMinimumThroughput),
                SamplingDuration = _options.BreakerSamplingDuration,
                BreakDuration = _options.BreakDuration,
            })
            .AddTimeout(_options.AttemptTimeout)
            .Build();
    }

    /// <summary>The parent's verdict on these will not change by asking again.</summary>
    private static bool IsPermanent(StatusCode code) =>
        code is StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.FailedPrecondition;
}
