using System.CommandLine;
using System.Globalization;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>
/// `federation ledger list|add|report-fix|accept|send-back|history`: the rectification ledger (整改台账), a client of
/// LedgerService. Messages and table headers in Chinese or English (--lang, default from LANG); errors are one line;
/// --json prints the proto JSON.
/// </summary>
internal static class LedgerCommands
{
    private static readonly JsonFormatter s_json = new(JsonFormatter.Settings.Default.WithIndentation().WithFormatDefaultValues(true));

    public static IEnumerable<Command> All() =>
    [
        new Command("ledger", "The rectification ledger (整改台账, 挂牌销号): list, add, report-fix, accept, send-back, history.")
        {
            List(), Add(), ReportFix(), Step("accept"), Step("send-back"), History(),
        },
    ];

    private static Option<bool> Json() => new("--json") { Description = "Print proto JSON instead of text" };

    private static Option<string> Unit(bool required = true) => new("--unit")
    {
        Description = "The unit: hosted by the node, or a village running its own node below it",
        Required = required,
    };

    private static Option<string> Item() => new("--item") { Description = "The item's id at the node holding it (a number)", Required = true };

    private static Command List()
    {
        var node = NodeCommandLine.NodeOption();
        var of = new Option<string?>("--of") { Description = "A node below the one asked, whose items to list" };
        var unit = Unit(required: false);
        var period = new Option<string?>("--period") { Description = "Only items found in this period (2026-Q1)" };
        var status = new Option<string?>("--status") { Description = "Only items that are open, fix-reported or cleared" };
        var overdue = new Option<bool>("--overdue") { Description = "Only overdue items (not cleared, deadline passed)" };
        var pageSize = new Option<int>("--page-size") { Description = "Items asked for per call, 1 to 1000; every page is read", DefaultValueFactory = static _ => 1000 };
        var json = Json();
        var command = new Command("list", "List the ledger items a node holds (or a node below it), filtered by unit, period, status or overdue.")
        {
            node, of, unit, period, status, overdue, pageSize, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            var request = new ListLedgerItemsRequest
            {
                NodeId = parse.GetValue(of) ?? string.Empty,
                UnitId = parse.GetValue(unit) ?? string.Empty,
                Period = parse.GetValue(period) ?? string.Empty,
                Status = ParseStatus(parse.GetValue(status), text),
                OverdueOnly = parse.GetValue(overdue),
                PageSize = parse.GetValue(pageSize),
            };
            using var channel = CliConnection.Open(parse, node);
            var client = new LedgerService.LedgerServiceClient(channel);
            var all = new ListLedgerItemsResponse();
            do
            {
                var page = await client.ListLedgerItemsAsync(request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
                all.NodeId = page.NodeId;
                all.Items.AddRange(page.Items);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(json))
            {
                Console.WriteLine(s_json.Format(all));
                return;
            }

            var table = new Table().AddColumns(text.Unit, text.Item, text.Period, text.Category, text.Problem, text.Measure, text.Deadline, text.Responsible, text.Status);
            foreach (var item in all.Items)
            {
                table.AddRow(Markup.Escape(item.UnitId), item.ItemId, item.Entry.Period, Markup.Escape(item.Entry.Category), Markup.Escape(item.Entry.Problem),
                    Markup.Escape(item.Entry.Measure), item.Entry.Deadline, Markup.Escape(item.Entry.Responsible), text.StatusOf(item));
            }

            QueryCommands.Write(table);
            Console.WriteLine(text.Counted(all.NodeId, all.Items.Count, all.Items.Count(static i => i.Status == LedgerItemStatus.Cleared), all.Items.Count(static i => i.Overdue)));
        }));
        return command;
    }

    private static Command Add()
    {
        var node = NodeCommandLine.NodeOption();
        var unit = Unit();
        var period = new Option<string>("--period") { Description = "The inspection round the problem was found in: 2026-Q1, 2026-H1, 2026 or 2026-03", Required = true };
        var category = new Option<string>("--category") { Description = "A ledger category code of the catalogue (organisation, cadres, members, venue, funds, duty, other)", Required = true };
        var problem = new Option<string>("--problem") { Description = "The problem found (at most 500 characters)", Required = true };
        var measure = new Option<string>("--measure") { Description = "The rectification measure (at most 500 characters)", Required = true };
        var deadline = new Option<string>("--deadline") { Description = "The deadline, a date in China time: 2026-06-30", Required = true };
        var responsible = new Option<string>("--responsible") { Description = "The person responsible", Required = true };
        var note = new Option<string?>("--note") { Description = "A remark recorded with the listing" };
        var json = Json();
        var command = new Command("add", "List a problem (挂牌) for a unit: as its clerk, or as a reviewer of the tier above who found it.")
        {
            node, unit, period, category, problem, measure, deadline, responsible, note, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new LedgerService.LedgerServiceClient(channel).AddLedgerItemAsync(new AddLedgerItemRequest
            {
                UnitId = parse.GetValue(unit)!,
                Entry = new LedgerEntry
                {
                    Period = parse.GetValue(period)!,
                    Category = parse.GetValue(category)!,
                    Problem = parse.GetValue(problem)!,
                    Measure = parse.GetValue(measure)!,
                    Deadline = parse.GetValue(deadline)!,
                    Responsible = parse.GetValue(responsible)!,
                },
                Note = parse.GetValue(note) ?? string.Empty,
            }, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            Print(response.Item, response.Step, parse.GetValue(json), text);
        }));
        return command;
    }

    private static Command ReportFix()
    {
        var node = NodeCommandLine.NodeOption();
        var unit = Unit();
        var item = Item();
        var note = new Option<string>("--note") { Description = "What was done (required)", Required = true };
        var json = Json();
        var command = new Command("report-fix", "Report an open item fixed, with a note (the unit's clerk, at the node holding it). The tier above still has to accept it.")
        {
            node, unit, item, note, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new LedgerService.LedgerServiceClient(channel).ReportLedgerFixAsync(
                new ReportLedgerFixRequest { UnitId = parse.GetValue(unit)!, ItemId = parse.GetValue(item)!, Note = parse.GetValue(note)! },
                deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            Print(response.Item, response.Step, parse.GetValue(json), text);
        }));
        return command;
    }

    /// <summary>`accept` (a remark is optional) or `send-back` (a reason is required): a reviewer of the tier above.</summary>
    private static Command Step(string name)
    {
        var accept = name == "accept";
        var node = NodeCommandLine.NodeOption();
        var unit = Unit();
        var item = Item();
        var reason = accept
            ? new Option<string?>("--note") { Description = "A remark recorded with the acceptance" }
            : new Option<string?>("--reason") { Description = "Why the fix is not accepted (required)", Required = true };
        var json = Json();
        var command = new Command(name, accept
            ? "Accept a reported fix (销号): a reviewer of the tier above; the item is cleared."
            : "Send a reported fix back with a reason: a reviewer of the tier above; the item is open again.")
        {
            node, unit, item, reason, json,
        };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var client = new LedgerService.LedgerServiceClient(channel);
            var (unitId, itemId, words) = (parse.GetValue(unit)!, parse.GetValue(item)!, parse.GetValue(reason) ?? string.Empty);
            var options = new CallOptions(deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            if (accept)
            {
                var accepted = await client.AcceptLedgerItemAsync(new AcceptLedgerItemRequest { UnitId = unitId, ItemId = itemId, Note = words }, options);
                Print(accepted.Item, accepted.Step, parse.GetValue(json), text);
            }
            else
            {
                var sentBack = await client.SendBackLedgerItemAsync(new SendBackLedgerItemRequest { UnitId = unitId, ItemId = itemId, Reason = words }, options);
                Print(sentBack.Item, sentBack.Step, parse.GetValue(json), text);
            }
        }));
        return command;
    }

    private static Command History()
    {
        var node = NodeCommandLine.NodeOption();
        var of = new Option<string?>("--of") { Description = "The node holding the item, below the one asked (a village running its own node is found from --unit)" };
        var unit = Unit();
        var item = Item();
        var json = Json();
        var command = new Command("history", "An item and every signed step of it, oldest first.") { node, of, unit, item, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var history = await new LedgerService.LedgerServiceClient(channel).GetLedgerHistoryAsync(
                new GetLedgerHistoryRequest { NodeId = parse.GetValue(of) ?? string.Empty, UnitId = parse.GetValue(unit)!, ItemId = parse.GetValue(item)! },
                deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                var steps = history.Steps.Select(static s => "{\"signedStep\": " + s_json.Format(s) + ", \"step\": " + s_json.Format(LedgerStep.Parser.ParseFrom(s.StepBytes)) + "}");
                Console.WriteLine("{\"history\": " + s_json.Format(history) + ",\n\"steps\": [" + string.Join(",\n", steps) + "]}");
                return;
            }

            Console.WriteLine(text.Describe(history.Item));
            var table = new Table().AddColumns(text.Sequence, text.Time, text.Step, text.SignedBy, text.Account, text.Note, text.KeyId);
            foreach (var signed in history.Steps)
            {
                var step = LedgerStep.Parser.ParseFrom(signed.StepBytes);
                table.AddRow(step.Sequence.ToString(CultureInfo.InvariantCulture), Time(step.StepTime), text.Kind(step.Kind, step.ByTierAbove), Markup.Escape(step.NodeId),
                    Markup.Escape(step.Account), Markup.Escape(step.Note), signed.KeyId);
            }

            QueryCommands.Write(table);
        }));
        return command;
    }

    private static LedgerItemStatus ParseStatus(string? status, LedgerText text) => status?.Trim().ToLowerInvariant() switch
    {
        null or "" => LedgerItemStatus.Unspecified,
        "open" or "未整改" => LedgerItemStatus.Open,
        "fix-reported" or "fix_reported" or "待验收" => LedgerItemStatus.FixReported,
        "cleared" or "已销号" => LedgerItemStatus.Cleared,
        _ => throw new FormatException(text.BadStatus(status)),
    };

    private static void Print(LedgerItem item, SignedLedgerStep step, bool json, LedgerText text)
    {
        if (json)
        {
            Console.WriteLine("{\"item\": " + s_json.Format(item) + ",\n\"signedStep\": " + s_json.Format(step) + ",\n\"step\": " +
                s_json.Format(LedgerStep.Parser.ParseFrom(step.StepBytes)) + "}");
            return;
        }

        var parsed = LedgerStep.Parser.ParseFrom(step.StepBytes);
        Console.WriteLine(text.Recorded(parsed, item, step.KeyId));
    }

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "-" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Runs a command in the chosen language; an error is one line (see <see cref="NodeCommandLine.CallAsync"/>).</summary>
    private static Task<int> RunAsync(ParseResult parse, Func<LedgerText, Task> action) =>
        NodeCommandLine.CallAsync(parse, () => action(new LedgerText(CliLanguage.IsChinese(parse))));
}

