using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Node.Storage;

// LiteDB documents. Instants are UTC ticks; signed payloads are the received bytes, never re-encoded.
// Versions are stored as long because BSON has no unsigned 64-bit integer.

/// <summary>Copies of replaced versions, keyed by the lower-case hex SHA-256 of their bytes.</summary>
internal static class History
{
    public static T KeyedByDigest<T>(T copy, byte[] digest, Action<T, string> setId)
    {
        setId(copy, Convert.ToHexStringLower(digest));
        return copy;
    }
}

/// <summary>A unit this node hosts.</summary>
internal sealed class UnitDocument
{
    public string Id { get; set; } = string.Empty;

    public string DisplayName { get; set; } = string.Empty;

    public long AddedTicks { get; set; }

    /// <summary>The first period the unit is not expected to report for (canonical); empty while it is active.</summary>
    public string RetiredFromPeriod { get; set; } = string.Empty;

    /// <summary>When it was retired (UTC ticks); 0 while active.</summary>
    public long RetiredTicks { get; set; }

    /// <summary>The names it had before each rename, oldest first.</summary>
    public List<FormerNameDocument> FormerNames { get; set; } = [];
}

/// <summary>A name a unit had until it was renamed.</summary>
internal sealed class FormerNameDocument
{
    public string DisplayName { get; set; } = string.Empty;

    /// <summary>When the rename replaced it (UTC ticks).</summary>
    public long UntilTicks { get; set; }
}

/// <summary>An enrolled child and its public key.</summary>
internal sealed class ChildDocument
{
    public string Id { get; set; } = string.Empty;

    public byte[] PublicKey { get; set; } = [];

    public string KeyId { get; set; } = string.Empty;

    public string DisplayName { get; set; } = string.Empty;

    /// <summary>
    /// Leaves counted below the child for a period it has sent nothing for: the enrolled count, then the
    /// count of its newest accepted summary (which never exceeds its allowance).
    /// </summary>
    public int ExpectedLeafCount { get; set; } = 1;

    /// <summary>The leaf count the operator enrolled the child with; 0 when none was given (it then gets a share of the node's capacity).</summary>
    public int EnrolledLeafCount { get; set; }

    /// <summary>Summaries held for this child that were received at or before this instant may be replaced by any version (an operator's reset).</summary>
    public long ResetTicks { get; set; }

    /// <summary>Conflicting summaries beyond those kept with their evidence in the equivocation records.</summary>
    public long UnrecordedEquivocationCount { get; set; }

    /// <summary>Where the child answers pulls; from configuration, enrolment or its last push.</summary>
    public string Address { get; set; } = string.Empty;

    /// <summary>When the child last announced its address; older announcements are ignored.</summary>
    public long AddressTicks { get; set; }

    public long EnrolledTicks { get; set; }

    /// <summary>Keys the child signed with before it rotated; kept so that what they signed still verifies, trusted for nothing new.</summary>
    public List<RetiredKeyDocument> RetiredKeys { get; set; } = [];
}

/// <summary>A key a child no longer signs with.</summary>
internal sealed class RetiredKeyDocument
{
    public string KeyId { get; set; } = string.Empty;

    public byte[] PublicKey { get; set; } = [];

    public long RetiredTicks { get; set; }
}

/// <summary>
/// The newest version of this node's summary for a period that its parent holds (id = period), learned
/// from the parent. A node restored from a backup numbers its next summary above it, never reusing a version.
/// </summary>
internal sealed class VersionFloorDocument
{
    public string Id { get; set; } = string.Empty;

    public long Version { get; set; }
}

/// <summary>The current report of a hosted unit for a period (id "unit|period"), or in the history (id = digest hex).</summary>
internal sealed class ReportDocument
{
    public string Id { get; set; } = string.Empty;

    public string UnitId { get; set; } = string.Empty;

    public string Period { get; set; } = string.Empty;

    public long Version { get; set; }

    /// <summary>The serialized UnitReport, whose SHA-256 the summary cites.</summary>
    public byte[] Bytes { get; set; } = [];

    public byte[] Digest { get; set; } = [];

    public long ReceiveTicks { get; set; }

    /// <summary>The catalogue rules of severity WARNING the report broke when stored, kept for reviewers.</summary>
    public List<ReportWarningDocument> Warnings { get; set; } = [];

    public static string KeyOf(string unitId, string period) => unitId + "|" + period;

    /// <summary>The same document keyed by its digest, for the history.</summary>
    public ReportDocument ToHistory() => History.KeyedByDigest((ReportDocument)MemberwiseClone(), Digest, static (d, id) => d.Id = id);
}

/// <summary>A broken WARNING rule stored with a report; the text is kept as it was shown when stored.</summary>
internal sealed class ReportWarningDocument
{
    public string RuleId { get; set; } = string.Empty;

