using Federation.Node.Security;

// What each request acts on. Every request a person may send is listed here; the authorization
// matrix test checks that none is missing.
#pragma warning disable IDE0130 // The generated messages' namespace.
namespace Federation.Protos.V1;
#pragma warning restore IDE0130

public sealed partial class SubmitReportRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class GetReportRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class GetTotalsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class GetDrillDownRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class GetCompletenessRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class GetTargetsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class GetHistoryRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class GetAuditBundleRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class ListFlagsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Self;

    string IScopedRequest.Target => string.Empty;
}

public sealed partial class GetProofRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Self;

    string IScopedRequest.Target => string.Empty;
}

public sealed partial class ApproveReportRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class ReturnReportRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class ReopenReportRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class WithdrawReportRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class GetReviewStatusRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

// A unit's or a child's history: the scope must be this node, or the unit or child itself.
public sealed partial class GetDecisionsRequest : IScopedRequest, ISubjectRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => SubjectId;
}

public sealed partial class ApproveChildRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Child;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class ReopenChildRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Child;

    string IScopedRequest.Target => NodeId;
}

// The whole node's list: only a scope of this node reaches it.
public sealed partial class ListUnitsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Self;

    string IScopedRequest.Target => string.Empty;
}

public sealed partial class ImportSheetRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Units;

    string IScopedRequest.Target => string.Empty;
}

// The units a template lists are checked one by one against the caller's scope.
public sealed partial class GetSheetTemplateRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Units;

    string IScopedRequest.Target => string.Empty;
}

public sealed partial class GetPromotionRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

// Star rating: the units scored are checked one by one (a scope of this node, or of that very unit).
public sealed partial class SetScoresRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Units;

    string IScopedRequest.Target => string.Empty;
}

public sealed partial class GetRatingsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class ListRatingFlagsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId;
}

public sealed partial class AddLedgerItemRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class ReportLedgerFixRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class AcceptLedgerItemRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

public sealed partial class SendBackLedgerItemRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => ScopeTargetKind.Unit;

    string IScopedRequest.Target => UnitId;
}

// A node below (node_id) travels down the tree like a query; otherwise a unit named is checked as a unit, and no unit
// means every unit of the node, which only a scope of the node reaches.
public sealed partial class ListLedgerItemsRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => NodeId.Length == 0 && UnitId.Length > 0 ? ScopeTargetKind.Unit : ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId.Length == 0 && UnitId.Length > 0 ? UnitId : NodeId;
}

public sealed partial class GetLedgerHistoryRequest : IScopedRequest
{
    ScopeTargetKind IScopedRequest.TargetKind => NodeId.Length == 0 ? ScopeTargetKind.Unit : ScopeTargetKind.Node;

    string IScopedRequest.Target => NodeId.Length == 0 ? UnitId : NodeId;
}
