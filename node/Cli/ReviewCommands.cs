using System.CommandLine;
using System.Globalization;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>
/// `federation units`, `federation review list|approve|return|reopen|history` and `federation withdraw`:
/// clients of ReviewService. Messages and table headers in Chinese or English (--lang, default from LANG);
/// errors are one line; --json prints the proto JSON.
/// </summary>
internal static class ReviewCommands
{
    private static readonly JsonFormatter s_json = new(JsonFormatter.Settings.Default.WithIndentation().WithFormatDefaultValues(true));

    public static IEnumerable<Command> All() => [Units(), Review(), Withdraw()];

    private static Option<bool> Json() => new("--json") { Description = "Print proto JSON instead of text" };

    private static Command Units()
    {
        var node = NodeCommandLine.NodeOption();
        var period = new Option<string?>("--period") { Description = "With a period: where each stands in review for it" };
        var json = Json();
        var command = new Command("units", "List a node's hosted units and children, with names and state.") { node, period, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            var all = await ListAllAsync(parse, node, parse.GetValue(period) ?? string.Empty, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(s_json.Format(all));
                return;
            }

            QueryCommands.Write(UnitsTable(all, text, withReview: !string.IsNullOrEmpty(parse.GetValue(period))));
        }));
        return command;
    }

    private static Command Review()
    {
        var listNode = NodeCommandLine.NodeOption();
        var listPeriod = PeriodOption();
        var listJson = Json();
        var list = new Command("list", "Where each hosted unit's report and each child's summary (or a single-leaf child's report) stands in review for a period.") { listNode, listPeriod, listJson };
        list.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            var all = await ListAllAsync(parse, listNode, parse.GetValue(listPeriod)!, cancellationToken);
            if (parse.GetValue(listJson))
            {
                Console.WriteLine(s_json.Format(all));
                return;
            }

            QueryCommands.Write(UnitsTable(all, text, withReview: true));
        }));

        return new Command("review", "Review and approval (三级联审): list, approve, return, reopen, history.")
        {
            list,
            Decide("approve", "Approve a unit's report (--unit: hosted, or a village running its own node) or a child's summary (--child) for a period.", reasonRequired: false,
                static (client, unit, child, period, reason, options) => child is null
                    ? Call(client.ApproveReportAsync(new ApproveReportRequest { UnitId = unit!, Period = period, Reason = reason }, options), static r => r.Decision)
                    : Call(client.ApproveChildAsync(new ApproveChildRequest { NodeId = child, Period = period, Reason = reason }, options), static r => r.Decision)),
            // A single-leaf child (a village running its own node) is returned by its id, as a unit: --child says the same.
            Decide("return", "Return a unit's report to its clerk with a reason (--unit: hosted, or a village running its own node).", reasonRequired: true,
                static (client, unit, child, period, reason, options) =>
                    Call(client.ReturnReportAsync(new ReturnReportRequest { UnitId = unit ?? child!, Period = period, Reason = reason }, options), static r => r.Decision)),
            Decide("reopen", "Lift an approval (--unit or --child) with a reason, so that the figures may be corrected.", reasonRequired: true,
                static (client, unit, child, period, reason, options) => child is null
                    ? Call(client.ReopenReportAsync(new ReopenReportRequest { UnitId = unit!, Period = period, Reason = reason }, options), static r => r.Decision)
                    : Call(client.ReopenChildAsync(new ReopenChildRequest { NodeId = child, Period = period, Reason = reason }, options), static r => r.Decision)),
            History(),
        };
    }

    private static Command Withdraw()
    {
        var node = NodeCommandLine.NodeOption();
        var unit = new Option<string>("--unit") { Description = "The hosted unit", Required = true };
        var period = PeriodOption();
        var reason = new Option<string?>("--reason") { Description = "Why (recorded with the signed withdrawal)" };
        var json = Json();
        var command = new Command("withdraw", "Withdraw a unit's report filed by mistake: removed from every total above, kept in the history.")
        {
            node, unit, period, reason, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new ReviewService.ReviewServiceClient(channel).WithdrawReportAsync(
                new WithdrawReportRequest { UnitId = parse.GetValue(unit)!, Period = parse.GetValue(period)!, Reason = parse.GetValue(reason) ?? string.Empty },
                deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            PrintDecision(response.Decision, parse.GetValue(json), text);
        }));
        return command;
    }

    private static Command History()
    {
        var node = NodeCommandLine.NodeOption();
        var subject = new Option<string?>("--subject") { Description = "A hosted unit or child id (omit for this node's own summary)" };
        var period = PeriodOption();
        var json = Json();
        var command = new Command("history", "List the signed decisions about a unit, a child or this node for a period.") { node, subject, period, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var client = new ReviewService.ReviewServiceClient(channel);
            var all = new GetDecisionsResponse();
            var request = new GetDecisionsRequest { SubjectId = parse.GetValue(subject) ?? string.Empty, Period = parse.GetValue(period)!, PageSize = 1000 };
            do
            {
                var page = await client.GetDecisionsAsync(request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
                all.Decisions.AddRange(page.Decisions);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(json))
            {
                Console.WriteLine(s_json.Format(all));
                return;
            }

            var table = new Table().AddColumns(text.Time, text.Decision, text.Subject, text.Version, text.Account, text.Reason, text.KeyId);
            foreach (var signed in all.Decisions)
            {
                var d = Decision.Parser.ParseFrom(signed.DecisionBytes);
                table.AddRow(Time(d), text.Kind(d.Kind), Markup.Escape(d.SubjectId.Length > 0 ? d.SubjectId : d.NodeId), d.SubjectVersion.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(d.Account), Markup.Escape(d.Reason), signed.KeyId);
            }

            QueryCommands.Write(table);
        }));
        return command;
    }

    private delegate Task<SignedDecision> DecideCall(
        ReviewService.ReviewServiceClient client, string? unit, string? child, string period, string reason, CallOptions options);

    private static Command Decide(string name, string description, bool reasonRequired, DecideCall call)
    {
        var node = NodeCommandLine.NodeOption();
        var unit = new Option<string?>("--unit") { Description = "A hosted unit, or a village running its own node (a single-leaf child)" };
        var child = new Option<string?>("--child") { Description = "An enrolled child node" };
        var period = PeriodOption();
        var reason = new Option<string?>("--reason") { Description = reasonRequired ? "Why (required)" : "A remark recorded with the decision", Required = reasonRequired };
        var json = Json();
        var command = new Command(name, description) { node, unit, child, period, reason, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            if (parse.GetValue(unit) is null == parse.GetValue(child) is null)
            {
                throw new FormatException(text.UnitOrChild);
            }

            using var channel = CliConnection.Open(parse, node);
            var decision = await call(new ReviewService.ReviewServiceClient(channel), parse.GetValue(unit), parse.GetValue(child), parse.GetValue(period)!,
                parse.GetValue(reason) ?? string.Empty, new CallOptions(deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken));
            PrintDecision(decision, parse.GetValue(json), text);
        }));
        return command;
    }

    private static async Task<SignedDecision> Call<T>(AsyncUnaryCall<T> call, Func<T, SignedDecision> decision)
    {
        using (call)
        {
            return decision(await call.ResponseAsync);
        }
    }

    private static Option<string> PeriodOption() => new("--period") { Description = "The period: 2026, 2026-H1, 2026-Q1 or 2026-03", Required = true };

    private static async Task<ListUnitsResponse> ListAllAsync(ParseResult parse, Option<string> node, string period, CancellationToken cancellationToken)
    {
        using var channel = CliConnection.Open(parse, node);
        var client = new ReviewService.ReviewServiceClient(channel);
        var all = new ListUnitsResponse();
        var request = new ListUnitsRequest { PageSize = 1000, Period = period };
        do
        {
            var page = await client.ListUnitsAsync(request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            all.Units.AddRange(page.Units);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        return all;
    }

    private static Table UnitsTable(ListUnitsResponse all, CliText text, bool withReview)
    {
        var table = new Table().AddColumns(text.Id, text.Name, text.EntryKind, text.State);
        if (withReview)
        {
            table.AddColumns(text.Review, text.Approved);
        }

        foreach (var unit in all.Units)
        {
            var state = unit.RetiredFromPeriod.Length > 0 ? text.RetiredFrom(unit.RetiredFromPeriod) : text.Active;
            var name = unit.FormerDisplayNames.Count > 0 ? $"{unit.DisplayName} ({text.Formerly} {string.Join(", ", unit.FormerDisplayNames)})" : unit.DisplayName;
            var row = new List<string> { Markup.Escape(unit.Id), Markup.Escape(name), text.EntryKindOf(unit.Kind), state };
            if (withReview)
            {
                row.Add(text.Status(unit.ReviewStatus));
                row.Add(string.Create(CultureInfo.InvariantCulture, $"{unit.ApprovedLeafCount}/{unit.ExpectedLeafCount}"));
            }

            table.AddRow([.. row]);
        }

        return table;
    }

    private static void PrintDecision(SignedDecision signed, bool json, CliText text)
    {
        if (json)
        {
            var parsed = Decision.Parser.ParseFrom(signed.DecisionBytes);
            Console.WriteLine("{\"signedDecision\": " + s_json.Format(signed) + ",\n\"decision\": " + s_json.Format(parsed) + "}");
            return;
        }

        var d = Decision.Parser.ParseFrom(signed.DecisionBytes);
        Console.WriteLine(text.Decided(d, signed.KeyId));
    }

    private static string Time(Decision d) =>
        d.DecideTime is null ? "-" : d.DecideTime.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Runs a command in the chosen language; an error is one line (see <see cref="NodeCommandLine.CallAsync"/>).</summary>
    private static Task<int> RunAsync(ParseResult parse, Func<CliText, Task> action) =>
        NodeCommandLine.CallAsync(parse, () => action(new CliText(CliLanguage.IsChinese(parse))));
}

/// <summary>The review commands' words in one language.</summary>
internal sealed record CliText(bool Zh)
{
    public string Id => Zh ? "编号" : "id";

    public string Name => Zh ? "名称" : "name";

    public string EntryKind => Zh ? "类别" : "kind";

    public string State => Zh ? "状态" : "state";

    public string Review => Zh ? "审核" : "review";

    public string Approved => Zh ? "已通过/应报" : "approved/expected";

    public string Active => Zh ? "在用" : "active";

    public string Formerly => Zh ? "曾用名" : "formerly";

    public string Time => Zh ? "时间" : "time";

    public string Decision => Zh ? "决定" : "decision";

    public string Subject => Zh ? "对象" : "subject";

    public string Version => Zh ? "版本" : "version";

    public string Account => Zh ? "审核人" : "account";

    public string Reason => Zh ? "理由" : "reason";

    public string KeyId => Zh ? "签名密钥" : "key id";

    public string Error => Zh ? "错误" : "error";

    public string UnitOrChild => Zh ? "请指定 --unit 或 --child 之一。" : "give one of --unit or --child.";

    public string RetiredFrom(string period) => Zh ? $"自 {period} 起停用" : $"retired from {period}";

    public string EntryKindOf(UnitEntryKind kind) => kind switch
    {
        UnitEntryKind.HostedUnit => Zh ? "代管单位" : "hosted unit",
        UnitEntryKind.ChildNode => Zh ? "下级节点" : "child node",
        _ => "-",
    };

    public string Status(ReviewStatus status) => status switch
    {
        ReviewStatus.NotSubmitted => Zh ? "未报送" : "not submitted",
        ReviewStatus.Submitted => Zh ? "待审核" : "submitted",
        ReviewStatus.Returned => Zh ? "已退回" : "returned",
        ReviewStatus.Approved => Zh ? "已通过" : "approved",
        ReviewStatus.Withdrawn => Zh ? "已撤回" : "withdrawn",
        _ => "-",
    };

    public string Kind(DecisionKind kind) => kind switch
    {
        DecisionKind.Approve => Zh ? "通过" : "approve",
        DecisionKind.Return => Zh ? "退回" : "return",
        DecisionKind.Reopen => Zh ? "重新打开" : "reopen",
        DecisionKind.Withdraw => Zh ? "撤回" : "withdraw",
        _ => "-",
    };

    public string Decided(Decision d, string keyId) => Zh
        ? $"{d.NodeId} 已{Kind(d.Kind)} {d.SubjectId} {d.Period}（版本 {d.SubjectVersion}，审核人 {d.Account}，签名密钥 {keyId}）"
        : $"{d.NodeId} recorded {Kind(d.Kind)} of {d.SubjectId} for {d.Period} (version {d.SubjectVersion}, by {d.Account}, signed with key {keyId})";
}
