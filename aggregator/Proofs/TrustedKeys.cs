using Federation.Aggregator.Signing;

namespace Federation.Aggregator.Proofs;

/// <summary>
/// The public keys a verifier trusts, by node id. A node may have several: one that rotated its key
/// keeps the old ones trusted for what they signed before. A signature names its key by key id, which
/// selects the key; the node id it signs for must be one the key is trusted for.
/// </summary>
public sealed class TrustedKeys
{
    private readonly ILookup<string, (string NodeId, byte[] PublicKey)> _byKeyId;

    /// <param name="keys">Node id to every public key trusted for it (raw 32 bytes each).</param>
    public TrustedKeys(IEnumerable<KeyValuePair<string, IReadOnlyList<byte[]>>> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _byKeyId = keys
            .SelectMany(static node => node.Value.Select(key => (NodeId: node.Key, PublicKey: key)))
            .ToLookup(static k => KeyIds.FromPublicKey(k.PublicKey), StringComparer.Ordinal);
    }

    /// <summary>No key at all: every signature stays unchecked.</summary>
    public static TrustedKeys None { get; } = new([]);

    /// <summary>One key per node.</summary>
    public static TrustedKeys FromSingle(IReadOnlyDictionary<string, byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return new TrustedKeys(keys.Select(static k => KeyValuePair.Create(k.Key, (IReadOnlyList<byte[]>)[k.Value])));
    }

    /// <summary>Every (node, key) trusted under this key id; empty when none.</summary>
    public IReadOnlyList<(string NodeId, byte[] PublicKey)> ForKeyId(string keyId) => [.. _byKeyId[keyId]];
}