/// <summary>The ledger commands' words in one language.</summary>
internal sealed record LedgerText(bool Zh)
{
    public string Unit => Zh ? "单位" : "unit";

    public string Item => Zh ? "编号" : "item";

    public string Period => Zh ? "检查轮次" : "period";

    public string Category => Zh ? "类别" : "category";

    public string Problem => Zh ? "存在问题" : "problem";

    public string Measure => Zh ? "整改措施" : "measure";

    public string Deadline => Zh ? "完成时限" : "deadline";

    public string Responsible => Zh ? "责任人" : "responsible";

    public string Status => Zh ? "状态" : "status";

    public string Sequence => Zh ? "步骤" : "step";

    public string Time => Zh ? "时间" : "time";

    public string Step => Zh ? "操作" : "action";

    public string SignedBy => Zh ? "签署节点" : "signed by";

    public string Account => Zh ? "经办人" : "account";

    public string Note => Zh ? "说明" : "note";

    public string KeyId => Zh ? "签名密钥" : "key id";

    public string Error => Zh ? "错误" : "error";

    public string BadStatus(string? status) => Zh
        ? $"--status 应为 open（未整改）、fix-reported（待验收）或 cleared（已销号），而不是“{status}”。"
        : $"--status must be open, fix-reported or cleared, not '{status}'.";

