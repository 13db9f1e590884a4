namespace Federation.Tests.Infrastructure;

/// <summary>
/// Runs a property over seeded random rounds, naming the failing seed so it can be replayed: set
/// FEDERATION_PROPERTY_SEED to it and the run starts there.
/// </summary>
internal static class PropertySeeds
{
    /// <summary>The first seed: FEDERATION_PROPERTY_SEED if set, else <paramref name="fallback"/>.</summary>
    public static int First(int fallback) =>
        Environment.GetEnvironmentVariable("FEDERATION_PROPERTY_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    public static void ForEach(int firstSeed, int rounds, Action<Random> property)
    {
        ArgumentNullException.ThrowIfNull(property);
        for (var round = 0; round < rounds; round++)
        {
            var seed = firstSeed + round;
            try
            {
                property(new Random(seed));
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException($"Property failed for seed {seed} (replay with FEDERATION_PROPERTY_SEED={seed}): {ex.Message}", ex);
            }
        }
    }
}
