using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Federation.Tests.Security;

/// <summary>
/// Every RPC of every service, called by every kind of caller (each role with a broad and a narrow
/// scope, the parent's, a child's and a stranger's certificate, no credential, a garbage, an expired and
/// a revoked token), with a request inside and one outside the narrow scopes. Each answer must be what
/// the README's matrix says; a call that should be refused and succeeds is counted and fails the test.
/// </summary>
public sealed class AuthorizationMatrixTests : IAsyncLifetime
{
    private const string Township = "370113001";
    private const string Parent = "370113";
    private const string UnitOne = "370113001001";
    private const string UnitTwo = "370113001002";
    private const string Village = "370113001003";
    private const string Stranger = "370113009";
    private const string Quarter = "2026-Q1";

    private static readonly HashSet<string> s_authReasons =
        ["MISSING_CREDENTIALS", "INVALID_TOKEN", "TOKEN_EXPIRED", "TOKEN_REVOKED", "ROLE_NOT_ALLOWED", "OUT_OF_SCOPE", "NOT_ENROLLED"];

    private static readonly ServiceDescriptor[] s_services =
    [
        ReportingService.Descriptor, FederationService.Descriptor, QueryService.Descriptor, AdminService.Descriptor, AccessService.Descriptor,
        ReviewService.Descriptor, ImportService.Descriptor, RatingService.Descriptor, LedgerService.Descriptor,
    ];

    private readonly TempFolder _folder = new();
    private TestNode _village = null!;
    private TestNode _node = null!;