    public string StatusOf(LedgerItem item)
    {
        var status = item.Status switch
        {
            LedgerItemStatus.Open => Zh ? "未整改" : "open",
            LedgerItemStatus.FixReported => Zh ? "已报整改，待上级验收" : "fix reported, awaiting the tier above",
            LedgerItemStatus.Cleared => Zh ? "已销号" : "cleared",
            _ => "-",
        };
        return item.Overdue ? status + (Zh ? "（逾期）" : " (overdue)") : status;
    }

    public string Kind(LedgerStepKind kind, bool byTierAbove) => kind switch
    {
        LedgerStepKind.List => byTierAbove ? (Zh ? "挂牌（上级发现）" : "listed (by the tier above)") : (Zh ? "挂牌" : "listed"),
        LedgerStepKind.FixReported => Zh ? "报告整改" : "fix reported",
        LedgerStepKind.Accepted => Zh ? "验收销号" : "accepted (cleared)",
        LedgerStepKind.SentBack => Zh ? "退回重改" : "sent back",
        _ => "-",
    };

    public string Describe(LedgerItem item) => Zh
        ? $"{item.NodeId} 台账 {item.UnitId} 第 {item.ItemId} 项（{item.Entry.Period}，{item.Entry.Category}）：{item.Entry.Problem}；措施：{item.Entry.Measure}；时限 {item.Entry.Deadline}；责任人 {item.Entry.Responsible}；{StatusOf(item)}"
        : $"{item.NodeId} ledger {item.UnitId} item {item.ItemId} ({item.Entry.Period}, {item.Entry.Category}): {item.Entry.Problem}; measure: {item.Entry.Measure}; deadline {item.Entry.Deadline}; responsible {item.Entry.Responsible}; {StatusOf(item)}";

    public string Recorded(LedgerStep step, LedgerItem item, string keyId) => Zh
        ? $"{step.NodeId} 已{Kind(step.Kind, step.ByTierAbove)}：{item.UnitId} 第 {item.ItemId} 项，现为{StatusOf(item)}（第 {step.Sequence} 步，经办人 {step.Account}，签名密钥 {keyId}）"
        : $"{step.NodeId} recorded {Kind(step.Kind, step.ByTierAbove)}: {item.UnitId} item {item.ItemId}, now {StatusOf(item)} (step {step.Sequence}, by {step.Account}, signed with key {keyId})";

    public string Counted(string nodeId, int listed, int cleared, int overdue) => Zh
        ? $"{nodeId}：共 {listed} 项，已销号 {cleared} 项，逾期未销号 {overdue} 项"
        : $"{nodeId}: {listed} items, {cleared} cleared, {overdue} overdue";
}
