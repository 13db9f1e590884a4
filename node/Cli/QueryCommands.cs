using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Federation.Aggregator.Catalogues;
using Federation.Aggregator.Proofs;
using Federation.Aggregator.Promotion;
using Federation.Node.Application;
using Federation.Node.Queries;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Federation.Node.Cli;

/// <summary>The leaders' commands: pull, drill-down, completeness, targets, history, proofs and audits.</summary>
public static class QueryCommands
{
    internal static IEnumerable<Command> All() => [Pull(), Drill(), Completeness(), Targets(), History(), Promotion(), Proof(), Verify(), Audit(), Flags()];

    /// <summary>Writes a table, wide enough to read when the output goes to a file or a pipe.</summary>
    public static void Write(IRenderable renderable)
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 160;
            AnsiConsole.Profile.Capabilities.Ansi = false;
        }

        AnsiConsole.Write(renderable);
    }

    /// <summary>
    /// Reads a keys file: a JSON object of node id to a base64 raw Ed25519 public key, or to a list of
    /// them for a node that rotated its key (<c>{"3701": ["new", "old"]}</c>); signatures pick theirs by key id.
    /// </summary>
    public static TrustedKeys ReadKeys(string path) =>
        new(JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(path))!
            .Select(static k => KeyValuePair.Create(k.Key, (IReadOnlyList<byte[]>)(k.Value.ValueKind == JsonValueKind.Array
                ? [.. k.Value.EnumerateArray().Select(static e => Convert.FromBase64String(e.GetString()!))]
                : [Convert.FromBase64String(k.Value.GetString()!)]))));

    private static Option<string> Period() => new("--period") { Description = "The period: 2026, 2026-H1, 2026-Q1 or 2026-03", Required = true };

    private static Option<string?> Of() => new("--of") { Description = "A node below the one asked (default: that node itself)" };

    private static Option<bool> Json() => new("--json") { Description = "Print proto JSON instead of a table" };

    private static string ToJson(IMessage message) => new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(message);

    private static Command Pull()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var of = Of();
        var seconds = new Option<double>("--timeout") { Description = "Seconds the pull may take (default 10)", DefaultValueFactory = static _ => 10 };
        var json = Json();
        var command = new Command("pull", "Pull fresh totals from the whole subtree under a deadline, then print them with what could not be confirmed.")
        {
            node, period, of, seconds, json,
        };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var totals = await new QueryService.QueryServiceClient(channel).GetTotalsAsync(
                new GetTotalsRequest { NodeId = parse.GetValue(of) ?? string.Empty, Period = parse.GetValue(period)!, Refresh = true },
                deadline: DateTime.UtcNow.AddSeconds(parse.GetValue(seconds)),
                cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(totals));
                return;
            }

            Write(TotalsTable.Render(totals, CliLanguage.IsChinese(parse)));
        }));
        return command;
    }

    private static Command Flags()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var pageSize = new Option<int>("--page-size") { Description = "Flags asked for per call, 1 to 1000; every page is read", DefaultValueFactory = static _ => 1000 };
        var json = Json();
        var command = new Command("flags", "List the rule warnings and outliers among a node's hosted units for a period, for reviewers.") { node, period, pageSize, json };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var client = new ReportingService.ReportingServiceClient(channel);
            var flags = new ListFlagsResponse();
            var request = new ListFlagsRequest { Period = parse.GetValue(period)!, PageSize = parse.GetValue(pageSize) };
            do
            {
                var page = await client.ListFlagsAsync(request, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
                flags.Flags.AddRange(page.Flags);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(flags));
                return;
            }

            var chinese = CliLanguage.IsChinese(parse);
            foreach (var flag in flags.Flags)
            {
                Console.WriteLine($"{flag.UnitId} {flag.IndicatorId}: {(chinese ? flag.MessageZh : flag.MessageEn)}");
            }

            Console.WriteLine(chinese
                ? string.Create(CultureInfo.InvariantCulture, $"共 {flags.Flags.Count} 条")
                : string.Create(CultureInfo.InvariantCulture, $"{flags.Flags.Count} flag(s)"));
        }));
        return command;
    }

    private static Command Drill()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var of = Of();
        var sort = new Option<string?>("--sort") { Description = "The indicator to rank by: its id, Chinese or English name (default: most targets missed first)" };
        var descending = new Option<bool>("--desc") { Description = "Largest first" };
        var json = Json();
        var command = new Command("drill", "Rank a node's children and hosted units by an indicator (晾晒排名).") { node, period, of, sort, descending, json };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var chinese = CliLanguage.IsChinese(parse);
            var sortId = string.Empty;
            if (parse.GetValue(sort) is { Length: > 0 } named)
            {
                var catalogue = (await new FederationService.FederationServiceClient(channel)
                    .GetCatalogueAsync(new GetCatalogueRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Catalogue;
                sortId = IndicatorNamed(catalogue, named, chinese);
            }

            var response = await AllPages.GetDrillDownAsync(new QueryService.QueryServiceClient(channel),
                new GetDrillDownRequest
                {
                    NodeId = parse.GetValue(of) ?? string.Empty, Period = parse.GetValue(period)!, SortIndicatorId = sortId, Descending = parse.GetValue(descending),
                    PageSize = LocalQueries.MaxDrillPageSize,
                },
                () => new CallOptions(deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken));
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(response));
                return;
            }

            Write(DrillTable(response, sortId, chinese));
        }));
        return command;
    }

    /// <summary>The id of the indicator named by its id, Chinese or English name (case and spaces aside).</summary>
    private static string IndicatorNamed(Catalogue catalogue, string name, bool chinese)
    {
        static string Key(string text) => string.Concat(text.Where(static c => !char.IsWhiteSpace(c))).ToLowerInvariant();
        var key = Key(name);
        return catalogue.Indicators.FirstOrDefault(i => Key(i.Id) == key || Key(i.NameZh) == key || Key(i.NameEn) == key)?.Id
            ?? throw new FormatException(chinese ? $"指标目录中没有“{name}”；federation catalogue 列出全部指标" : $"no indicator is named '{name}'; federation catalogue lists them");
    }

    /// <summary>Rows ranked by the indicator; without one, the rows missing most targets first (后进), then by id.</summary>
    public static Table DrillTable(GetDrillDownResponse response, string sortId, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(response);
        var rows = sortId.Length > 0
            ? response.Rows.ToList()
            : [.. response.Rows.OrderByDescending(static r => r.UnmetIndicatorIds.Count).ThenBy(static r => r.SourceId, StringComparer.Ordinal)];
        var sortName = rows.SelectMany(static r => r.Totals).FirstOrDefault(t => t.Indicator.Id == sortId)?.Indicator is { } indicator
            ? (chinese ? indicator.NameZh : indicator.NameEn)
            : sortId;
        var title = sortId.Length > 0
            ? (chinese ? $"{response.NodeId} · {response.Period} · 按{sortName}排名" : $"{response.NodeId} · {response.Period} · ranked by {sortName}")
            : (chinese ? $"{response.NodeId} · {response.Period} · 未达标项多者在前" : $"{response.NodeId} · {response.Period} · most targets missed first");
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn(chinese ? "单位" : "Unit").AddColumn(chinese ? "已报" : "Reported");
        if (sortId.Length > 0)
        {
            table.AddColumn(new TableColumn(Markup.Escape(sortName)).RightAligned());
        }

        table.AddColumn(chinese ? "未达标（后进）" : "Short of targets (后进)");
        var names = rows.SelectMany(static r => r.Totals).Select(static t => t.Indicator).DistinctBy(static i => i.Id)
            .ToDictionary(static i => i.Id, i => chinese ? i.NameZh : i.NameEn, StringComparer.Ordinal);
        var rank = 0;
        foreach (var row in rows)
        {
            rank++;
            var cells = new List<string>
            {
                (sortId.Length > 0 ? row.Rank : (uint)rank).ToString(CultureInfo.InvariantCulture),
                Markup.Escape($"{row.SourceId} {row.DisplayName}".Trim()),
                row.Coverage is null ? "-" : $"{row.Coverage.ReportedLeafCount}/{row.Coverage.ExpectedLeafCount}",
            };
            if (sortId.Length > 0)
            {
                var figure = row.Totals.FirstOrDefault(t => t.Indicator.Id == sortId);
                cells.Add(Markup.Escape(figure is null ? "-" : TotalsTable.FormatValue(figure, chinese)));
            }

            cells.Add(Markup.Escape(string.Join(chinese ? "、" : ", ", row.UnmetIndicatorIds.Select(id => names.GetValueOrDefault(id, id)))));
            table.AddRow([.. cells]);
        }

        return table;
    }

    private static Command Completeness()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var of = Of();
        var json = Json();
        var command = new Command("completeness", "List the units below a node that have not reported or reported late (摸清底数).") { node, period, of, json };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await AllPages.GetCompletenessAsync(new QueryService.QueryServiceClient(channel),
                new GetCompletenessRequest { NodeId = parse.GetValue(of) ?? string.Empty, Period = parse.GetValue(period)!, PageSize = LocalQueries.MaxWalkPageSize },
                () => new CallOptions(deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken));
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(response));
                return;
            }

            Write(CompletenessTable(response, CliLanguage.IsChinese(parse)));
        }));
        return command;
    }

    public static Table CompletenessTable(GetCompletenessResponse response, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(response);
        var due = response.DueTime?.ToDateTimeOffset().ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? (chinese ? "无" : "none");
        var title = chinese ? $"{response.NodeId} · {response.Period} · 截止 {due}（北京时间）" : $"{response.NodeId} · {response.Period} · due {due} (UTC+8)";
        var table = new Table().Title(Markup.Escape(title))
            .AddColumn(chinese ? "节点" : "Node").AddColumn(chinese ? "层级" : "Tier").AddColumn(new TableColumn(chinese ? "应报" : "Expected").RightAligned())
            .AddColumn(new TableColumn(chinese ? "已报" : "Reported").RightAligned()).AddColumn(new TableColumn(chinese ? "按时" : "On time").RightAligned())
            .AddColumn(chinese ? "最新" : "Fresh");
        foreach (var n in response.Nodes)
        {
            var asOf = n.AsOfTime?.ToDateTimeOffset().ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? (chinese ? "从未" : "never");
            table.AddRow(Markup.Escape($"{n.NodeId} {n.DisplayName}"), Markup.Escape(n.Tier), $"{n.ExpectedLeafCount}", $"{n.ReportedLeafCount}", $"{n.OnTimeLeafCount}",
                n.Stale ? (chinese ? $"[red]未应答[/]（数据截至 {asOf}，下属单位情况不明）" : $"[red]stale[/] (as of {asOf}; its units unknown)") : (chinese ? "是" : "yes"));
        }

        static string Units(IEnumerable<LeafStatus> leaves, bool chinese) =>
            string.Join(chinese ? "、" : ", ", leaves.Select(static l => $"{l.UnitId} {l.DisplayName}".Trim()));
        table.Caption(Markup.Escape(chinese
            ? $"未报：{Units(response.Missing, chinese)}  ·  迟报：{Units(response.Late, chinese)}"
            : $"not reported: {Units(response.Missing, chinese)}  ·  late: {Units(response.Late, chinese)}"));
        return table;
    }

    private static Command Targets()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var of = Of();
        var json = Json();
        var command = new Command("targets", "Target attainment at a node and the units below it that fall short (后进).") { node, period, of, json };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await AllPages.GetTargetsAsync(new QueryService.QueryServiceClient(channel),
                new GetTargetsRequest { NodeId = parse.GetValue(of) ?? string.Empty, Period = parse.GetValue(period)!, PageSize = LocalQueries.MaxWalkPageSize },
                () => new CallOptions(deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken));
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(response));
                return;
            }

            var chinese = CliLanguage.IsChinese(parse);
            var table = new Table().Title(Markup.Escape(chinese ? $"{response.NodeId} · {response.Period} · 目标达成" : $"{response.NodeId} · {response.Period} · targets"))
                .AddColumn(chinese ? "指标" : "Indicator").AddColumn(chinese ? "目标" : "Target").AddColumn(chinese ? "状态" : "Status")
                .AddColumn(chinese ? "未达标单位" : "Units short");
            foreach (var t in response.Targets)
            {
                table.AddRow(Markup.Escape(chinese ? t.Indicator.NameZh : t.Indicator.NameEn), Markup.Escape(t.Attainment.Target.Description),
                    t.Attainment.Met ? (chinese ? "[green]达标[/]" : "[green]met[/]") : (chinese ? "[red]未达标[/]" : "[red]short[/]"),
                    Markup.Escape(string.Join(chinese ? "、" : ", ", t.LaggingUnitIds)));
            }

            Write(table);
        }));
        return command;
    }

    private static Command History()
    {
        var node = NodeCommandLine.NodeOption();
        var of = Of();
        var indicator = new Option<string>("--indicator") { Description = "The indicator: its id, Chinese or English name", Required = true };
        var from = new Option<string>("--from") { Description = "The first period", Required = true };
        var to = new Option<string>("--to") { Description = "The last period (same type)", Required = true };
        var json = Json();
        var command = new Command("history", "One indicator of one node, or of a unit it hosts, across periods.") { node, of, indicator, from, to, json };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var chinese = CliLanguage.IsChinese(parse);
            var catalogue = (await new FederationService.FederationServiceClient(channel)
                .GetCatalogueAsync(new GetCatalogueRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Catalogue;
            var response = await AllPages.GetHistoryAsync(new QueryService.QueryServiceClient(channel),
                new GetHistoryRequest
                {
                    NodeId = parse.GetValue(of) ?? string.Empty, IndicatorId = IndicatorNamed(catalogue, parse.GetValue(indicator)!, chinese),
                    FromPeriod = parse.GetValue(from)!, ToPeriod = parse.GetValue(to)!, PageSize = LocalQueries.MaxHistoryPageSize,
                },
                () => new CallOptions(deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken));
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(response));
                return;
            }

            var table = new Table().Title(Markup.Escape($"{response.NodeId} · {(chinese ? response.Indicator.NameZh : response.Indicator.NameEn)}"))
                .AddColumn(chinese ? "期别" : "Period").AddColumn(new TableColumn(chinese ? "数值" : "Value").RightAligned()).AddColumn(chinese ? "已报" : "Reported");
            foreach (var p in response.Points)
            {
                table.AddRow(p.Period, p.HasData ? Markup.Escape(TotalsTable.FormatValue(p.Total, chinese)) : (chinese ? "[grey]无数据[/]" : "[grey]no data[/]"),
                    p.HasData ? $"{p.Coverage.ReportedLeafCount}/{p.Coverage.ExpectedLeafCount}" : "-");
            }

            Write(table);
        }));
        return command;
    }

    private static Command Promotion()
    {
        var node = NodeCommandLine.NodeOption();
        var of = Of();
        var indicator = new Option<string?>("--indicator") { Description = "The graded indicator (default classification_grade, 分类定级)" };
        var from = new Option<string>("--from") { Description = "The period of the starting grades, e.g. 2025", Required = true };
        var to = new Option<string>("--to") { Description = "The period of the ending grades (same type, later), e.g. 2026", Required = true };
        var json = Json();
        var command = new Command("promotion", "How many units below a node moved up from each grade between two periods, against the targets (晋位升级).")
        {
            node, of, indicator, from, to, json,
        };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new QueryService.QueryServiceClient(channel).GetPromotionAsync(
                new GetPromotionRequest
                {
                    NodeId = parse.GetValue(of) ?? string.Empty, IndicatorId = parse.GetValue(indicator) ?? string.Empty,
                    FromPeriod = parse.GetValue(from)!, ToPeriod = parse.GetValue(to)!,
                },
                deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(ToJson(response));
                return;
            }

            Write(PromotionTable(response, CliLanguage.IsChinese(parse)));
        }));
        return command;
    }

    public static Table PromotionTable(GetPromotionResponse response, bool chinese)
    {
        ArgumentNullException.ThrowIfNull(response);
        var names = response.Grades.ToDictionary(static g => g.Code, g => chinese ? g.NameZh : g.NameEn, StringComparer.Ordinal);
        var table = new Table().Title(Markup.Escape(chinese
                ? $"{response.NodeId} · {response.FromPeriod} → {response.ToPeriod} · 晋位升级"
                : $"{response.NodeId} · {response.FromPeriod} → {response.ToPeriod} · promotion"))
            .AddColumns(chinese ? ["起始等次", "单位数", "晋位", "持平", "下降", "晋位比例", "目标", "状态"] : ["from grade", "units", "up", "same", "down", "share up", "target", "status"]);
        foreach (var g in response.Grades)
        {
            table.AddRow(
                Markup.Escape(chinese ? g.NameZh : g.NameEn),
                $"{g.StartCount}", $"{g.MovedUpCount}", $"{g.StayedCount}", $"{g.MovedDownCount}",
                g.StartCount == 0 ? "-" : ((double)g.MovedUpCount / g.StartCount).ToString("P1", CultureInfo.InvariantCulture),
                g.TargetPercent == 0 ? "-" : $"≥ {g.TargetPercent}%",
                g.TargetPercent == 0 || g.StartCount == 0 ? string.Empty : g.Met ? (chinese ? "[green]达标[/]" : "[green]met[/]") : (chinese ? "[red]未达标[/]" : "[red]short[/]"));
        }

        var notMoved = string.Join(chinese ? "、" : ", ", response.NotMoved.Select(u =>
            $"{u.UnitId} {u.DisplayName} ({names.GetValueOrDefault(u.FromCode, u.FromCode)}→{names.GetValueOrDefault(u.ToCode, u.ToCode)})"));
        var caption = chinese
            ? $"未晋位：{notMoved}{(response.NotMovedOmittedCount > 0 ? $" 等，另有 {response.NotMovedOmittedCount} 个" : string.Empty)}；缺少等次：{response.UngradedCount} 个"
            : $"not moved up: {notMoved}{(response.NotMovedOmittedCount > 0 ? $" and {response.NotMovedOmittedCount} more" : string.Empty)}; ungraded: {response.UngradedCount}";
        if (response.UnansweredNodeIds.Count > 0)
        {
            var unlisted = PromotionTally.UnansweredCountOf(response) - (uint)response.UnansweredNodeIds.Count;
            caption += chinese
                ? $"；未应答：{string.Join("、", response.UnansweredNodeIds)}{(unlisted > 0 ? $" 等，另有 {unlisted} 个" : string.Empty)}（{response.UnansweredLeafCount} 个单位未计入）"
                : $"; did not answer: {string.Join(", ", response.UnansweredNodeIds)}{(unlisted > 0 ? $" and {unlisted} more" : string.Empty)} ({response.UnansweredLeafCount} units not counted)";
        }

        return table.Caption(Markup.Escape(caption));
    }

    private static Command Proof()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var unit = new Option<string>("--unit") { Description = "The unit whose report to prove", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the proof (binary federation.v1.Proof)", Required = true };
        var command = new Command("proof", "Fetch the signed chain linking a unit's report to a node's figures.") { node, period, unit, output };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new QueryService.QueryServiceClient(channel).GetProofAsync(
                new GetProofRequest { Period = parse.GetValue(period)!, UnitId = parse.GetValue(unit)! },
                deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            await File.WriteAllBytesAsync(parse.GetValue(output)!.FullName, response.Proof.ToByteArray(), cancellationToken);
            Console.WriteLine($"proof of {response.Proof.UnitId} {response.Proof.Period}: {response.Proof.Links.Count} signed summaries, written to {parse.GetValue(output)!.FullName}");
        }));
        return command;
    }

    private static Command Verify()
    {
        var proof = new Option<FileInfo>("--proof") { Description = "A proof written by `federation proof`", Required = true };
        var keys = new Option<FileInfo>("--keys") { Description = "JSON object of node id to base64 public key, as you trust them", Required = true };
        var top = new Option<string>("--top") { Description = "The node whose figures the report must be inside (the proof's last link)", Required = true };
        var digest = new Option<string>("--digest") { Description = "Hex SHA-256 of the exact summary of --top you asked about (optional)" };
        var command = new Command("verify", "Check a proof offline with the public keys alone.") { proof, keys, top, digest };
        command.SetAction(parse =>
        {
            var chain = Protos.V1.Proof.Parser.ParseFrom(File.ReadAllBytes(parse.GetValue(proof)!.FullName));
            var expectedDigest = parse.GetValue(digest) is { Length: > 0 } hex ? Convert.FromHexString(hex) : [];
            var result = ProofVerifier.Verify(chain, ReadKeys(parse.GetValue(keys)!.FullName), parse.GetValue(top)!, expectedDigest);
            if (!result.IsValid)
            {
                Console.Error.WriteLine($"NOT VERIFIED: {result.Message}");
                return 1;
            }

            Console.WriteLine($"verified: the report of {chain.UnitId} (version {result.Report!.Version}) is inside " +
                              string.Join(" ⊂ ", result.Summaries.Select(static s => $"{s.NodeId} v{s.Version}")) + $" for {chain.Period}");
            return 0;
        });
        return command;
    }

    private static Command Audit()
    {
        var node = NodeCommandLine.NodeOption();
        var period = Period();
        var of = Of();
        var keys = new Option<FileInfo?>("--keys") { Description = "JSON object of node id to base64 public key; signatures of listed nodes are checked" };
        var command = new Command("audit", "Recompute a node's figures from the inputs it cites and report any difference.") { node, period, of, keys };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new QueryService.QueryServiceClient(channel).GetAuditBundleAsync(
                new GetAuditBundleRequest { NodeId = parse.GetValue(of) ?? string.Empty, Period = parse.GetValue(period)! },
                deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            var catalogue = CatalogueIndex.Create((await new FederationService.FederationServiceClient(channel)
                .GetCatalogueAsync(new GetCatalogueRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Catalogue);
            var trusted = parse.GetValue(keys) is { } file ? ReadKeys(file.FullName) : TrustedKeys.None;
            var result = Auditor.Audit(response.Bundle, catalogue, trusted);
            foreach (var difference in result.Differences)
            {
                Console.WriteLine($"difference: {difference}");
            }

            Console.WriteLine(result.IsClean
                ? $"audit clean: {result.Summary!.NodeId} {result.Summary.Period} v{result.Summary.Version} equals the merge of its {result.Summary.Contributions.Count} inputs"
                : $"audit found {result.Differences.Count} difference(s)");
            return result.IsClean ? 0 : 1;
        });
        return command;
    }
}
