using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Reports;
using Federation.Node.Application;
using Federation.Node.Storage;
using Federation.Protos.V1;

namespace Federation.Node.Reporting;

/// <summary>Gathers the hosted units' reports for a period and their history, and lets the core find the flags, one page at a time.</summary>
internal sealed class ReportFlagsQuery(CatalogueIndex catalogue, NodeStore store)
{
    /// <summary>Earlier periods of the same type a unit is compared with: a bounded window, so the work stays bounded too.</summary>
    public const int HistoryPeriodCount = 12;

    /// <summary>Flags in a page when the request names no size.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Most flags in one page.</summary>
    public const int MaxPageSize = 1000;

    public Outcome<ListFlagsResponse> List(Period period, int pageSize, string pageToken)
    {
        FlagPosition? after = null;
        if (pageToken.Length > 0)
        {
            if (FlagPageToken.Parse(pageToken) is not { } cursor)
            {
                return Rejection.Of(RejectionReason.MalformedRequest, $"page_token '{Echo.Of(pageToken)}' is not a token ListFlags issued.", "page_token");
            }

            after = cursor;
        }

        var earlier = new List<string>();
        var cursorPeriod = period;
        for (var i = 0; i < HistoryPeriodCount && cursorPeriod.Year > 1; i++)
        {
            cursorPeriod = cursorPeriod.Previous();
            earlier.Add(cursorPeriod.ToString());
        }

        var units = store.Read(s =>
        {
            var hosted = s.Units.FindAll().Select(static u => u.Id).ToHashSet(StringComparer.Ordinal);
            var current = s.Reports.Find(r => r.Period == period.ToString()).Where(r => hosted.Contains(r.UnitId)).ToList();
            var past = earlier
                .SelectMany(p => s.Reports.Find(r => r.Period == p))
                .Where(r => hosted.Contains(r.UnitId))
                .GroupBy(static r => r.UnitId, StringComparer.Ordinal)
                .ToDictionary(static g => g.Key, static g => g.ToList(), StringComparer.Ordinal);
            return current.Select(r => new UnitFigures(
                r.UnitId,
                ValuesOf(r),
                [.. past.GetValueOrDefault(r.UnitId, []).Select(ValuesOf)],
                [.. r.Warnings.Select(static w => w.ToProto())])).ToList();
        });
        var size = PageTokens.Size(pageSize, DefaultPageSize, MaxPageSize);
        var (flags, following) = ReviewFlags.Page(catalogue, units, after, size);
        return new ListFlagsResponse
        {
            Flags = { flags },
            OmittedCount = (uint)following,
            NextPageToken = following > 0 ? FlagPageToken.Of(FlagPosition.Of(flags[^1])) : string.Empty,
        };
    }

    private static IReadOnlyList<IndicatorValue> ValuesOf(ReportDocument document) => UnitReport.Parser.ParseFrom(document.Bytes).Values;
}

/// <summary>
/// The page token of ListFlags: the position of the last flag listed (unit, indicator, kind, rule), as base64url
/// of the four joined by line feeds. Opaque to clients; read back only when it has that shape.
/// </summary>
internal static class FlagPageToken
{
    /// <summary>Longest token read: four bounded ids and a number, encoded.</summary>
    private const int MaxLength = 512;

    public static string Of(FlagPosition position) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('\n',
            position.UnitId, position.IndicatorId, ((int)position.Kind).ToString(CultureInfo.InvariantCulture), position.RuleId)));

    public static FlagPosition? Parse(string token)
    {
        // IsValid first: decoding throws on characters outside the alphabet.
        if (token.Length > MaxLength || !Base64Url.IsValid(token))
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[MaxLength];
        if (!Base64Url.TryDecodeFromChars(token, bytes, out var written))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(bytes[..written]).Split('\n');
        return parts.Length == 4 && NodeIds.IsValid(parts[0]) &&
            int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var kind)
            ? new FlagPosition(parts[0], parts[1], (FlagKind)kind, parts[3])
            : null;
    }
}