    /// <summary>Who may call each RPC, as the README's matrix states it.</summary>
    private static readonly Dictionary<string, Who> s_allowed = new(StringComparer.Ordinal)
    {
        ["ReportingService.SubmitReport"] = Who.Clerk,
        ["ReportingService.GetReport"] = Who.Clerk | Who.Reviewer | Who.Reader,
        ["ImportService.ImportSheet"] = Who.Clerk,
        ["ImportService.GetSheetTemplate"] = Who.Clerk | Who.Reviewer,
        ["FederationService.PushSummary"] = Who.Child,
        ["FederationService.Announce"] = Who.Child,
        ["FederationService.RotateKey"] = Who.Child,
        ["FederationService.PullSummary"] = Who.Parent,
        ["FederationService.GetSubtreeStatus"] = Who.Parent,
        ["FederationService.GetProofChain"] = Who.Parent,
        ["FederationService.GetCatalogue"] = Who.Anyone,
        ["FederationService.GetIdentity"] = Who.Anyone,
        ["QueryService.GetTotals"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetDrillDown"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetCompleteness"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetTargets"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetHistory"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetPromotion"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetProof"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["ReportingService.ListFlags"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["QueryService.GetAuditBundle"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["AdminService.EnrolChild"] = Who.Admin,
        ["AdminService.ListChildren"] = Who.Admin,
        ["AdminService.AddHostedUnit"] = Who.Admin,
        ["AdminService.GetStatus"] = Who.Admin,
        ["AdminService.ResetChild"] = Who.Admin,
        ["AccessService.IssueToken"] = Who.Admin,
        ["AccessService.ListTokens"] = Who.Admin,
        ["AccessService.RevokeToken"] = Who.Admin,
        ["AccessService.WhoAmI"] = Who.Anyone,
        ["AccessService.SetPassword"] = Who.Admin,
        ["ReviewService.ApproveReport"] = Who.Reviewer,
        ["ReviewService.ReturnReport"] = Who.Reviewer,
        ["ReviewService.ReopenReport"] = Who.Reviewer,
        ["ReviewService.WithdrawReport"] = Who.Clerk | Who.Reviewer,
        ["ReviewService.GetReviewStatus"] = Who.Clerk | Who.Reviewer | Who.Reader,
        ["ReviewService.GetDecisions"] = Who.Clerk | Who.Reviewer | Who.Reader,
        ["ReviewService.ApproveChild"] = Who.Reviewer,
        ["ReviewService.ReopenChild"] = Who.Reviewer,
        ["ReviewService.ApplyParentDecision"] = Who.Parent,
        ["ReviewService.ListUnits"] = Who.Admin | Who.Reviewer | Who.Reader,
        ["AdminService.RetireHostedUnit"] = Who.Admin,
        ["RatingService.SetScores"] = Who.Reviewer,
        ["RatingService.GetRatings"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["RatingService.ListRatingFlags"] = Who.Reviewer | Who.Reader | Who.Parent,
        ["RatingService.GetRatingScheme"] = Who.Anyone,
        ["LedgerService.AddLedgerItem"] = Who.Clerk | Who.Reviewer,
        ["LedgerService.ReportLedgerFix"] = Who.Clerk,
        ["LedgerService.AcceptLedgerItem"] = Who.Reviewer,
        ["LedgerService.SendBackLedgerItem"] = Who.Reviewer,
        ["LedgerService.ListLedgerItems"] = Who.Clerk | Who.Reviewer | Who.Reader | Who.Parent,
        ["LedgerService.GetLedgerHistory"] = Who.Clerk | Who.Reviewer | Who.Reader | Who.Parent,
        ["LedgerService.ApplyParentLedgerStep"] = Who.Parent,
    };

    [Flags]
    private enum Who
    {
        None = 0,
        Clerk = 1,
        Reviewer = 2,
        Reader = 4,
        Admin = 8,
        Child = 16,
        Parent = 32,
        Anyone = Clerk | Reviewer | Reader | Admin | Child | Parent,
    }

    /// <summary>What a request acts on, for scopes: nothing, a hosted unit, a node below, or the node itself.</summary>
    private enum Target
    {
        None,
        Unit,
        Node,
        Self,
    }

    /// <summary>A caller: what it is, what its scope is narrowed to (None: the whole node), and how it authenticates.</summary>
    private sealed record CallerCase(string Name, Who Is, Target Narrow, bool Authenticated, Func<GrpcChannel> Open);

    public async Task InitializeAsync()
    {
        var villageKey = TestNode.CreateKey(_folder.Sub(Village));
        _node = await TestNode.StartAsync(
            new NodeSpec(Township, "township")
            {
                // The parent is named (its certificate is trusted for pulls) but not running: pushes wait in the outbox.
                ParentId = Parent,
                ParentAddress = "https://127.0.0.1:1",
                HostedUnitIds = [UnitOne, UnitTwo],
                Children = [(Village, villageKey)],
            },
            _folder.Sub(Township));
        _village = await TestNode.StartAsync(
            new NodeSpec(Village, "village") { ParentId = Township, ParentAddress = _node.Address, HostedUnitIds = [Village] }, _folder.Sub(Village));
        await _node.Admin.EnrolChildAsync(
            new EnrolChildRequest { ChildId = Village, PublicKey = ByteString.CopyFrom(villageKey), Address = _village.Address }, deadline: Rpc.Deadline());
        await _node.Reporting.SubmitReportAsync(
            new SubmitReportRequest { UnitId = UnitOne, Period = Quarter, Values = { Reports.Count("party_members", 5) } }, deadline: Rpc.Deadline());
    }

    public async Task DisposeAsync()
    {
        await _village.DisposeAsync();
        await _node.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task EveryRpc_EveryCaller_InAndOutOfScope_AnswersAsTheMatrixSays()
    {
        var callers = await CallersAsync();
        var methods = s_services.SelectMany(static s => s.Methods).ToList();
        // Every service the node's protos declare is in the matrix, so a new service cannot go untested.
        var declared = typeof(ReportingService).Assembly.GetTypes()
            .Where(static t => t.Namespace == "Federation.Protos.V1" && t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(static t => (FileDescriptor)t.GetProperty("Descriptor")!.GetValue(null)!)
            .SelectMany(static f => f.Services)
            .Select(static d => d.FullName)
            .Order(StringComparer.Ordinal);
        Assert.Equal(declared, s_services.Select(static d => d.FullName).Order(StringComparer.Ordinal));
        var unlisted = methods.Select(static m => $"{m.Service.Name}.{m.Name}").Where(static n => !s_allowed.ContainsKey(n)).ToList();
        Assert.True(unlisted.Count == 0, $"RPCs missing from the matrix: {string.Join(", ", unlisted)}");

        var mismatches = new List<string>();
        var unauthorisedSuccesses = 0;
        var calls = 0;
        foreach (var method in methods)
        {
            var name = $"{method.Service.Name}.{method.Name}";
            foreach (var caller in callers)
            {
                foreach (var inside in new[] { true, false })
                {
                    var expected = Expect(s_allowed[name], caller, inside, TargetOf(method.Name));
                    var (code, reason) = await CallAsync(caller.Open(), method, Sample(method, inside));
                    calls++;
                    var actual = code switch
                    {
                        _ when reason is not null && s_authReasons.Contains(reason) => code,
                        StatusCode.Unauthenticated or StatusCode.PermissionDenied when reason is null => code,
                        _ => StatusCode.OK,
                    };
                    if (actual == StatusCode.OK && expected != StatusCode.OK && code == StatusCode.OK)
                    {
                        unauthorisedSuccesses++;
                    }

                    if (actual != expected)
                    {
                        mismatches.Add($"{name} as {caller.Name} ({(inside ? "inside" : "outside")} scope): expected {expected}, got {code} {reason}");
                    }
                }
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {calls} calls answered otherwise:\n{string.Join('\n', mismatches)}");
        Assert.Equal(0, unauthorisedSuccesses);
        Assert.True(calls >= methods.Count * callers.Count * 2);
    }

    /// <summary>
    /// The operations services are not the node's API (their protos are gRPC's own, not in protos/): health
    /// answers everyone, credential or not, so that a probe needs none; reflection answers people only.
    /// </summary>
    private static readonly Dictionary<string, Who> s_operationsAllowed = new(StringComparer.Ordinal)
    {
        ["grpc.health.v1.Health.Check"] = Who.Anyone,
        ["grpc.health.v1.Health.Watch"] = Who.Anyone,
        ["grpc.health.v1.Health.List"] = Who.Anyone,
        ["grpc.reflection.v1.ServerReflection.ServerReflectionInfo"] = Who.Clerk | Who.Reviewer | Who.Reader | Who.Admin,
        ["grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo"] = Who.Clerk | Who.Reviewer | Who.Reader | Who.Admin,
    };

    private static readonly ServiceDescriptor[] s_operationsServices =
        [Grpc.Health.V1.Health.Descriptor, Grpc.Reflection.V1.ServerReflection.Descriptor, Grpc.Reflection.V1Alpha.ServerReflection.Descriptor];

    [Fact]
    public void EveryServiceTheNodeMaps_IsInTheMatrix()
    {
        var mapped = Endpoints
            .Select(static e => e.Metadata.GetMetadata<Grpc.AspNetCore.Server.GrpcMethodMetadata>()?.Method.ServiceName)
            .OfType<string>()
            .Distinct()
            .Order(StringComparer.Ordinal);

        Assert.Equal(s_services.Concat(s_operationsServices).Select(static d => d.FullName).Order(StringComparer.Ordinal), mapped);
    }

    [Fact]
    public async Task OperationsServices_EveryCaller_AnswersAsTheirRowsSay()
    {
        var callers = await CallersAsync();
        var methods = s_operationsServices.SelectMany(static s => s.Methods).Where(m => IsMapped(m)).ToList();
        var unlisted = methods.Select(static m => m.FullName).Where(static n => !s_operationsAllowed.ContainsKey(n)).ToList();
        Assert.True(unlisted.Count == 0, $"operations RPCs missing from the matrix: {string.Join(", ", unlisted)}");

        var mismatches = new List<string>();
        foreach (var method in methods)
        {
            var allowed = s_operationsAllowed[method.FullName];
            foreach (var caller in callers)
            {
                var expected = allowed == Who.Anyone ? StatusCode.OK
                    : !caller.Authenticated ? StatusCode.Unauthenticated
                    : (allowed & caller.Is) == 0 ? StatusCode.PermissionDenied
                    : StatusCode.OK;
                var code = await CallOperationAsync(caller.Open(), method);
                if (code != expected)
                {
                    mismatches.Add($"{method.FullName} as {caller.Name}: expected {expected}, got {code}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    private IReadOnlyList<Endpoint> Endpoints => ((EndpointDataSource)_node.Services.GetService(typeof(EndpointDataSource))!).Endpoints;

    /// <summary>Methods of the operations protos that the node serves (a newer proto may declare more than the package implements).</summary>
    private bool IsMapped(MethodDescriptor method) => Endpoints
        .Any(e => e.Metadata.GetMetadata<Grpc.AspNetCore.Server.GrpcMethodMetadata>()?.Method is { } m && m.ServiceName == method.Service.FullName && m.Name == method.Name);

    /// <summary>One call of an operations RPC, of whatever kind, reading its first answer.</summary>
    private static async Task<StatusCode> CallOperationAsync(GrpcChannel channel, MethodDescriptor method)
    {
        IMessage request = method.Service.FullName.StartsWith("grpc.health", StringComparison.Ordinal)
            ? new Grpc.Health.V1.HealthCheckRequest()
            : method.Service.FullName.EndsWith("v1alpha.ServerReflection", StringComparison.Ordinal)
                ? new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = string.Empty }
                : new Grpc.Reflection.V1.ServerReflectionRequest { ListServices = string.Empty };
        var type = method.IsClientStreaming ? MethodType.DuplexStreaming : method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary;
        var call = new Method<byte[], byte[]>(type, method.Service.FullName, method.Name, s_bytes, s_bytes);
        var options = new CallOptions(deadline: Rpc.Deadline());
        try
        {
            using (channel)
            {
                var invoker = channel.CreateCallInvoker();
                switch (type)
                {
                    case MethodType.Unary:
                        await invoker.AsyncUnaryCall(call, null, options, request.ToByteArray());
                        break;
                    case MethodType.ServerStreaming:
                        using (var streaming = invoker.AsyncServerStreamingCall(call, null, options, request.ToByteArray()))
                        {
                            await streaming.ResponseStream.MoveNext(CancellationToken.None);
                        }

                        break;
                    default:
                        using (var duplex = invoker.AsyncDuplexStreamingCall(call, null, options))
                        {
                            try
                            {
                                await duplex.RequestStream.WriteAsync(request.ToByteArray());
                                await duplex.RequestStream.CompleteAsync();
                            }
                            catch (RpcException)
                            {
                                // A refusal can end the call while the request is still being written; reading gives its status.
                            }

                            await duplex.ResponseStream.MoveNext(CancellationToken.None);
                        }

                        break;
                }
            }

            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    [Fact]
    public async Task Token_ExpiresWhileTheNodeRuns_IsThenRefusedAsExpired()
    {
        var token = await _node.IssueTokenAsync(Role.Reader, Township, TimeSpan.FromSeconds(2), "reader-brief");
        var query = new QueryService.QueryServiceClient(_node.ChannelWith(token));
        await query.GetCompletenessAsync(new GetCompletenessRequest { Period = Quarter }, deadline: Rpc.Deadline());

        var refused = await Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    await query.GetCompletenessAsync(new GetCompletenessRequest { Period = Quarter }, deadline: Rpc.Deadline());
                    return null;
                }
                catch (RpcException ex)
                {
                    return ex;
                }
            },
            static _ => true,
            "the token to expire");

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal("TOKEN_EXPIRED", refused.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }

    [Fact]
    public async Task Token_RevokedWhileTheNodeRuns_IsRefusedOnTheNextCall()
    {
        var token = await _node.IssueTokenAsync(Role.Clerk, UnitOne, account: "clerk-revoked");
        var reporting = new ReportingService.ReportingServiceClient(_node.ChannelWith(token));
        await reporting.GetReportAsync(new GetReportRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline());
        var tokenId = token.Split('.')[1];

        var revoked = await _node.Access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = tokenId }, deadline: Rpc.Deadline());

        Assert.NotNull(revoked.Info.RevokeTime);
        await Rpc.FailsAsync(
            async () => await reporting.GetReportAsync(new GetReportRequest { UnitId = UnitOne, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.Unauthenticated, "TOKEN_REVOKED");
        var listed = await _node.Access.ListTokensAsync(new ListTokensRequest(), deadline: Rpc.Deadline());
        Assert.NotNull(listed.Tokens.Single(t => t.TokenId == tokenId).RevokeTime);
    }

    [Fact]
    public async Task Clerk_OfOneUnit_CannotSubmitForAnother()
    {
        var token = await _node.IssueTokenAsync(Role.Clerk, UnitOne, account: "clerk-one");
        var reporting = new ReportingService.ReportingServiceClient(_node.ChannelWith(token));

        await Rpc.FailsAsync(
            async () => await reporting.SubmitReportAsync(
                new SubmitReportRequest { UnitId = UnitTwo, Period = Quarter, Values = { Reports.Count("party_members", 9) } }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");

        await Rpc.FailsAsync(
            async () => await _node.Reporting.GetReportAsync(new GetReportRequest { UnitId = UnitTwo, Period = Quarter }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "NO_FIGURES");
    }

    [Fact]
    public async Task IssueToken_ForAClerkOfAUnitNotHosted_IsRefused()
    {
        await Rpc.FailsAsync(
            async () => await _node.Access.IssueTokenAsync(new IssueTokenRequest
            {
                Account = "clerk-elsewhere",
                Role = Role.Clerk,
                Scope = "370113002001",
                ValidFor = Duration.FromTimeSpan(TimeSpan.FromDays(1)),
            }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "OUT_OF_SCOPE");
    }

    private static StatusCode Expect(Who allowed, CallerCase caller, bool inside, Target target)
    {
        if (!caller.Authenticated)
        {
            return StatusCode.Unauthenticated;
        }

        if ((allowed & caller.Is) == 0)
        {
            return StatusCode.PermissionDenied;
        }

        // Nodes and whole-node scopes reach everything here. A narrow scope reaches what is inside it (a unit
        // scope: that unit; a node scope: that node), never the node itself; requests that act on nothing are harmless.
        if (caller.Narrow == Target.None || target == Target.None)
        {
            return StatusCode.OK;
        }

        return inside && target == caller.Narrow ? StatusCode.OK : StatusCode.PermissionDenied;
    }

    private static Target TargetOf(string method) => method switch
    {
        "SubmitReport" or "GetReport" or "ImportSheet" or "GetSheetTemplate" or "ApproveReport" or "ReturnReport" or "ReopenReport" or "WithdrawReport" or "GetReviewStatus" or "GetDecisions" => Target.Unit,
        "SetScores" => Target.Unit,
        "GetRatings" or "ListRatingFlags" => Target.Node,
        "GetRatingScheme" => Target.None,
        "AddLedgerItem" or "ReportLedgerFix" or "AcceptLedgerItem" or "SendBackLedgerItem" or "ListLedgerItems" or "GetLedgerHistory" => Target.Unit,
        "ApproveChild" or "ReopenChild" => Target.Node,
        "GetTotals" or "GetDrillDown" or "GetCompleteness" or "GetTargets" or "GetHistory" or "GetPromotion" or "GetAuditBundle" => Target.Node,
        "GetCatalogue" or "GetIdentity" or "WhoAmI" => Target.None,
        _ => Target.Self,
    };

    private async Task<List<CallerCase>> CallersAsync()
    {
        var expired = await _node.IssueTokenAsync(Role.Reader, Township, TimeSpan.FromMilliseconds(300), "reader-expired");
        var revoked = await _node.IssueTokenAsync(Role.Admin, Township, account: "admin-revoked");
        await _node.Access.RevokeTokenAsync(new RevokeTokenRequest { TokenId = revoked.Split('.')[1] }, deadline: Rpc.Deadline());
        var clerkOne = await _node.IssueTokenAsync(Role.Clerk, UnitOne, account: "clerk-unit-one");
        var readerVillage = await _node.IssueTokenAsync(Role.Reader, Village, account: "reader-village");
        var reviewerVillage = await _node.IssueTokenAsync(Role.Reviewer, Village, account: "reviewer-village");
        await Eventually.ReturnsAsync(async () =>
        {
            try
            {
                await new AccessService.AccessServiceClient(_node.ChannelWith(expired)).WhoAmIAsync(new WhoAmIRequest(), deadline: Rpc.Deadline());
                return (RpcException?)null;
            }
            catch (RpcException ex)
            {
                return ex;
            }
        }, static _ => true, "the short token to expire");

        var t = _node.Tokens;
        return
        [
            new("clerk of the node", Who.Clerk, Target.None, true, () => _node.ChannelWith(t.Clerk)),
            new("clerk of one unit", Who.Clerk, Target.Unit, true, () => _node.ChannelWith(clerkOne)),
            new("reviewer of the node", Who.Reviewer, Target.None, true, () => _node.ChannelWith(t.Reviewer)),
            new("reviewer of the village", Who.Reviewer, Target.Node, true, () => _node.ChannelWith(reviewerVillage)),
            new("reader of the node", Who.Reader, Target.None, true, () => _node.ChannelWith(t.Reader)),
            new("reader of the village", Who.Reader, Target.Node, true, () => _node.ChannelWith(readerVillage)),
            new("admin", Who.Admin, Target.None, true, () => _node.ChannelWith(t.Admin)),
            new("child node", Who.Child, Target.None, true, () => ChannelAsNode(Village)),
            new("parent node", Who.Parent, Target.None, true, () => ChannelAsNode(Parent)),
            new("unenrolled node", Who.None, Target.None, true, () => ChannelAsNode(Stranger)),
            new("no credential", Who.None, Target.None, false, () => _node.ChannelWith(null)),
            new("garbage token", Who.None, Target.None, false, () => _node.ChannelWith("fed1.0123456789abcdef.not-a-secret-at-all")),
            new("malformed token", Who.None, Target.None, false, () => _node.ChannelWith("nonsense")),
            new("expired token", Who.None, Target.None, false, () => _node.ChannelWith(expired)),
            new("revoked token", Who.None, Target.None, false, () => _node.ChannelWith(revoked)),
        ];
    }

    private GrpcChannel ChannelAsNode(string nodeId) => TestPki.Channel(_node.Address, asNode: nodeId);

    /// <summary>A request per RPC: inside the narrow scopes (unit one, the village) or outside them (unit two, the node itself).</summary>
    private static IMessage Sample(MethodDescriptor method, bool inside)
    {
        var unit = inside ? UnitOne : UnitTwo;
        var node = inside ? Village : string.Empty;
        return method.Name switch
        {
            "SubmitReport" => new SubmitReportRequest { UnitId = unit, Period = Quarter, Values = { Reports.Count("party_members", 7) } },
            "GetReport" => new GetReportRequest { UnitId = unit, Period = Quarter },
            // A dry run of a one-row sheet: the units it holds are what the scope is checked against.
            "ImportSheet" => new ImportSheetRequest
            {
                FileName = "sheet.csv",
                FileBytes = ByteString.CopyFromUtf8($"unit_id,party_members\n{unit},7\n"),
                Period = Quarter,
                DryRun = true,
            },
            "GetSheetTemplate" => new GetSheetTemplateRequest { Period = Quarter, UnitIds = { unit } },
            "PushSummary" => new PushSummaryRequest(),
            "Announce" => new AnnounceRequest(),
            "RotateKey" => new RotateKeyRequest(),
            "PullSummary" => new PullSummaryRequest { Period = Quarter },
            "GetSubtreeStatus" => new GetSubtreeStatusRequest { Period = Quarter },
            "GetProofChain" => new GetProofChainRequest { Period = Quarter, UnitId = unit },
            "GetCatalogue" => new GetCatalogueRequest(),
            "GetIdentity" => new GetIdentityRequest(),
            "GetTotals" => new GetTotalsRequest { NodeId = node, Period = Quarter },
            "GetDrillDown" => new GetDrillDownRequest { NodeId = node, Period = Quarter },
            "GetCompleteness" => new GetCompletenessRequest { NodeId = node, Period = Quarter },
            "GetTargets" => new GetTargetsRequest { NodeId = node, Period = Quarter },
            "GetHistory" => new GetHistoryRequest { NodeId = node, IndicatorId = "party_members", FromPeriod = "2026-Q1", ToPeriod = "2026-Q2" },
            "GetPromotion" => new GetPromotionRequest { NodeId = node, FromPeriod = "2026-Q1", ToPeriod = "2026-Q2" },
            "GetProof" => new GetProofRequest { Period = Quarter, UnitId = unit },
            "ListFlags" => new ListFlagsRequest { Period = Quarter },
            "GetAuditBundle" => new GetAuditBundleRequest { NodeId = node, Period = Quarter },
            "EnrolChild" => new EnrolChildRequest { ChildId = "370113001097", PublicKey = ByteString.CopyFrom(TestNode.CreateKey(Path.Combine(Path.GetTempPath(), "federation-tests", "matrix-key-" + Guid.NewGuid().ToString("N")[..8]))) },
            "ListChildren" => new ListChildrenRequest(),
            "AddHostedUnit" => new AddHostedUnitRequest { UnitId = "370113001098" },
            "GetStatus" => new GetStatusRequest(),
            "ResetChild" => new ResetChildRequest { ChildId = "370113001097" },
            "IssueToken" => new IssueTokenRequest { Account = "matrix", Role = Role.Reader, Scope = Township, ValidFor = Duration.FromTimeSpan(TimeSpan.FromHours(1)) },
            "ListTokens" => new ListTokensRequest(),
            "RevokeToken" => new RevokeTokenRequest { TokenId = "0000000000000000" },
            "WhoAmI" => new WhoAmIRequest(),
            "SetPassword" => new SetPasswordRequest { Account = "matrix-password", Role = Role.Reader, Scope = Township, Password = "matrix password 1" },
            "ApproveReport" => new ApproveReportRequest { UnitId = unit, Period = Quarter },
            "ReturnReport" => new ReturnReportRequest { UnitId = unit, Period = Quarter, Reason = "matrix" },
            "ReopenReport" => new ReopenReportRequest { UnitId = unit, Period = Quarter, Reason = "matrix" },
            "WithdrawReport" => new WithdrawReportRequest { UnitId = unit, Period = Quarter },
            "GetReviewStatus" => new GetReviewStatusRequest { UnitId = unit, Period = Quarter },
            "GetDecisions" => new GetDecisionsRequest { SubjectId = unit, Period = Quarter },
            "ApproveChild" => new ApproveChildRequest { NodeId = node, Period = Quarter },
            "ReopenChild" => new ReopenChildRequest { NodeId = node, Period = Quarter, Reason = "matrix" },
            "ApplyParentDecision" => new ApplyParentDecisionRequest(),
            "ListUnits" => new ListUnitsRequest { Period = Quarter },
            "RetireHostedUnit" => new RetireHostedUnitRequest { UnitId = "370113001098", FromPeriod = "2026-Q2" },
            // A rating of the unit for this year: what the scope is checked against is the unit scored.
            "SetScores" => new SetScoresRequest
            {
                Year = "2026",
                Units = { new UnitScoresEntry { UnitId = unit, Assessments = { new Assessment { Period = "2026", Items = { new ItemScore { ItemId = "duty_annual_task_list", PointsTenths = 30 } } } } } },
            },
            "GetRatings" => new GetRatingsRequest { NodeId = node, Year = "2026" },
            "ListRatingFlags" => new ListRatingFlagsRequest { NodeId = node, Year = "2026" },
            "GetRatingScheme" => new GetRatingSchemeRequest(),
            "AddLedgerItem" => new AddLedgerItemRequest
            {
                UnitId = unit,
                Entry = new LedgerEntry { Period = Quarter, Category = "venue", Problem = "matrix", Measure = "matrix", Deadline = "2026-06-30", Responsible = "matrix" },
            },
            "ReportLedgerFix" => new ReportLedgerFixRequest { UnitId = unit, ItemId = "1", Note = "matrix" },
            "AcceptLedgerItem" => new AcceptLedgerItemRequest { UnitId = unit, ItemId = "1" },
            "SendBackLedgerItem" => new SendBackLedgerItemRequest { UnitId = unit, ItemId = "1", Reason = "matrix" },
            "ListLedgerItems" => new ListLedgerItemsRequest { UnitId = unit },
            "GetLedgerHistory" => new GetLedgerHistoryRequest { UnitId = unit, ItemId = "1" },
            "ApplyParentLedgerStep" => new ApplyParentLedgerStepRequest(),
            _ => throw new InvalidOperationException($"No sample request for {method.FullName}: add one, and its row in the matrix."),
        };
    }

    private static readonly Marshaller<byte[]> s_bytes = Marshallers.Create(static b => b, static b => b);

    private static async Task<(StatusCode Code, string? Reason)> CallAsync(GrpcChannel channel, MethodDescriptor method, IMessage request)
    {
        var call = new Method<byte[], byte[]>(MethodType.Unary, method.Service.FullName, method.Name, s_bytes, s_bytes);
        try
        {
            using (channel)
            {
                await channel.CreateCallInvoker().AsyncUnaryCall(call, null, new CallOptions(deadline: Rpc.Deadline()), request.ToByteArray());
            }

            return (StatusCode.OK, null);
        }
        catch (RpcException ex)
        {
            return (ex.StatusCode, ex.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
        }
    }
}
