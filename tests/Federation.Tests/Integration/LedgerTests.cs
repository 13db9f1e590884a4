using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Ledger;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Signing;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Federation.Tests.Infrastructure;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Federation.Tests.Integration;

/// <summary>
/// The rectification ledger (整改台账, 挂牌销号) on real nodes, mutual TLS and per-role tokens: a city over a county over a
/// township that hosts two villages and has a third running its own node. An item is cleared only when a reviewer of the
/// tier above accepts it; a village node's item is accepted at its township and delivered; overdue items and the closure
/// rate reach the city exactly, the overdue count moving with a fake clock; bad input changes nothing.
/// </summary>
public sealed class LedgerTests
{
    private const string City = "3701";
    private const string County = "370113";
    private const string Township = "370113001";
    private const string HostedOne = "370113001001";
    private const string HostedTwo = "370113001002";
    private const string Village = "370113001003";
    private static readonly TimeSpan s_china = TimeSpan.FromHours(8);

    private static TreeNode Shape() => new(City, "city",
    [
        new(County, "county",
        [
            new(Township, "township", [new(Village, "village", [])]) { HostedUnitIds = [HostedOne, HostedTwo] },
        ]),
    ]);

    [Fact]
    public async Task ReportLedgerFix_ByTheUnitAlone_LeavesTheItemOpen_UntilAReviewerOfTheTierAboveAcceptsIt()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, Shape());
        var (period, far) = (QuarterOf(ChinaToday()), Date(ChinaToday().AddDays(60)));
        var township = tree[Township];
        var clerk = Ledger(township, await township.IssueTokenAsync(Role.Clerk, HostedOne, account: "clerk-001"));

        var added = await clerk.AddLedgerItemAsync(
            new AddLedgerItemRequest { UnitId = HostedOne, Entry = Entry(period, "venue", far, "活动场所不达标") }, deadline: Rpc.Deadline());
        Assert.Equal(("1", LedgerItemStatus.Open, Township), (added.Item.ItemId, added.Item.Status, added.Item.NodeId));
        var reported = await clerk.ReportLedgerFixAsync(
            new ReportLedgerFixRequest { UnitId = HostedOne, ItemId = "1", Note = "活动室已修缮并挂牌" }, deadline: Rpc.Deadline());
        Assert.Equal(LedgerItemStatus.FixReported, reported.Item.Status);

        // The unit alone cannot clear it: its clerk may not accept, and a fix reported is still listed, not cleared, up to the city.
        await Rpc.FailsAsync(
            async () => await clerk.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = HostedOne, ItemId = "1" }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED");
        var city = await WaitForLedgerAsync(tree.Root, period, listed: 1, cleared: 0, overdue: 0, "the fix report at the city, not cleared");
        Assert.Equal((0L, 1L), Rate(city));

        var reviewer = Ledger(township, township.Tokens.Reviewer);
        var accepted = await reviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = HostedOne, ItemId = "1", Note = "现场验收合格" }, deadline: Rpc.Deadline());
        Assert.Equal(LedgerItemStatus.Cleared, accepted.Item.Status);
        city = await WaitForLedgerAsync(tree.Root, period, listed: 1, cleared: 1, overdue: 0, "the acceptance at the city");
        Assert.Equal((1L, 1L), Rate(city));
        await Rpc.FailsAsync(
            async () => await reviewer.SendBackLedgerItemAsync(new SendBackLedgerItemRequest { UnitId = HostedOne, ItemId = "1", Reason = "again" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE");

        // Three signed steps, each verifying with the township's key and chained to the one before.
        var history = await Ledger(township, township.Tokens.Reader).GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = HostedOne, ItemId = "1" }, deadline: Rpc.Deadline());
        var townshipKey = await PublicKeyAsync(township);
        var steps = Chain(history.Steps, _ => townshipKey);
        Assert.Equal([LedgerStepKind.List, LedgerStepKind.FixReported, LedgerStepKind.Accepted], steps.Select(static s => s.Kind));
        Assert.Equal([false, false, true], steps.Select(static s => s.ByTierAbove));
        Assert.Equal(["clerk-001", "clerk-001", $"reviewer-{Township}"], steps.Select(static s => s.Account));
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task AcceptLedgerItem_VillageRunningItsOwnNode_TheTownshipAcceptsAndDelivers_ItsOwnReviewerCannot()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, Shape());
        var (period, far) = (QuarterOf(ChinaToday()), Date(ChinaToday().AddDays(60)));
        var (township, village) = (tree[Township], tree[Village]);
        var villageClerk = Ledger(village, village.Tokens.Clerk);
        await villageClerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "funds", far, "村级经费公开不及时") }, deadline: Rpc.Deadline());
        var fixReport = await villageClerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "1", Note = "已按月公开" }, deadline: Rpc.Deadline());

        // The village's own reviewer is not the tier above: it can neither clear nor list its own village's problems.
        var villageReviewer = Ledger(village, village.Tokens.Reviewer);
        await Rpc.FailsAsync(
            async () => await villageReviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = Village, ItemId = "1" }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED");
        await Rpc.FailsAsync(
            async () => await villageReviewer.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "duty", far, "ours") }, deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "ROLE_NOT_ALLOWED");

        // A reviewer of the township, scoped to that village, accepts from where it is; the village holds the signed step.
        var townshipReviewer = Ledger(township, await township.IssueTokenAsync(Role.Reviewer, Village, account: "organiser-003"));
        var accepted = await townshipReviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = Village, ItemId = "1", Note = "公开栏已核实" }, deadline: Rpc.Deadline());
        Assert.Equal((Village, LedgerItemStatus.Cleared), (accepted.Item.NodeId, accepted.Item.Status));
        var townshipKey = await PublicKeyAsync(township);
        var verification = SignedMessages.VerifyLedgerStep(accepted.Step, townshipKey);
        Assert.True(verification.IsValid, verification.Message);
        var step = verification.Value!;
        Assert.Equal((Township, Village, Village, "1", LedgerStepKind.Accepted, true, "organiser-003"),
            (step.NodeId, step.HolderNodeId, step.UnitId, step.ItemId, step.Kind, step.ByTierAbove, step.Account));
        Assert.Equal(Digests.Sha256(fixReport.Step.StepBytes.Span), step.PreviousStepDigest.ToByteArray());

        var atVillage = await villageClerk.GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = Village, ItemId = "1" }, deadline: Rpc.Deadline());
        Assert.Equal(accepted.Step, atVillage.Steps[^1]);
        var villageKey = await PublicKeyAsync(village);
        Chain(atVillage.Steps, s => s.NodeId == Township ? townshipKey : villageKey);

        // Every tier above reads it through the tree: the township by the village's id, the city by node_id.
        var routed = await Ledger(township, township.Tokens.Reader).GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = Village, ItemId = "1" }, deadline: Rpc.Deadline());
        Assert.Equal(Village, routed.NodeId);
        Assert.Equal(atVillage.Steps, routed.Steps);
        var fromCity = await Ledger(tree.Root, tree.Root.Tokens.Reader).ListLedgerItemsAsync(new ListLedgerItemsRequest { NodeId = Village }, deadline: Rpc.Deadline());
        Assert.Equal((Village, LedgerItemStatus.Cleared), (fromCity.NodeId, Assert.Single(fromCity.Items).Status));

        // The township's reviewer lists a problem it found, delivered and numbered at the village; a send-back needs a reason.
        var found = await townshipReviewer.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "members", far, "党员档案缺页") }, deadline: Rpc.Deadline());
        Assert.Equal(("2", Village), (found.Item.ItemId, found.Item.NodeId));
        Assert.True(SignedMessages.VerifyLedgerStep(found.Step, townshipKey) is { IsValid: true, Value.ByTierAbove: true });
        await villageClerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "2", Note = "已补齐" }, deadline: Rpc.Deadline());
        await Rpc.FailsAsync(
            async () => await townshipReviewer.SendBackLedgerItemAsync(new SendBackLedgerItemRequest { UnitId = Village, ItemId = "2", Reason = " " }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "REASON_REQUIRED");
        var sentBack = await townshipReviewer.SendBackLedgerItemAsync(
            new SendBackLedgerItemRequest { UnitId = Village, ItemId = "2", Reason = "缺少组织关系转接材料" }, deadline: Rpc.Deadline());
        Assert.Equal((LedgerItemStatus.Open, "缺少组织关系转接材料", 3u), (sentBack.Item.Status, sentBack.Item.LastNote, sentBack.Item.StepCount));
        await WaitForLedgerAsync(tree.Root, period, listed: 2, cleared: 1, overdue: 0, "the village's two items at the city");

        await Rpc.FailsAsync(
            async () => await townshipReviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = Village, ItemId = "9" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_ITEM");

        // A village that cannot be reached: nothing is recorded anywhere, and the reviewer is told so.
        await villageClerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "2", Note = "材料已补" }, deadline: Rpc.Deadline());
        await village.StopAsync();
        await Rpc.FailsAsync(
            async () => await townshipReviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = Village, ItemId = "2" }, deadline: Rpc.Deadline()),
            StatusCode.Unavailable, "CHILD_UNREACHABLE");
        await village.StartAsync();
        var after = await Ledger(village, village.Tokens.Reader).GetLedgerHistoryAsync(new GetLedgerHistoryRequest { UnitId = Village, ItemId = "2" }, deadline: Rpc.Deadline());
        Assert.Equal((LedgerItemStatus.FixReported, 4u), (after.Item.Status, after.Item.StepCount));
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task LedgerCounts_OverdueByTheNodesClock_AndTheClosureRate_ReachTheCityExactly_AndAuditClean()
    {
        await using var clock = new TickingClock(DateTimeOffset.UtcNow);
        var today = DateOnly.FromDateTime(clock.Time.GetUtcNow().AddMinutes(15).ToOffset(s_china).DateTime);
        var (period, far) = (QuarterOf(today), Date(today.AddDays(60)));
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, Shape(), clock.Time);
        var (township, village) = (tree[Township], tree[Village]);

        // Tokens that outlive the jump of the clock below (up to a day).
        var cityReader = await tree.Root.IssueTokenAsync(Role.Reader, City, TimeSpan.FromDays(30), "reader-city");
        var townshipReader = await township.IssueTokenAsync(Role.Reader, Township, TimeSpan.FromDays(30), "reader-township");
        var villageReader = await village.IssueTokenAsync(Role.Reader, Village, TimeSpan.FromDays(30), "reader-village");
        var (clerk, reviewer, villageClerk) = (Ledger(township, township.Tokens.Clerk), Ledger(township, township.Tokens.Reviewer), Ledger(village, village.Tokens.Clerk));

        // Hosted: due today, long overdue, and cleared. At the village: due today (fix reported), due later, and cleared late.
        await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = HostedOne, Entry = Entry(period, "organisation", Date(today), "支部委员会缺额") }, deadline: Rpc.Deadline());
        await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = HostedOne, Entry = Entry(period, "cadres", Date(today.AddDays(-10)), "后备干部不足") }, deadline: Rpc.Deadline());
        await reviewer.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = HostedOne, Entry = Entry(period, "duty", far, "三会一课记录不全") }, deadline: Rpc.Deadline());
        await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = HostedOne, ItemId = "3", Note = "已补记" }, deadline: Rpc.Deadline());
        await reviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = HostedOne, ItemId = "3" }, deadline: Rpc.Deadline());
        await villageClerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "venue", Date(today), "阵地标识不全") }, deadline: Rpc.Deadline());
        await villageClerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "1", Note = "已制作" }, deadline: Rpc.Deadline());
        await villageClerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "other", far, "群众意见未反馈") }, deadline: Rpc.Deadline());
        await villageClerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "funds", Date(today.AddDays(-5)), "账目未公开") }, deadline: Rpc.Deadline());
        await villageClerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "3", Note = "已公开" }, deadline: Rpc.Deadline());
        await reviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = Village, ItemId = "3" }, deadline: Rpc.Deadline());
        await tree.SubmitAsync(Village, period, [Reports.Count("party_members", 30)]);

        // Before the deadline: only the long-overdue item is overdue. The city's figures equal the items counted one by one.
        var city = await WaitForLedgerAsync(tree.Root, period, listed: 6, cleared: 2, overdue: 1, "six items, two cleared, one overdue at the city");
        var items = (await Ledger(tree.Root, tree.Root.Tokens.Reader).ListLedgerItemsAsync(new ListLedgerItemsRequest { NodeId = Township }, deadline: Rpc.Deadline())).Items
            .Concat((await Ledger(tree.Root, tree.Root.Tokens.Reader).ListLedgerItemsAsync(new ListLedgerItemsRequest { NodeId = Village }, deadline: Rpc.Deadline())).Items)
            .ToList();
        Assert.Equal((6, 2, 1), (items.Count, items.Count(static i => i.Status == LedgerItemStatus.Cleared), items.Count(static i => i.Overdue)));
        Assert.Equal((2L, 6L), Rate(city));
        Assert.Equal(2u, Aggregate(city, "rectification_closure_rate").UnitCount);

        var keys = TrustedKeys.FromSingle(new Dictionary<string, byte[]>
        {
            [Township] = await PublicKeyAsync(township),
            [Village] = await PublicKeyAsync(village),
            [County] = await PublicKeyAsync(tree[County]),
        });

        // The clock passes midnight in China: the items due today become overdue, and every tier's summary follows unasked.
        clock.Jump(LedgerRules.OverdueFrom(today) - clock.Time.GetUtcNow() + TimeSpan.FromMinutes(1));
        city = await WaitForLedgerAsync(tree.Root, period, listed: 6, cleared: 2, overdue: 3, "the items due today overdue at the city", cityReader);
        Assert.Equal((2L, 6L), Rate(city));
        var overdue = await new LedgerService.LedgerServiceClient(township.ChannelWith(townshipReader))
            .ListLedgerItemsAsync(new ListLedgerItemsRequest { UnitId = HostedOne, OverdueOnly = true }, deadline: Rpc.Deadline());
        Assert.Equal(["1", "2"], overdue.Items.Select(static i => i.ItemId));

        // The ledger is its own contribution to each summary, and an audit recomputes every figure from what is cited.
        foreach (var (node, token) in new[] { (township, townshipReader), (village, villageReader) })
        {
            var bundle = (await new QueryService.QueryServiceClient(node.ChannelWith(token))
                .GetAuditBundleAsync(new GetAuditBundleRequest { Period = period }, deadline: Rpc.Deadline())).Bundle;
            var audit = Auditor.Audit(bundle, CatalogueIndex.Default, keys);
            Assert.True(audit.IsClean, $"{node.Id}: " + string.Join("\n", audit.Differences));
            Assert.Contains(audit.Summary!.Contributions, static c => c.Kind == ContributionKind.Ledger);
            Assert.NotEmpty(bundle.LedgerTallies);
        }

        tree.AssertNoErrors();
    }

    [Fact]
    public async Task BadInput_TypedCountsRefusedAndLedgerStepsRefused_ChangeNothing()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, Shape());
        var (period, far) = (QuarterOf(ChinaToday()), Date(ChinaToday().AddDays(60)));
        var township = tree[Township];
        var (clerk, reviewer) = (Ledger(township, township.Tokens.Clerk), Ledger(township, township.Tokens.Reviewer));
        await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = HostedOne, Entry = Entry(period, "venue", far, "活动室漏雨") }, deadline: Rpc.Deadline());
        await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = HostedOne, ItemId = "1", Note = "已修" }, deadline: Rpc.Deadline());
        await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = HostedTwo, Entry = Entry(period, "cadres", far, "书记兼职过多") }, deadline: Rpc.Deadline());
        await WaitForLedgerAsync(township, period, listed: 2, cleared: 0, overdue: 0, "two items at the township");
        var before = await SnapshotAsync(township, period);

        // Typed-in rectification counts: a report and a sheet are refused, naming the indicator.
        var typed = await Rpc.FailsAsync(
            async () => await township.Reporting.SubmitReportAsync(new SubmitReportRequest
            {
                UnitId = HostedOne,
                Period = period,
                Values = { Reports.Count("party_members", 40), Reports.Count("rectification_listed", 3) },
            }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "COMPUTED_INDICATOR");
        Assert.Equal("values[1].indicator_id", Rpc.ViolatedField(typed));
        Assert.Contains("rectification_listed", typed.Message, StringComparison.Ordinal);
        var sheet = await township.Import.ImportSheetAsync(new ImportSheetRequest
        {
            FileName = "rows.csv",
            FileBytes = ByteString.CopyFromUtf8($"unit_id,党员数,已销号\n{HostedOne},40,2\n"),
            Period = period,
        }, deadline: Rpc.Deadline());
        var problem = Assert.Single(sheet.Problems);
        Assert.False(sheet.Stored);
        Assert.Equal(("COMPUTED_INDICATOR", "rectification_closed", "C"), (problem.Reason, problem.IndicatorId, problem.Column));

        // Ledger steps that do not apply.
        await Rpc.FailsAsync(
            async () => await reviewer.SendBackLedgerItemAsync(new SendBackLedgerItemRequest { UnitId = HostedOne, ItemId = "1" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "REASON_REQUIRED");
        await Rpc.FailsAsync(
            async () => await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = HostedTwo, ItemId = "1", Note = "\t" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "REASON_REQUIRED");
        await Rpc.FailsAsync(
            async () => await reviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = HostedTwo, ItemId = "1" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE");
        await Rpc.FailsAsync(
            async () => await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = HostedOne, ItemId = "1", Note = "again" }, deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE");
        foreach (var missing in new[] { "9", "0", "01", "x" })
        {
            await Rpc.FailsAsync(
                async () => await reviewer.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = HostedOne, ItemId = missing }, deadline: Rpc.Deadline()),
                StatusCode.NotFound, "UNKNOWN_ITEM");
        }

        await Rpc.FailsAsync(
            async () => await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = "370113001999", ItemId = "1", Note = "x" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_UNIT");
        await Rpc.FailsAsync(
            async () => await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "1", Note = "x" }, deadline: Rpc.Deadline()),
            StatusCode.NotFound, "UNKNOWN_UNIT");

        // Listings that are not ledger items: each fault named by its field.
        foreach (var (entry, reason, field) in new (LedgerEntry? Entry, string Reason, string Field)[]
        {
            (null, "MISSING_FIELD", "entry"),
            (Entry(period, "venue", "2026-6-30", "x"), "MALFORMED_REQUEST", "entry.deadline"),
            (Entry(period, "venue", "2126-06-30", "x"), "MALFORMED_REQUEST", "entry.deadline"),
            (Entry(period, "weather", far, "x"), "UNKNOWN_CATEGORY", "entry.category"),
            (Entry(period, "venue", far, new string('问', LedgerRules.MaxTextLength + 1)), "VALUE_TOO_LARGE", "entry.problem"),
            (Entry(period, "venue", far, "a\u0000b"), "MALFORMED_REQUEST", "entry.problem"),
            (Entry(period, "venue", far, ""), "MISSING_FIELD", "entry.problem"),
            (Entry("2099-Q1", "venue", far, "x"), "PERIOD_NOT_STARTED", "entry.period"),
            (Entry("2026-Q5", "venue", far, "x"), "MALFORMED_PERIOD", "entry.period"),
        })
        {
            var status = await Rpc.FailsAsync(
                async () => await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = HostedOne, Entry = entry }, deadline: Rpc.Deadline()),
                StatusCode.InvalidArgument, reason);
            Assert.Equal(field, Rpc.ViolatedField(status));
        }

        await Rpc.FailsAsync(
            async () => await clerk.ListLedgerItemsAsync(new ListLedgerItemsRequest { PageToken = "not-a-token" }, deadline: Rpc.Deadline()),
            StatusCode.InvalidArgument, "MALFORMED_REQUEST");

        Assert.Equal(before, await SnapshotAsync(township, period));
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ApplyParentLedgerStep_OnlyThePinnedParentsStepChainedToTheLast_ReplayChangesNothing()
    {
        using var folder = new TempFolder();
        await using var tree = await TestHierarchy.StartAsync(folder, new TreeNode(Township, "township", [new(Village, "village", [])]));
        var (period, far) = (QuarterOf(ChinaToday()), Date(ChinaToday().AddDays(60)));
        var village = tree[Village];
        var clerk = Ledger(village, village.Tokens.Clerk);
        await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = Village, Entry = Entry(period, "venue", far, "标识缺失") }, deadline: Rpc.Deadline());
        var fixReport = await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = Village, ItemId = "1", Note = "已补" }, deadline: Rpc.Deadline());
        using var townshipKey = NodeKeyFile.LoadOrCreate(folder.Sub(Township));
        using var villageKey = NodeKeyFile.LoadOrCreate(folder.Sub(Village));
        using var parentChannel = TestPki.Channel(village.Address, asNode: Township);
        var asParent = new LedgerService.LedgerServiceClient(parentChannel);
        var afterFix = ByteString.CopyFrom(Digests.Sha256(fixReport.Step.StepBytes.Span));
        ApplyParentLedgerStepRequest Step(LedgerStepKind kind, uint sequence, ByteString previous, string holder = Village, NodeSigningKey? key = null) => new()
        {
            Step = SignedMessages.SignLedgerStep(new LedgerStep
            {
                NodeId = Township, HolderNodeId = holder, UnitId = holder, ItemId = "1", Kind = kind, Sequence = sequence, PreviousStepDigest = previous,
                Note = "why", Account = "reviewer-" + Township, StepTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), ByTierAbove = true,
            }, key ?? townshipKey),
        };

        await Rpc.FailsAsync(async () => await asParent.ApplyParentLedgerStepAsync(Step(LedgerStepKind.Accepted, 3, afterFix, key: villageKey), deadline: Rpc.Deadline()),
            StatusCode.Unauthenticated, "UNKNOWN_SIGNER");
        await Rpc.FailsAsync(async () => await asParent.ApplyParentLedgerStepAsync(Step(LedgerStepKind.Accepted, 3, afterFix, holder: "370113001004"), deadline: Rpc.Deadline()),
            StatusCode.PermissionDenied, "SENDER_MISMATCH");
        await Rpc.FailsAsync(async () => await asParent.ApplyParentLedgerStepAsync(Step(LedgerStepKind.FixReported, 3, afterFix), deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "WRONG_REVIEW_STATE");
        await Rpc.FailsAsync(async () => await asParent.ApplyParentLedgerStepAsync(Step(LedgerStepKind.Accepted, 2, fixReport.Step.StepBytes), deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "STALE_VERSION");

        var accept = Step(LedgerStepKind.Accepted, 3, afterFix);
        var applied = await asParent.ApplyParentLedgerStepAsync(accept, deadline: Rpc.Deadline());
        var replayed = await asParent.ApplyParentLedgerStepAsync(accept, deadline: Rpc.Deadline());
        Assert.Equal((LedgerItemStatus.Cleared, 3u), (applied.Item.Status, applied.Item.StepCount));
        Assert.Equal(applied.Item, replayed.Item);
        await Rpc.FailsAsync(async () => await asParent.ApplyParentLedgerStepAsync(Step(LedgerStepKind.SentBack, 3, afterFix), deadline: Rpc.Deadline()),
            StatusCode.FailedPrecondition, "STALE_VERSION");

        // A listing delivered twice (the parent retrying after a lost answer) is one item.
        var listing = new ApplyParentLedgerStepRequest
        {
            Step = SignedMessages.SignLedgerStep(new LedgerStep
            {
                NodeId = Township, HolderNodeId = Village, UnitId = Village, Kind = LedgerStepKind.List, Sequence = 1, Entry = Entry(period, "duty", far, "会议记录不全"),
                Account = "reviewer-" + Township, StepTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), ByTierAbove = true,
            }, townshipKey),
        };
        Assert.Equal("2", (await asParent.ApplyParentLedgerStepAsync(listing, deadline: Rpc.Deadline())).Item.ItemId);
        Assert.Equal("2", (await asParent.ApplyParentLedgerStepAsync(listing, deadline: Rpc.Deadline())).Item.ItemId);
        Assert.Equal(2, (await clerk.ListLedgerItemsAsync(new ListLedgerItemsRequest { UnitId = Village }, deadline: Rpc.Deadline())).Items.Count);
        tree.AssertNoErrors();
    }

    [Fact]
    public async Task ListLedgerItems_OnePageAtATime_FollowsTheTokens_AndFilters()
    {
        using var folder = new TempFolder();
        await using var node = await TestNode.StartAsync(new NodeSpec(Township, "township") { HostedUnitIds = [HostedOne, HostedTwo] }, folder.Sub(Township));
        var (period, far) = (QuarterOf(ChinaToday()), Date(ChinaToday().AddDays(60)));
        var clerk = Ledger(node, node.Tokens.Clerk);
        foreach (var unit in new[] { HostedTwo, HostedOne, HostedTwo, HostedOne, HostedOne })
        {
            await clerk.AddLedgerItemAsync(new AddLedgerItemRequest { UnitId = unit, Entry = Entry(period, "other", far, "x") }, deadline: Rpc.Deadline());
        }

        await clerk.ReportLedgerFixAsync(new ReportLedgerFixRequest { UnitId = HostedOne, ItemId = "2", Note = "done" }, deadline: Rpc.Deadline());
        var reader = Ledger(node, node.Tokens.Reader);
        var seen = new List<string>();
        var request = new ListLedgerItemsRequest { PageSize = 2 };
        do
        {
            var page = await reader.ListLedgerItemsAsync(request, deadline: Rpc.Deadline());
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(static i => $"{i.UnitId}#{i.ItemId}"));
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        Assert.Equal([$"{HostedOne}#1", $"{HostedOne}#2", $"{HostedOne}#3", $"{HostedTwo}#1", $"{HostedTwo}#2"], seen);
        var reported = await reader.ListLedgerItemsAsync(new ListLedgerItemsRequest { Status = LedgerItemStatus.FixReported }, deadline: Rpc.Deadline());
        Assert.Equal($"{HostedOne}#2", $"{Assert.Single(reported.Items).UnitId}#{reported.Items[0].ItemId}");
        var oneUnit = await Ledger(node, await node.IssueTokenAsync(Role.Clerk, HostedTwo, account: "clerk-002"))
            .ListLedgerItemsAsync(new ListLedgerItemsRequest { UnitId = HostedTwo, Period = period }, deadline: Rpc.Deadline());
        Assert.Equal(["1", "2"], oneUnit.Items.Select(static i => i.ItemId));
    }

    /// <summary>What the township holds, as its clients see it: its items with their histories, and its signed summary.</summary>
    private static async Task<string> SnapshotAsync(TestNode node, string period)
    {
        var reader = Ledger(node, node.Tokens.Reader);
        var items = await reader.ListLedgerItemsAsync(new ListLedgerItemsRequest(), deadline: Rpc.Deadline());
        var totals = await node.Query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Rpc.Deadline());
        var report = await node.Reporting.GetReportAsync(new GetReportRequest { UnitId = HostedOne, Period = period }, deadline: Rpc.Deadline())
            .ResponseAsync.ContinueWith(static t => t.IsCompletedSuccessfully ? t.Result.Digest.ToBase64() : "none", TaskScheduler.Default);
        return string.Join("\n", items.Items.Select(static i => i.ToString())) + "\n" +
               Convert.ToHexStringLower(Digests.Sha256(totals.SignedSummary.SummaryBytes.Span)) + "\n" + report;
    }

    private static LedgerService.LedgerServiceClient Ledger(TestNode node, string token) => new(node.ChannelWith(token));

    private static LedgerEntry Entry(string period, string category, string deadline, string problem) => new()
    {
        Period = period,
        Category = category,
        Problem = problem,
        Measure = "限期整改",
        Deadline = deadline,
        Responsible = "张伟",
    };

    private static DateOnly ChinaToday() => DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(s_china).DateTime);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string QuarterOf(DateOnly date) => string.Create(CultureInfo.InvariantCulture, $"{date.Year}-Q{((date.Month - 1) / 3) + 1}");

    private static IndicatorAggregate Aggregate(GetTotalsResponse totals, string id) =>
        totals.Totals.FirstOrDefault(t => t.Indicator.Id == id)?.Aggregate ?? new IndicatorAggregate();

    private static (long Cleared, long Listed) Rate(GetTotalsResponse totals) =>
        (Aggregate(totals, "rectification_closure_rate").Total, Aggregate(totals, "rectification_closure_rate").DenominatorTotal);

    private static Task<GetTotalsResponse> WaitForLedgerAsync(TestNode node, string period, long listed, long cleared, long overdue, string what, string? token = null) =>
        Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    var query = new QueryService.QueryServiceClient(token is null ? node.Channel : node.ChannelWith(token));
                    return await query.GetTotalsAsync(new GetTotalsRequest { Period = period }, deadline: Rpc.Deadline());
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
                {
                    return null;
                }
            },
            t => (Aggregate(t, "rectification_listed").Total, Aggregate(t, "rectification_closed").Total, Aggregate(t, "rectification_overdue").Total) == (listed, cleared, overdue),
            what);

    private static async Task<byte[]> PublicKeyAsync(TestNode node) =>
        (await node.Federation.GetIdentityAsync(new GetIdentityRequest(), deadline: Rpc.Deadline())).PublicKey.ToByteArray();

    /// <summary>Verifies each step offline with its signer's key and checks that it chains to the one before; returns them parsed.</summary>
    private static List<LedgerStep> Chain(IEnumerable<SignedLedgerStep> signed, Func<LedgerStep, byte[]> keyOf)
    {
        var steps = new List<LedgerStep>();
        byte[] previous = [];
        foreach (var s in signed)
        {
            var claimed = LedgerStep.Parser.ParseFrom(s.StepBytes);
            var verification = SignedMessages.VerifyLedgerStep(s, keyOf(claimed));
            Assert.True(verification.IsValid, verification.Message);
            Assert.Equal(previous, verification.Value!.PreviousStepDigest.ToByteArray());
            Assert.Equal((uint)steps.Count + 1, verification.Value.Sequence);
            previous = verification.Digest;
            steps.Add(verification.Value);
        }

        return steps;
    }
}
