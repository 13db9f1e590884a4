using Federation.Node.Grpc;

// The requests of every listing that pages: each has a page_size the interceptor checks. A test finds every
// generated request with a page_size field and fails when one is missing here.
#pragma warning disable IDE0130 // The generated messages' namespace.
namespace Federation.Protos.V1;
#pragma warning restore IDE0130

public sealed partial class GetSubtreeStatusRequest : IPagedRequest;

public sealed partial class GetDrillDownRequest : IPagedRequest;

public sealed partial class GetCompletenessRequest : IPagedRequest;

public sealed partial class GetTargetsRequest : IPagedRequest;

public sealed partial class GetHistoryRequest : IPagedRequest;

public sealed partial class ListFlagsRequest : IPagedRequest;

public sealed partial class ListChildrenRequest : IPagedRequest;

public sealed partial class ListTokensRequest : IPagedRequest;

public sealed partial class ListUnitsRequest : IPagedRequest;

public sealed partial class GetDecisionsRequest : IPagedRequest;

public sealed partial class ListRatingFlagsRequest : IPagedRequest;

public sealed partial class ListLedgerItemsRequest : IPagedRequest;
