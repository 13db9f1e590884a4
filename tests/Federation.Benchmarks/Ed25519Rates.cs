using System.Diagnostics;
using NSec.Cryptography;

namespace Federation.Benchmarks;

/// <summary>
/// The raw Ed25519 rates (NSec, RFC 8032) on this machine now: the bounds the summary work is judged
/// against. Keys are imported once, before timing; messages are random bytes of the size asked.
/// </summary>
internal static class Ed25519Rates
{
    private static readonly SignatureAlgorithm s_ed25519 = SignatureAlgorithm.Ed25519;

    /// <summary>Verifications per second on one thread, cycling through the given messages.</summary>
    public static double VerifyPerSecond(IReadOnlyList<(byte[] PublicKey, byte[] Message, byte[] Signature)> messages, TimeSpan duration)
    {
        var prepared = messages.Select(static m => (Key: PublicKey.Import(s_ed25519, m.PublicKey, KeyBlobFormat.RawPublicKey), m.Message, m.Signature)).ToArray();
        long count = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            foreach (var (key, message, signature) in prepared)
            {
                if (!s_ed25519.Verify(key, message, signature))
                {
                    throw new BenchmarkException("a baseline signature did not verify.");
                }
            }

            count += prepared.Length;
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Verifications per second of <paramref name="messageBytes"/>-byte messages on every core.</summary>
    public static double ParallelVerifyPerSecond(int messageBytes, TimeSpan duration) => Parallel(duration, messageBytes, static (key, publicKey, message, signature) =>
    {
        if (!s_ed25519.Verify(publicKey, message, signature))
        {
            throw new BenchmarkException("a baseline signature did not verify.");
        }
    });

    /// <summary>Signatures per second of <paramref name="messageBytes"/>-byte messages on every core.</summary>
    public static double ParallelSignPerSecond(int messageBytes, TimeSpan duration) =>
        Parallel(duration, messageBytes, static (key, _, message, signature) => s_ed25519.Sign(key, message, signature));

    private static double Parallel(TimeSpan duration, int messageBytes, Action<Key, PublicKey, byte[], byte[]> operation)
    {
        var workers = Environment.ProcessorCount;
        var counts = new long[workers];
        var watch = new Stopwatch();
        using var start = new Barrier(workers, _ => watch.Start());
        var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
        {
            using var key = Key.Create(s_ed25519);
            var message = new byte[messageBytes];
            Random.Shared.NextBytes(message);
            var signature = s_ed25519.Sign(key, message);
            start.SignalAndWait();
            long count = 0;
            while (watch.Elapsed < duration)
            {
                operation(key, key.PublicKey, message, signature);
                count++;
            }

            counts[w] = count;
        })).ToList();
        threads.ForEach(static t => t.Start());
        threads.ForEach(static t => t.Join());
        return counts.Sum() / watch.Elapsed.TotalSeconds;
    }
}
