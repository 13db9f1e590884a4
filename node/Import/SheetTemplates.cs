using System.Globalization;
using Federation.Aggregator;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Identifiers;
using Federation.Aggregator.Import;
using Federation.Aggregator.Periods;
using Federation.Aggregator.Units;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Federation.Node.Storage;
using Federation.Protos.V1;
using Google.Protobuf;

namespace Federation.Node.Import;

/// <summary>
/// The sheet a caller fills for a period: the active hosted units the caller's scope reaches (or the ones
/// named), the catalogue's entered indicators, as an .xlsx that imports back as it is.
/// </summary>
internal sealed class SheetTemplates(CatalogueIndex catalogue, NodeStore store, NodeIdentity identity)
{
    public Outcome<GetSheetTemplateResponse> Make(GetSheetTemplateRequest request, Period period, string callerScope)
    {
        var chinese = request.Language.Trim().ToLowerInvariant() switch
        {
            "" or "zh" or "zh-cn" => true,
            "en" => false,
            _ => (bool?)null,
        };
        if (chinese is null)
        {
            return Rejection.Of(RejectionReason.MalformedRequest, $"language '{Echo.Of(request.Language)}' must be zh or en.", "language");
        }

        if (request.UnitIds.Count > SheetTemplateLayout.MaxUnits)
        {
            return Rejection.Of(RejectionReason.ValueTooLarge, $"unit_ids holds {request.UnitIds.Count} ids; at most {SheetTemplateLayout.MaxUnits}.", "unit_ids");
        }

        foreach (var id in request.UnitIds)
        {
            if (NodeIds.Check(id, "unit_ids") is { } bad)
            {
                return Rejection.Of(bad);
            }
        }

        var self = identity.NodeId;
        var hosted = store.Read(s => s.Units.FindAll().ToDictionary(static u => u.Id, StringComparer.Ordinal));
        List<UnitDocument> units;
        if (request.UnitIds.Count > 0)
        {
            units = [];
            foreach (var id in request.UnitIds.Distinct(StringComparer.Ordinal))
            {
                if (!ScopeInterceptor.AdmitsUnit(callerScope, self, id))
                {
                    return Rejection.Of(RejectionReason.OutOfScope, $"unit '{id}' is outside your scope, {callerScope}.", "unit_ids");
                }

                if (!hosted.TryGetValue(id, out var unit))
                {
                    return Rejection.Of(RejectionReason.UnknownUnit, $"unit_ids '{id}' is not hosted by node {self}.", "unit_ids");
                }

                if (!UnitRules.IsExpected(unit.RetiredFromPeriod, period))
                {
                    return Rejection.Of(RejectionReason.UnknownUnit, $"unit '{id}' was retired from {unit.RetiredFromPeriod} and reports no more for {period}.", "unit_ids");
                }

                units.Add(unit);
            }
        }
        else
        {
            units = [.. hosted.Values
                .Where(u => ScopeInterceptor.AdmitsUnit(callerScope, self, u.Id) && UnitRules.IsExpected(u.RetiredFromPeriod, period))
                .OrderBy(static u => u.Id, StringComparer.Ordinal)];
            if (units.Count == 0)
            {
                return hosted.Count == 0
                    ? Rejection.Of(RejectionReason.UnknownUnit, $"node {self} hosts no units; a sheet lists the units a node hosts.", "unit_ids")
                    : Rejection.Of(RejectionReason.OutOfScope, $"none of the units node {self} hosts for {period} is inside your scope, {callerScope}.", "unit_ids");
            }

            if (units.Count > SheetTemplateLayout.MaxUnits)
            {
                return Rejection.Of(RejectionReason.ValueTooLarge,
                    string.Create(CultureInfo.InvariantCulture, $"node {self} hosts {units.Count} units; name at most {SheetTemplateLayout.MaxUnits} in unit_ids."), "unit_ids");
            }
        }

        var layout = SheetTemplateLayout.Create(catalogue, period, self, [.. units.Select(static u => new TemplateUnit(u.Id, u.DisplayName))], chinese.Value);
        return new GetSheetTemplateResponse
        {
            FileBytes = ByteString.CopyFrom(SheetTemplateWorkbook.Write(layout)),
            FileName = $"{self}-{period}.xlsx",
            UnitCount = (uint)layout.Units.Count,
            IndicatorCount = (uint)layout.Columns.Count,
        };
    }
}
