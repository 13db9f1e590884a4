namespace Federation.Node.Configuration;

/// <summary>Who this node is and where it stands in the tree (configuration section "Node").</summary>
public sealed class NodeOptions
{
    public const string SectionName = "Node";

    /// <summary>The node id: a statistical division code by default (e.g. 370113), or any stable string.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>The tier label (village, township, county, city, ...). A label only: depth is not fixed.</summary>
    public string Tier { get; set; } = string.Empty;

    /// <summary>Display name, e.g. 长清区. Defaults to the id.</summary>
    public string DisplayName { get; set; } = string.Empty;

    /// <summary>
    /// Where Kestrel listens (HTTP/2): https:// with the certificate of section "Tls", or http:// on a
    /// loopback address when Tls:AllowPlaintext is set. Port 0 picks a free port. Default https://127.0.0.1:0.
    /// </summary>
    public string Listen { get; set; } = "https://127.0.0.1:0";

    /// <summary>The address this node gives its parent for pulls; empty means the address it listens on.</summary>
    public string AdvertisedAddress { get; set; } = string.Empty;

    /// <summary>The folder holding the LiteDB file, the signing key and the endpoint file. Required.</summary>
    public string DataPath { get; set; } = string.Empty;

    /// <summary>A catalogue in proto JSON; empty means the default catalogue that ships with the product.</summary>
    public string CataloguePath { get; set; } = string.Empty;

    /// <summary>The parent this node pushes to; none at the top of the tree.</summary>
    public ParentOptions Parent { get; set; } = new();

    /// <summary>Leaf units this node hosts (units with no server of their own), enrolled at start.</summary>
    public List<HostedUnitOptions> HostedUnits { get; set; } = [];

    /// <summary>Children enrolled at start, in addition to those enrolled with `federation enrol`.</summary>
    public List<ChildOptions> Children { get; set; } = [];

    /// <summary>Largest request accepted, in bytes; larger ones get ResourceExhausted. Default 4 MiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 4 * 1024 * 1024;

    public string EffectiveDisplayName => string.IsNullOrWhiteSpace(DisplayName) ? Id : DisplayName;
}

/// <summary>The parent a node pushes its summaries to.</summary>
public sealed class ParentOptions
{
    /// <summary>The parent's node id: its certificate must name it, and only it may pull from this node. Required with an address.</summary>
    public string Id { get; set; } = string.Empty;

    /// <summary>The parent's address, e.g. https://county.example:5001; empty at the top of the tree.</summary>
    public string Address { get; set; } = string.Empty;

    /// <summary>The parent's raw Ed25519 public key in base64, pinned: receipts must verify against it.</summary>
    public string PublicKey { get; set; } = string.Empty;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Address);
}

/// <summary>A unit the node hosts.</summary>
public sealed class HostedUnitOptions
{
    public string Id { get; set; } = string.Empty;

    public string DisplayName { get; set; } = string.Empty;
}

/// <summary>A child enrolled through configuration.</summary>
public sealed class ChildOptions
{
    public string Id { get; set; } = string.Empty;

    /// <summary>The child's raw Ed25519 public key in base64.</summary>
    public string PublicKey { get; set; } = string.Empty;

    public string DisplayName { get; set; } = string.Empty;

    /// <summary>
    /// Most leaves the child may claim (see README, "Leaf counts"); 0, the default, gives it an equal share
    /// of the node's capacity instead.
    /// </summary>
    public uint ExpectedLeafCount { get; set; }

    /// <summary>Where the child can be reached for pulls; learned from its pushes when empty.</summary>
    public string Address { get; set; } = string.Empty;
}

/// <summary>The upward push worker (configuration section "Outbox").</summary>
public sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    /// <summary>Deadline of one push attempt. Default 5 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Quick retries of one delivery inside the Polly pipeline. Default 3.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>First quick retry delay; doubles each time, with jitter. Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Failure ratio that opens the circuit breaker. Default 0.5.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>Attempts in the sampling window before the breaker may open. Default 4.</summary>
    public int BreakerMinimumThroughput { get; set; } = 4;

    /// <summary>Sampling window of the breaker. Default 30 s.</summary>
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the breaker stays open. Default 10 s.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Durable wait after a failed delivery; doubles per failure up to <see cref="RedeliveryMaxDelay"/>. Default 1 s.</summary>
    public TimeSpan RedeliveryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest durable wait between deliveries of one row. Default 60 s.</summary>
    public TimeSpan RedeliveryMaxDelay { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Pull on demand (configuration section "Pull").</summary>
public sealed class PullOptions
{
    public const string SectionName = "Pull";

    /// <summary>Deadline of a pull when the caller sets none. Default 10 s.</summary>
    public TimeSpan DefaultBudget { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Share of the remaining time each hop keeps for itself before asking its children. Default 0.2.</summary>
    public double HopMarginFraction { get; set; } = 0.2;

    /// <summary>Least time each hop keeps for itself. Default 100 ms.</summary>
    public TimeSpan MinHopMargin { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Summary rebuilding (configuration section "Summary").</summary>
public sealed class SummaryOptions
{
    public const string SectionName = "Summary";

    /// <summary>Quiet time after a change before the summary is rebuilt, so bursts coalesce. Default 50 ms.</summary>
    public TimeSpan CoalesceDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest a change may wait for a rebuild under a steady stream of writes. Default 1 s.</summary>
    public TimeSpan MaxCoalesceDelay { get; set; } = TimeSpan.FromSeconds(1);
}
