using Federation.Aggregator.Periods;

namespace Federation.Aggregator.Units;

/// <summary>What a hosted unit's housekeeping means for the figures: renames change nothing; retirement ends expectations.</summary>
public static class UnitRules
{
    /// <summary>
    /// Whether a unit is expected to report for <paramref name="period"/>: always, unless it was retired from a
    /// period that starts at or before the period's start. A retired unit stays in every earlier period, and a
    /// report it did send is still counted; it is only no longer listed as missing.
    /// </summary>
    /// <param name="retiredFromPeriod">The first period it is not expected for, canonical; empty when active.</param>
    public static bool IsExpected(string retiredFromPeriod, Period period) =>
        string.IsNullOrEmpty(retiredFromPeriod) || !Period.TryParse(retiredFromPeriod, out var retired) || period.StartDate < retired.StartDate;

    /// <summary>Whether adding a unit that exists under <paramref name="currentName"/> as <paramref name="requestedName"/> renames it.</summary>
    /// <returns>Null when nothing changes, true for a rename, false when the names differ and no rename was asked for.</returns>
    public static bool? IsRename(string currentName, string requestedName, bool rename)
    {
        ArgumentNullException.ThrowIfNull(currentName);
        if (string.IsNullOrWhiteSpace(requestedName) || string.Equals(currentName, requestedName.Trim(), StringComparison.Ordinal))
        {
            return null;
        }

        return rename;
    }
}
