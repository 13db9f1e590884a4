using Federation.Aggregator.Signing;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Federation.Tests.Abuse;

/// <summary>Who sends a hostile message: a credential the node knows, or one it must refuse.</summary>
public enum Sender
{
    Clerk,
    Reviewer,
    Reader,
    Admin,
    Child,
    Parent,
    Stranger,
    NoCredential,
    GarbageToken,
    ExpiredToken,
    RevokedToken,
}

/// <summary>How a message was made hostile.</summary>
public enum Hostility
{
    RandomBytes,
    Truncated,
    BitFlipped,
    WrongType,
    HugeId,
    UnknownIndicatorFlood,
    WrongCredential,
    ReplayedSummary,
    StaleSummary,
    EquivocatingSummary,
    ForgedSummary,
    GzipBomb,
    Oversize,
}

/// <summary>One message to send: the RPC, the bytes, who sends it, and whether any success would be a bad input accepted.</summary>
public sealed record HostileMessage(MethodDescriptor Method, byte[] Body, Sender Sender, Hostility Hostility, bool MustBeRefused);

/// <summary>
/// Builds hostile messages for every RPC from seeded randomness: each starts from a request that is
/// already refused (an unhosted unit, an over-long id, a summary that is not the child's newest) so that
/// no mutation can turn it into a legitimate change, then is cut, flipped, swapped, inflated or sent
/// with the wrong credential.
/// </summary>
public sealed class HostileMessages
{
    public const string Township = "370113001";
    public const string Child = "370113001099";
    public const string Parent = "370113";
    public const string Quarter = "2026-Q1";
    public static readonly string[] Units = ["370113001001", "370113001002", "370113001003", "370113001004", "370113001005"];

    private static readonly ServiceDescriptor[] s_services =
    [
        ReportingService.Descriptor, FederationService.Descriptor, QueryService.Descriptor, AdminService.Descriptor, AccessService.Descriptor,
        ReviewService.Descriptor, ImportService.Descriptor, RatingService.Descriptor, LedgerService.Descriptor,
    ];

    private static readonly HashSet<string> s_writes =
        [
            "SubmitReport", "ImportSheet", "PushSummary", "Announce", "RotateKey", "EnrolChild", "AddHostedUnit", "IssueToken", "RevokeToken",
            "RetireHostedUnit", "ApproveReport", "ReturnReport", "ReopenReport", "WithdrawReport", "ApproveChild", "ReopenChild", "ApplyParentDecision",
            "SetScores", "SetPassword",
            "AddLedgerItem", "ReportLedgerFix", "AcceptLedgerItem", "SendBackLedgerItem", "ApplyParentLedgerStep",
        ];

    private static readonly NodeSigningKey s_stranger = NodeSigningKey.FromPrivateKeyBytes(Enumerable.Repeat((byte)99, NodeSigningKey.PrivateKeyByteCount).ToArray());
    private readonly Random _rng;
    private readonly FakeChild _child;
    private readonly List<MethodDescriptor> _methods = [.. s_services.SelectMany(static s => s.Methods)];

    public HostileMessages(int seed, FakeChild child)
    {
        _rng = new Random(seed);
        _child = child;
    }

    public static IReadOnlyList<MethodDescriptor> Methods => [.. s_services.SelectMany(static s => s.Methods)];

    /// <summary>The <paramref name="index"/>th message: RPCs in turn, kinds of hostility in turn.</summary>
    public HostileMessage Next(int index)
    {
        var method = _methods[index % _methods.Count];
        var round = index / _methods.Count;
        var sender = RightfulSender(method);
        var write = s_writes.Contains(method.Name);
        var baseline = Baseline(method).ToByteArray();
        switch (round % 8)
        {
            case 0:
                return new(method, RandomBytes(_rng.Next(0, 2048)), sender, Hostility.RandomBytes, write);
            case 1:
                return new(method, baseline.Length == 0 ? RandomBytes(3) : baseline[..Math.Max(0, _rng.Next(baseline.Length))], sender, Hostility.Truncated, write);
            case 2:
                return new(method, Flip(baseline), sender, Hostility.BitFlipped, write);
            case 3 when write:
                // Another request's bytes can parse as a legitimate write (a GetReport's unit id as a unit to host):
                // writes get a second flipped copy instead.
                return new(method, Flip(baseline), sender, Hostility.BitFlipped, write);
            case 3:
                var other = _methods[_rng.Next(_methods.Count)];
                return new(method, Baseline(other).ToByteArray(), sender, Hostility.WrongType, MustBeRefused: false);
            case 4 when method.Name is "PushSummary":
                return SummaryAttack(method, round);
            case 4:
                return new(method, HugeId(method), sender, Hostility.HugeId, write);
            default:
                var wrong = (Sender)(_rng.Next((int)Sender.Stranger, (int)Sender.RevokedToken + 1));
                if (method.Name is "GetCatalogue" or "GetIdentity" or "WhoAmI" or "GetRatingScheme" && wrong == Sender.Stranger)
                {
                    wrong = Sender.NoCredential;
                }

                return new(method, baseline, WrongFor(method, wrong), Hostility.WrongCredential, MustBeRefused: true);
        }
    }