    public List<string> IndicatorIds { get; set; } = [];

    public string MessageZh { get; set; } = string.Empty;

    public string MessageEn { get; set; } = string.Empty;

    public static ReportWarningDocument From(Protos.V1.ReportWarning warning) => new()
    {
        RuleId = warning.RuleId,
        IndicatorIds = [.. warning.IndicatorIds],
        MessageZh = warning.MessageZh,
        MessageEn = warning.MessageEn,
    };

    public Protos.V1.ReportWarning ToProto() => new()
    {
        RuleId = RuleId,
        IndicatorIds = { IndicatorIds },
        MessageZh = MessageZh,
        MessageEn = MessageEn,
    };
}

/// <summary>The fields every stored signed summary has: the exact bytes received or signed, never re-encoded.</summary>
internal abstract class SignedSummaryDocument
{
    public string Id { get; set; } = string.Empty;

    public string Period { get; set; } = string.Empty;

    public long Version { get; set; }

    public byte[] SummaryBytes { get; set; } = [];

    public byte[] Signature { get; set; } = [];

    public string KeyId { get; set; } = string.Empty;

    public byte[] Digest { get; set; } = [];

    /// <summary>The wire form, from the stored bytes.</summary>
    public SignedSummary ToSigned() => new()
    {
        SummaryBytes = ByteString.CopyFrom(SummaryBytes),
        Signature = ByteString.CopyFrom(Signature),
        KeyId = KeyId,
    };
}

/// <summary>The current summary held for a child and period (id "child|period"), or in the history (id = digest hex).</summary>
internal sealed class ChildSummaryDocument : SignedSummaryDocument
{
    public string ChildId { get; set; } = string.Empty;

    public long ReceiveTicks { get; set; }

    public static string KeyOf(string childId, string period) => childId + "|" + period;

    /// <summary>The same document keyed by its digest, for the history.</summary>
    public ChildSummaryDocument ToHistory() => History.KeyedByDigest((ChildSummaryDocument)MemberwiseClone(), Digest, static (d, id) => d.Id = id);
}

/// <summary>This node's own current signed summary for a period (id = period), or in the history (id = digest hex).</summary>
internal sealed class SummaryDocument : SignedSummaryDocument
{
    public long BuildTicks { get; set; }

    /// <summary>The same document keyed by its digest, for the history.</summary>
    public SummaryDocument ToHistory() => History.KeyedByDigest((SummaryDocument)MemberwiseClone(), Digest, static (d, id) => d.Id = id);
}

/// <summary>A child that did not answer a pull for a period; cleared when its summary next arrives. Id "child|period".</summary>
internal sealed class StaleDocument
{
    public string Id { get; set; } = string.Empty;

    public string ChildId { get; set; } = string.Empty;

    public string Period { get; set; } = string.Empty;

    public long SinceTicks { get; set; }
}

/// <summary>A period whose newest summary the parent has not acknowledged; id = period.</summary>
internal sealed class OutboxDocument
{
    public string Id { get; set; } = string.Empty;

    /// <summary>The summary version to deliver; a rebuild raises it and resets the attempts.</summary>
    public long Version { get; set; }

    public int AttemptCount { get; set; }

    public long NextAttemptTicks { get; set; }

    /// <summary>
    /// When the period's figures were first queued and not delivered since (UTC ticks): a newer version
    /// keeps it, so the outbox's age says how long the parent has waited. 0 in rows older than the field.
    /// </summary>
    public long QueuedTicks { get; set; }

    public string LastError { get; set; } = string.Empty;

    /// <summary>Set when the parent refused the summary for good; the row waits for a newer version.</summary>
    public bool Refused { get; set; }

    /// <summary>When the parent refused it (UTC ticks); 0 unless <see cref="Refused"/>.</summary>
    public long RefusedTicks { get; set; }
}

/// <summary>A period whose summary must be rebuilt; written with the change that caused it.</summary>
internal sealed class DirtyDocument
{
    public string Id { get; set; } = string.Empty;

    public long MarkedTicks { get; set; }

    /// <summary>Counts the commits that marked the period since it was last rebuilt, so a rebuild can tell whether one came after its read.</summary>
    public long Sequence { get; set; }
}

/// <summary>A child that sent two different summaries under one version.</summary>
internal sealed class EquivocationDocument
{
    public long Id { get; set; }

    public string ChildId { get; set; } = string.Empty;

    public string Period { get; set; } = string.Empty;

    public long Version { get; set; }

    public byte[] HeldDigest { get; set; } = [];

    public byte[] OfferedSummaryBytes { get; set; } = [];

    public byte[] OfferedSignature { get; set; } = [];

    public long ReceiveTicks { get; set; }
}
