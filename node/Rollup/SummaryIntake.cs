using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Signing;
using Federation.Aggregator.Summaries;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Operations;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Node.Rollup;

/// <summary>What a parent did with a child's summary, and its signed receipt.</summary>
internal sealed record SummaryAcceptance(PushOutcome Outcome, SignedReceipt Receipt);

/// <summary>
/// Takes a child's signed summary: verify the bytes against the child's enrolled key, check the sender
/// is the child it claims to be, then apply the version rules (newer replaces; same version and digest
/// is idempotent; same version with another digest is recorded and refused; older is stale).
/// </summary>
internal sealed class SummaryIntake(
    CatalogueIndex catalogue, NodeStore store, StoreWriter writer, NodeIdentity identity, TimeProvider time, NodeMetrics metrics,
    ILogger<SummaryIntake> logger, ParsedSummaryCache parsed)
{
    /// <summary>Conflicting summaries kept with their evidence per child; later ones are only counted.</summary>
    public const int MaxEquivocationRecordsPerChild = 4;

    /// <param name="signed">The child's signed summary.</param>
    /// <param name="cancellationToken">Stops the wait, not a write already queued.</param>
    /// <param name="expectedChildId">For a pulled summary: the child that was asked.</param>
    /// <param name="expectedPeriod">For a pulled summary: the period that was asked for.</param>
    public async Task<Outcome<SummaryAcceptance>> AcceptAsync(
        SignedSummary? signed, CancellationToken cancellationToken, string? expectedChildId = null, string? expectedPeriod = null)
    {
        var outcome = await CheckAndStoreAsync(signed, expectedChildId, expectedPeriod, cancellationToken);
        var pulled = expectedPeriod is not null;
        if (outcome.Rejection is { } rejection)
        {
            metrics.SummaryRefused(pulled, rejection.Reason);
        }
        else
        {
            metrics.SummaryReceived(pulled, outcome.Value!.Outcome);
        }

        return outcome;
    }

    private async Task<Outcome<SummaryAcceptance>> CheckAndStoreAsync(
        SignedSummary? signed, string? expectedChildId, string? expectedPeriod, CancellationToken cancellationToken)
    {
        if (signed is null || signed.SummaryBytes.IsEmpty)
        {
            return Rejection.Of(RejectionReason.MissingField, "signed_summary is required.", "signed_summary");
        }

        var child = store.Read(s => s.Children.FindOne(c => c.KeyId == signed.KeyId));
        if (child is null)
        {
            return Rejection.Of(RejectionReason.UnknownSigner,
                $"signed_summary.key_id '{signed.KeyId}' is not the key of any child enrolled at node {identity.NodeId}.", "signed_summary.key_id");
        }

        var verification = SignedMessages.VerifySummary(signed, child.PublicKey);
        if (!verification.IsValid)
        {
            return Rejection.Of(verification.Reason, verification.Message, "signed_summary");
        }

        var summary = verification.Value!;
        if (summary.NodeId != child.Id)
        {
            RollupLog.SenderMismatch(logger, child.Id, summary.NodeId);
            return Rejection.Of(RejectionReason.SenderMismatch,
                $"summary.node_id '{summary.NodeId}' was signed with the key enrolled for child '{child.Id}'.", "summary.node_id");
        }

        if ((expectedChildId is not null && child.Id != expectedChildId) || (expectedPeriod is not null && summary.Period != expectedPeriod))
        {
            return Rejection.Of(RejectionReason.SenderMismatch,
                $"the answer is {child.Id}'s summary of {summary.Period}, not {expectedChildId}'s of {expectedPeriod}.", "summary");
        }

        if (SummaryChecks.Check(summary, catalogue, time.GetUtcNow()) is { } violation)
        {
            return Rejection.Of([violation]);
        }

        var digest = verification.Digest;
        var applied = await writer.ExecuteAsync<Outcome<Held>>(
            context => Apply(context, child.Id, summary, signed, digest), cancellationToken);

        if (applied.Value is { Outcome: PushOutcome.Stored })
        {
            // The next rebuild merges it as parsed here.
            parsed.Add(digest, summary);
        }

        // Signed off the writer: the receipt states what the commit kept.
        return applied.Rejection is { } refused
            ? refused
            : new SummaryAcceptance(applied.Value!.Outcome, Receipt(applied.Value.Summary, applied.Value.Allowance));
    }

    /// <summary>What a push left held for the child, and the child's leaf allowance, to be stated in the receipt.</summary>
    private sealed record Held(PushOutcome Outcome, ChildSummaryDocument Summary, uint Allowance);

    private Outcome<Held> Apply(Storage.WriteContext context, string childId, Summary summary, SignedSummary signed, byte[] digest)
    {
        // Every way out of here leaves the roster true to the transaction, so the next push of the batch may take it.
        var roster = ChildRoster.For(context, summary.Period);
        context.Keep(roster);
        var child = roster.Child(childId);
        if (child is null)
        {
            return Rejection.Of(RejectionReason.UnknownSigner, $"child '{childId}' is no longer enrolled at node {identity.NodeId}.", "signed_summary.key_id");
        }

        var key = ChildSummaryDocument.KeyOf(childId, summary.Period);
        var held = context.Store.ChildSummaries.ById(key);

        // After an operator's reset, what was held before it no longer bounds the child's versions.
        var binding = held is not null && held.ReceiveTicks > child.ResetTicks ? held : null;
        var version = (long)summary.Version;
        var allowance = roster.AllowanceOf(childId);
        switch (VersionRules.Decide((ulong?)binding?.Version, binding is null ? [] : binding.Digest, summary.Version, digest))
        {
            case VersionVerdict.AlreadyHeld:
                return new Held(PushOutcome.AlreadyHeld, binding!, allowance);
            case VersionVerdict.Equivocation:
                RecordEquivocation(context, child, summary, signed, binding!);
                return Rejection.Of(RejectionReason.Equivocation,
                    $"child '{childId}' already sent a different summary as version {version} of {summary.Period}; the conflict is recorded.", "summary.version");
            case VersionVerdict.Stale:
                return Rejection.Of(RejectionReason.StaleVersion,
                    $"summary version {version} of {summary.Period} is older than version {binding!.Version} held for child '{childId}'.", "summary.version");
        }

        if (LeafCountProblem(roster, child, allowance, summary) is { } tooMany)
        {
            return tooMany;
        }

        var document = new ChildSummaryDocument
        {
            Id = key,
            ChildId = childId,
            Period = summary.Period,
            Version = version,
            SummaryBytes = signed.SummaryBytes.ToByteArray(),
            Signature = signed.Signature.ToByteArray(),
            KeyId = signed.KeyId,
            Digest = digest,
            ReceiveTicks = context.UtcNow().UtcTicks,
        };
        if (held is not null)
        {
            context.Store.ChildSummaryHistory.Upsert(held.ToHistory());
        }

        context.Store.ChildSummaries.Upsert(document);
        roster.Hold(childId, summary.Coverage.ExpectedLeafCount);
        ClearStale(context, childId, summary.Period);
        if (child.ExpectedLeafCount != (int)summary.Coverage.ExpectedLeafCount)
        {
            // Stands in for periods the child has not reported yet; bounded, because the summary fit the child's allowance.
            child.ExpectedLeafCount = (int)summary.Coverage.ExpectedLeafCount;
            context.Store.Children.Update(child);
        }

        context.MarkDirty(summary.Period);
        return new Held(PushOutcome.Stored, document, allowance);
    }

    /// <summary>
    /// A child may claim no more leaves than its allowance (see <see cref="LeafAllowance"/>), and the
    /// period's total with this summary must stay within what the grandparent accepts. Together they
    /// keep this node's own summary in bounds whatever a child claims.
    /// </summary>
    private static Rejection? LeafCountProblem(ChildRoster roster, ChildDocument child, uint allowance, Summary summary)
    {
        const string field = "summary.coverage.expected_leaf_count";
        var claimed = summary.Coverage.ExpectedLeafCount;
        if (claimed > allowance)
        {
            return TooMany($"{field} is {claimed}; child '{child.Id}' may claim at most {allowance} leaves " +
                (child.EnrolledLeafCount > 0 ? "(its enrolled count)." : "(its share of this node's capacity; enrol it with a count to change that)."),
                allowance);
        }

        // The allowances add up to the capacity unless enrolments changed since other children's summaries were accepted.
        var total = roster.TotalWith(child.Id, claimed);
        var capacity = roster.Capacity;
        return total > capacity
            ? TooMany($"{field} is {claimed}; with the other children's figures for {summary.Period} this node would cover {total} leaves, more than {capacity}.",
                (uint)Math.Max(0, capacity - (total - claimed)))
            : null;

        static Rejection TooMany(string message, uint room) =>
            Rejection.Of(RejectionReason.LeafAllowanceExceeded, message, field) with
            {
                // Lets an honest child set aside what its own children over-claimed, and push again.
                Metadata = new Dictionary<string, string> { [LeafBudget.MetadataKey] = room.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
    }

    /// <summary>
    /// Keeps the first few conflicts of a child with their evidence and only counts the rest, so that a
    /// child sending conflicting summaries without end cannot fill the parent's disk.
    /// </summary>
    private void RecordEquivocation(Storage.WriteContext context, ChildDocument child, Summary summary, SignedSummary signed, ChildSummaryDocument held)
    {
        var offered = signed.SummaryBytes.ToByteArray();
        var version = (long)summary.Version;
        var records = context.Store.Equivocations.Find(e => e.ChildId == child.Id).ToList();
        if (records.Any(e => e.Period == summary.Period && e.Version == version && e.OfferedSummaryBytes.AsSpan().SequenceEqual(offered)))
        {
            return;
        }

        if (records.Count < MaxEquivocationRecordsPerChild)
        {
            context.Store.Equivocations.Insert(new EquivocationDocument
            {
                ChildId = child.Id,
                Period = summary.Period,
                Version = version,
                HeldDigest = held.Digest,
                OfferedSummaryBytes = offered,
                OfferedSignature = signed.Signature.ToByteArray(),
                ReceiveTicks = context.UtcNow().UtcTicks,
            });
        }
        else
        {
            child.UnrecordedEquivocationCount++;
            context.Store.Children.Update(child);
        }

        // Logged for the kept records and then at every power of two, so the log stays as bounded as the records.
        var count = records.Count + 1 + child.UnrecordedEquivocationCount;
        if (records.Count < MaxEquivocationRecordsPerChild || long.IsPow2(count))
        {
            RollupLog.Equivocation(logger, child.Id, summary.Period, version, count);
        }
    }

    /// <summary>
    /// The child's figures for this period are fresh again. Only a newer summary or a pull the child
    /// itself answered clears the mark; a replayed old summary never does.
    /// </summary>
    public static void ClearStale(Storage.WriteContext context, string childId, string period)
    {
        if (context.Store.Stale.Delete(ChildSummaryDocument.KeyOf(childId, period)))
        {
            context.MarkDirty(period);
        }
    }

    /// <summary>Records where a child answers pulls, from its signed announcement.</summary>
    /// <param name="expectedChildId">The node the caller's certificate names: a child only ever speaks as itself.</param>
    public async Task<Outcome<string>> AnnounceAsync(SignedAnnouncement? signed, CancellationToken cancellationToken, string? expectedChildId = null)
    {
        var child = signed is null ? null : store.Read(s => s.Children.FindOne(c => c.KeyId == signed.KeyId));
        if (child is not null && expectedChildId is not null && child.Id != expectedChildId)
        {
            return Rejection.Of(RejectionReason.SenderMismatch, $"node {expectedChildId} sent an announcement signed with the key of '{child.Id}'.", "announcement.key_id");
        }

        if (child is null)
        {
            return Rejection.Of(RejectionReason.UnknownSigner, $"announcement.key_id is not the key of any child enrolled at node {identity.NodeId}.", "announcement.key_id");
        }

        var verification = SignedMessages.VerifyAnnouncement(signed!, child.PublicKey);
        if (!verification.IsValid)
        {
            return Rejection.Of(verification.Reason, verification.Message, "announcement");
        }

        var announcement = verification.Value!;
        if (announcement.NodeId != child.Id)
        {
            return Rejection.Of(RejectionReason.SenderMismatch, $"announcement.node_id '{announcement.NodeId}' was signed with the key enrolled for '{child.Id}'.", "announcement.node_id");
        }

        if (!Configuration.Keys.IsPeerAddress(announcement.Address))
        {
            return Rejection.Of(RejectionReason.MalformedAddress, $"announcement.address '{announcement.Address}' is not an https:// address (http:// only to a loopback address).", "announcement.address");
        }

        if (announcement.AnnounceTime is { } announced && VersionRules.IsBeyondClock(announced.ToDateTimeOffset(), time.GetUtcNow()))
        {
            // Otherwise an announcement dated far ahead would make every later, honest one look older.
            return Rejection.Of(RejectionReason.FutureVersion,
                $"announcement.announce_time {announced} is beyond this node's clock (+{VersionRules.AllowedClockSkew.TotalMinutes:0} min skew).", "announcement.announce_time");
        }

        var ticks = announcement.AnnounceTime?.ToDateTimeOffset().UtcTicks ?? 0;
        return await writer.ExecuteAsync<Outcome<string>>(context =>
        {
            // An older announcement (a replay) never overrides a newer one.
            if (context.Store.Children.ById(child.Id) is { } current && ticks > current.AddressTicks)
            {
                current.Address = announcement.Address;
                current.AddressTicks = ticks;
                context.Store.Children.Update(current);
            }

            return announcement.Address;
        }, cancellationToken);
    }

    private SignedReceipt Receipt(ChildSummaryDocument held, uint leafAllowance) => SignedMessages.SignReceipt(new Receipt
    {
        LeafAllowance = leafAllowance,
        ParentId = identity.NodeId,
        ChildId = held.ChildId,
        Period = held.Period,
        Version = (ulong)held.Version,
        Digest = ByteString.CopyFrom(held.Digest),
        ReceiveTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(held.ReceiveTicks, TimeSpan.Zero)),
    }, identity.Key);
}

/// <summary>Source-generated log messages of the rollup.</summary>
internal static partial class RollupLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Child {ChildId} equivocated: two summaries as version {Version} of {Period} ({Count} conflicts from this child so far)")]
    public static partial void Equivocation(ILogger logger, string childId, string period, long version, long count);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Child {ChildId} pushed a summary in the name of {ClaimedId}")]
    public static partial void SenderMismatch(ILogger logger, string childId, string claimedId);

    // Debug: one per push; federation.summaries.pushed counts them.
    [LoggerMessage(EventId = 210, Level = LogLevel.Debug, Message = "Parent acknowledged version {Version} of {Period} ({Outcome})")]
    public static partial void Delivered(ILogger logger, string period, long version, PushOutcome outcome);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "Delivery of {Period} failed (attempt {AttemptCount}); next try in {Delay}")]
    public static partial void DeliveryFailed(ILogger logger, string period, int attemptCount, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 212, Level = LogLevel.Error, Message = "Alert: the parent refused version {Version} of {Period} for good: {Reason}")]
    public static partial void DeliveryRefused(ILogger logger, string period, long version, string reason);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning, Message = "The parent holds a newer or different summary of {Period} than version {Version}; asking which, to number the next above it")]
    public static partial void DeliveryStale(ILogger logger, string period, long version);

    [LoggerMessage(EventId = 214, Level = LogLevel.Warning, Message = "No parent key is pinned (Node:Parent:PublicKey); receipts are not verified")]
    public static partial void ParentKeyNotPinned(ILogger logger);

    [LoggerMessage(EventId = 215, Level = LogLevel.Warning, Message = "The parent accepts at most {Allowance} leaves from this node (learned delivering {Period}); children whose summaries no longer fit their share were set aside: {ChildIds}")]
    public static partial void AllowanceLearned(ILogger logger, string period, uint allowance, string childIds);
}