    /// <summary>A report of 150,000 unknown indicators (about 3.4 MB), as the clerk: refused, with a bounded answer.</summary>
    public static HostileMessage UnknownIndicatorFlood()
    {
        var request = new SubmitReportRequest { UnitId = Units[0], Period = Quarter };
        for (var i = 0; i < 150_000; i++)
        {
            request.Values.Add(new IndicatorValue { IndicatorId = "unknown_" + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture), Count = i });
        }

        // About 3.4 MB: under the 4 MiB limit, so the node must read and refuse it, not just measure it.

        return new(ReportingService.Descriptor.FindMethodByName("SubmitReport"), request.ToByteArray(), Sender.Clerk, Hostility.UnknownIndicatorFlood, true);
    }

    /// <summary>A message over the 4 MiB limit.</summary>
    public static HostileMessage Oversize() =>
        new(ReportingService.Descriptor.FindMethodByName("SubmitReport"),
            new SubmitReportRequest { UnitId = new string('9', 5 * 1024 * 1024), Period = Quarter }.ToByteArray(), Sender.Clerk, Hostility.Oversize, true);

    private HostileMessage SummaryAttack(MethodDescriptor method, int round)
    {
        SignedSummary signed;
        Hostility hostility;
        switch (round / 8 % 4)
        {
            case 0:
                // The version the node holds, again: idempotent, never counted twice.
                signed = _child.Summary(Quarter, 2, 40);
                hostility = Hostility.ReplayedSummary;
                return new(method, new PushSummaryRequest { SignedSummary = signed }.ToByteArray(), Sender.Child, hostility, MustBeRefused: false);
            case 1:
                signed = _child.Summary(Quarter, 1, 35);
                hostility = Hostility.StaleSummary;
                break;
            case 2:
                signed = _child.Summary(Quarter, 2, 41 + _rng.Next(1000));
                hostility = Hostility.EquivocatingSummary;
                break;
            default:
                // Signed with a key nobody enrolled, or claiming another node.
                using (var stranger = new FakeChild(Child, (byte)(100 + _rng.Next(100))))
                {
                    signed = _rng.Next(2) == 0 ? stranger.Summary(Quarter, 3, 41) : _child.Summary(Quarter, 3, 41, claimedId: "370113001098");
                }

                hostility = Hostility.ForgedSummary;
                break;
        }

        return new(method, new PushSummaryRequest { SignedSummary = signed }.ToByteArray(), Sender.Child, hostility, MustBeRefused: true);
    }

    private byte[] HugeId(MethodDescriptor method)
    {
        var id = new string((char)('0' + _rng.Next(10)), _rng.Next(2) == 0 ? 1024 * 1024 : 70_000);
        IMessage request = method.Name switch
        {
            "SubmitReport" => new SubmitReportRequest { UnitId = id, Period = Quarter, Values = { Reports.Count("party_members", 1) } },
            "GetReport" => new GetReportRequest { UnitId = id, Period = Quarter },
            "GetProof" or "GetProofChain" => new GetProofRequest { UnitId = id, Period = Quarter },
            "EnrolChild" => new EnrolChildRequest { ChildId = id, PublicKey = ByteString.CopyFrom(new byte[32]) },
            "AddHostedUnit" => new AddHostedUnitRequest { UnitId = id },
            "IssueToken" => new IssueTokenRequest { Account = id, Role = Role.Reader, Scope = Township, ValidFor = Duration.FromTimeSpan(TimeSpan.FromHours(1)) },
            "RevokeToken" => new RevokeTokenRequest { TokenId = id },
            "SetPassword" => new SetPasswordRequest { Account = id, Role = Role.Reader, Scope = Township, Password = "hostile password" },
            "PullSummary" => new PullSummaryRequest { Period = id },
            "GetSubtreeStatus" => new GetSubtreeStatusRequest { Period = id },
            "GetTotals" => new GetTotalsRequest { NodeId = id, Period = Quarter },
            "GetDrillDown" => new GetDrillDownRequest { NodeId = id, Period = Quarter, SortIndicatorId = id },
            "GetCompleteness" => new GetCompletenessRequest { NodeId = id, Period = Quarter },
            "GetTargets" => new GetTargetsRequest { NodeId = id, Period = Quarter },
            "GetHistory" => new GetHistoryRequest { NodeId = Township, IndicatorId = id, FromPeriod = id, ToPeriod = Quarter },
            "GetPromotion" => new GetPromotionRequest { NodeId = id, FromPeriod = "2025-Q4", ToPeriod = Quarter },
            "GetAuditBundle" => new GetAuditBundleRequest { NodeId = id, Period = Quarter },
            "ApproveReport" => new ApproveReportRequest { UnitId = id, Period = Quarter },
            "WithdrawReport" => new WithdrawReportRequest { UnitId = id, Period = Quarter },
            "GetDecisions" => new GetDecisionsRequest { SubjectId = id, Period = Quarter },
            "ApproveChild" => new ApproveChildRequest { NodeId = id, Period = Quarter },
            "SetScores" => new SetScoresRequest { Year = "2026", Units = { new UnitScoresEntry { UnitId = id } } },
            "GetRatings" => new GetRatingsRequest { NodeId = id, Year = "2026", UnitId = id },
            "ListRatingFlags" => new ListRatingFlagsRequest { NodeId = id, Year = "2026", PageToken = id },
            _ => Baseline(method),
        };
        return request.ToByteArray();
    }

    /// <summary>A request that the node refuses or answers without any change, whatever small mutation it then suffers.</summary>
    private IMessage Baseline(MethodDescriptor method) => method.Name switch
    {
        // Not hosted here: three digits away from any hosted unit.
        "SubmitReport" => new SubmitReportRequest { UnitId = "370113001999", Period = Quarter, Values = { Reports.Count("party_members", 12), Reports.Count("members_developed", 2) } },
        "GetReport" => new GetReportRequest { UnitId = Units[_rng.Next(Units.Length)], Period = Quarter },
        // A file named .txt (neither .xlsx nor .csv) whose one row names a 100-character unit no node hosts:
        // refused before any cell is read, and no flip makes both the name and the unit legitimate.
        "ImportSheet" => new ImportSheetRequest
        {
            FileName = "sheet.txt",
            FileBytes = ByteString.CopyFromUtf8($"unit_id,party_members\n{new string('7', 100)},12\n"),
            Period = Quarter,
        },
        // A template is a read; mutations give a template or a one-line refusal, and store nothing.
        "GetSheetTemplate" => new GetSheetTemplateRequest { Period = Quarter, UnitIds = { Units[_rng.Next(Units.Length)] } },
        "PushSummary" => new PushSummaryRequest { SignedSummary = _child.Summary(Quarter, 1, 35) },
        "Announce" => new AnnounceRequest
        {
            Announcement = SignedMessages.SignAnnouncement(
                new Announcement { NodeId = Child, Address = "ftp://127.0.0.1:21", AnnounceTime = Timestamp.FromDateTime(DateTime.UtcNow) }, _child.Key),
        },
        // A rotation signed with a key nobody enrolled: refused, whatever is flipped.
        "RotateKey" => new RotateKeyRequest
        {
            Rotation = SignedMessages.SignKeyRotation(
                new KeyRotation { NodeId = Child, OldKeyId = KeyIds.FromPublicKey(_child.PublicKey), NewPublicKey = ByteString.CopyFrom(new byte[32]) }, s_stranger),
        },
        "PullSummary" => new PullSummaryRequest { Period = Quarter },
        "GetSubtreeStatus" => new GetSubtreeStatusRequest { Period = Quarter },
        "GetProofChain" => new GetProofChainRequest { Period = Quarter, UnitId = Units[0], SummaryDigest = ByteString.CopyFrom(new byte[32]) },
        "GetCatalogue" => new GetCatalogueRequest(),
        "GetIdentity" => new GetIdentityRequest(),
        "GetTotals" => new GetTotalsRequest { Period = Quarter },
        "GetDrillDown" => new GetDrillDownRequest { Period = Quarter, SortIndicatorId = "party_members" },
        "GetCompleteness" => new GetCompletenessRequest { Period = Quarter },
        "GetTargets" => new GetTargetsRequest { Period = Quarter },
        "GetHistory" => new GetHistoryRequest { IndicatorId = "party_members", FromPeriod = "2026-01", ToPeriod = "2026-06" },
        "GetPromotion" => new GetPromotionRequest { FromPeriod = "2026-01", ToPeriod = "2026-06" },
        "GetProof" => new GetProofRequest { Period = Quarter, UnitId = Units[0] },
        "GetAuditBundle" => new GetAuditBundleRequest { Period = Quarter },
        "ListFlags" => new ListFlagsRequest { Period = Quarter },
        // A 31-byte key: no flip of its bytes makes it a key.
        "EnrolChild" => new EnrolChildRequest { ChildId = "370113001097", PublicKey = ByteString.CopyFrom(new byte[31]) },
        "ListChildren" => new ListChildrenRequest { PageSize = 10 },
        // 100 characters: over any id limit, and no flip shortens it.
        "AddHostedUnit" => new AddHostedUnitRequest { UnitId = new string('7', 100) },
        "GetStatus" => new GetStatusRequest(),
        // 100 characters: no enrolled child has that id, and no flip shortens it.
        "ResetChild" => new ResetChildRequest { ChildId = new string('7', 100) },
        "IssueToken" => new IssueTokenRequest { Account = new string('a', 100), Role = Role.Reader, Scope = Township, ValidFor = Duration.FromTimeSpan(TimeSpan.FromHours(1)) },
        "ListTokens" => new ListTokensRequest(),
        "RevokeToken" => new RevokeTokenRequest { TokenId = "0000000000000000" },
        "WhoAmI" => new WhoAmIRequest(),
        // A 100-character account: over the name limit, and no flip shortens it; refused before any hash is computed.
        "SetPassword" => new SetPasswordRequest { Account = new string('a', 100), Role = Role.Reader, Scope = Township, Password = "hostile password" },
        // 100 characters: over any id limit, and no flip shortens it.
        "ApproveReport" => new ApproveReportRequest { UnitId = new string('7', 100), Period = Quarter },
        "ReturnReport" => new ReturnReportRequest { UnitId = new string('7', 100), Period = Quarter, Reason = "hostile" },
        "ReopenReport" => new ReopenReportRequest { UnitId = new string('7', 100), Period = Quarter, Reason = "hostile" },
        "WithdrawReport" => new WithdrawReportRequest { UnitId = new string('7', 100), Period = Quarter },
        "GetReviewStatus" => new GetReviewStatusRequest { UnitId = Units[_rng.Next(Units.Length)], Period = Quarter },
        "GetDecisions" => new GetDecisionsRequest { SubjectId = Units[_rng.Next(Units.Length)], Period = Quarter },
        "ApproveChild" => new ApproveChildRequest { NodeId = new string('7', 100), Period = Quarter },
        "RetireHostedUnit" => new RetireHostedUnitRequest { UnitId = new string('7', 100), FromPeriod = "2026-Q2" },
        "ListUnits" => new ListUnitsRequest { PageSize = 10, Period = Quarter },
        "ReopenChild" => new ReopenChildRequest { NodeId = new string('7', 100), Period = Quarter, Reason = "hostile" },
        // Signed by a key nobody pinned: refused, whatever is flipped.
        "ApplyParentDecision" => new ApplyParentDecisionRequest
        {
            Decision = SignedMessages.SignDecision(
                new Decision { NodeId = Parent, Kind = DecisionKind.Approve, Subject = DecisionSubject.ChildSummary, SubjectId = Township, Period = Quarter }, s_stranger),
        },
        // 100 characters: over any id limit, and no flip shortens it; every score is otherwise valid.
        "SetScores" => new SetScoresRequest
        {
            Year = "2026",
            Units =
            {
                new UnitScoresEntry
                {
                    UnitId = new string('7', 100),
                    Assessments = { new Assessment { Period = "2026-03", Items = { new ItemScore { ItemId = "duty_annual_task_list", PointsTenths = 40 } } } },
                    Adjustments = new AdjustmentSet { Entries = { new AdjustmentEntry { ItemId = "penalty_petition", Count = 1 } } },
                },
            },
        },
        // Reads: a statement, flags and the scheme are answered or refused, and change nothing.
        "GetRatings" => new GetRatingsRequest { Year = "2026", UnitId = Units[_rng.Next(Units.Length)] },
        "ListRatingFlags" => new ListRatingFlagsRequest { Year = "2026", PageSize = 10 },
        "GetRatingScheme" => new GetRatingSchemeRequest(),
        // The unit id goes last and is 100 characters: over any id limit, and no flip shortens it into a hosted unit.
        "AddLedgerItem" => new AddLedgerItemRequest
        {
            Entry = new LedgerEntry { Period = Quarter, Category = "venue", Problem = "hostile", Measure = "hostile", Deadline = "2026-06-30", Responsible = "hostile" },
            UnitId = new string('7', 100),
        },
        "ReportLedgerFix" => new ReportLedgerFixRequest { UnitId = new string('7', 100), ItemId = "1", Note = "hostile" },
        "AcceptLedgerItem" => new AcceptLedgerItemRequest { UnitId = new string('7', 100), ItemId = "1" },
        "SendBackLedgerItem" => new SendBackLedgerItemRequest { UnitId = new string('7', 100), ItemId = "1", Reason = "hostile" },
        // Reads: mutations give a page, a history or a one-line refusal, and store nothing.
        "ListLedgerItems" => new ListLedgerItemsRequest { UnitId = Units[_rng.Next(Units.Length)], Period = Quarter },
        "GetLedgerHistory" => new GetLedgerHistoryRequest { UnitId = Units[_rng.Next(Units.Length)], ItemId = "1" },
        // Signed by a key nobody pinned: refused, whatever is flipped.
        "ApplyParentLedgerStep" => new ApplyParentLedgerStepRequest
        {
            Step = SignedMessages.SignLedgerStep(
                new LedgerStep { NodeId = Parent, HolderNodeId = Township, UnitId = Township, Kind = LedgerStepKind.Accepted, ItemId = "1", Sequence = 3, ByTierAbove = true }, s_stranger),
        },
        _ => throw new InvalidOperationException($"No baseline for {method.FullName}: the abuse suite must cover every RPC."),
    };

    private static Sender RightfulSender(MethodDescriptor method) => method.Name switch
    {
        "SubmitReport" or "ImportSheet" or "GetSheetTemplate" => Sender.Clerk,
        "GetReport" or "GetReviewStatus" or "GetDecisions" => Sender.Reviewer,
        "ApproveReport" or "ReturnReport" or "ReopenReport" or "ApproveChild" or "ReopenChild" or "SetScores" => Sender.Reviewer,
        "WithdrawReport" => Sender.Clerk,
        "ApplyParentDecision" or "ApplyParentLedgerStep" => Sender.Parent,
        "AddLedgerItem" or "ReportLedgerFix" => Sender.Clerk,
        "AcceptLedgerItem" or "SendBackLedgerItem" => Sender.Reviewer,
        "PushSummary" or "Announce" or "RotateKey" => Sender.Child,
        "PullSummary" or "GetSubtreeStatus" or "GetProofChain" => Sender.Parent,
        "GetCatalogue" or "GetIdentity" or "WhoAmI" => Sender.Reader,
        _ when method.Service.Name is "AdminService" or "AccessService" => Sender.Admin,
        _ => Sender.Reader,
    };

    /// <summary>A sender the RPC must refuse: a bad credential, or a good one of a role it does not admit.</summary>
    private static Sender WrongFor(MethodDescriptor method, Sender wrong) =>
        wrong != Sender.Stranger ? wrong : RightfulSender(method) switch
        {
            Sender.Admin => Sender.Clerk,
            Sender.Clerk => Sender.Reader,
            Sender.Child => Sender.Parent,
            Sender.Parent => Sender.Child,
            _ => Sender.Stranger,
        };

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _rng.NextBytes(bytes);
        return bytes;
    }

    private byte[] Flip(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return RandomBytes(4);
        }

        var copy = (byte[])bytes.Clone();
        for (var flips = _rng.Next(1, 9); flips > 0; flips--)
        {
            copy[_rng.Next(copy.Length)] ^= (byte)(1 << _rng.Next(8));
        }

        return copy;
    }
}
