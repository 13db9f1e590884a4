using Federation.Aggregator.Catalogues;

namespace Federation.Aggregator.Periods;

/// <summary>When reports for a period are due, and whether one arrived in time.</summary>
public static class Timeliness
{
    /// <summary>The end of the period plus the catalogue's allowance; null when the catalogue sets none.</summary>
    public static DateTimeOffset? DueInstant(CatalogueIndex catalogue, Period period)
    {
        ArgumentNullException.ThrowIfNull(catalogue);
        return catalogue.DueDaysAfterEnd(period.Type) is { } days ? period.EndInstant.AddDays(days) : null;
    }

    /// <summary>
    /// True when a report received at <paramref name="receiveTime"/> by its leaf's host is on time. The
    /// receipt at the leaf decides, never the time a summary reached a tier above.
    /// </summary>
    public static bool IsOnTime(CatalogueIndex catalogue, Period period, DateTimeOffset receiveTime) =>
        DueInstant(catalogue, period) is not { } due || receiveTime <= due;
}
