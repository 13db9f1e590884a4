using System.CommandLine;
using System.Globalization;
using System.Text;
using Federation.Aggregator.Catalogues;
using Federation.Protos.V1;
using Google.Protobuf;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>`import`: a sheet of hosted units' figures through ImportSheet; `template`: the sheet to fill; `catalogue`: the indicators a node knows.</summary>
internal static class ImportCommands
{
    public static IEnumerable<Command> All() => [Import(), Template(), Catalogue()];

    private static Command Import()
    {
        var node = NodeCommandLine.NodeOption();
        var period = new Option<string>("--period") { Description = "The period every row reports: 2026, 2026-H1, 2026-Q1 or 2026-03", Required = true };
        var file = new Argument<FileInfo>("FILE") { Description = "An .xlsx or a CSV (UTF-8 or GBK) sheet, one row per unit" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Store nothing: list the problems, or what each unit would change" };
        var replace = new Option<bool>("--replace") { Description = "Each row is the unit's whole report: indicators its previous version had and the row lacks are removed" };
        var update = new Option<bool>("--update") { Description = "Merge each row into the unit's previous version: only the cells filled in change" };
        var json = new Option<bool>("--json") { Description = "Print the answer as proto JSON" };
        var command = new Command("import", "Import a sheet of hosted units' figures for a period: all rows are stored, or none when any cell is wrong.")
        {
            node, period, file, dryRun, replace, update, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var clean = false;
            var exit = await NodeCommandLine.CallAsync(parse, async () =>
            {
                if (parse.GetValue(replace) && parse.GetValue(update))
                {
                    throw new FormatException("--replace and --update exclude each other.");
                }

                var path = parse.GetValue(file)!;
                if (!path.Exists)
                {
                    throw new FormatException($"no file at '{path.FullName}'.");
                }

                var request = new ImportSheetRequest
                {
                    FileBytes = ByteString.CopyFrom(await File.ReadAllBytesAsync(path.FullName, cancellationToken)),
                    FileName = path.Name,
                    Period = parse.GetValue(period)!,
                    DryRun = parse.GetValue(dryRun),
                    Mode = parse.GetValue(replace) ? SubmitMode.Replace : parse.GetValue(update) ? SubmitMode.Update : SubmitMode.Unspecified,
                };
                var chinese = CliLanguage.IsChinese(parse);
                using var channel = CliConnection.Open(parse, node);
                var catalogue = CatalogueIndex.Create((await new FederationService.FederationServiceClient(channel)
                    .GetCatalogueAsync(new GetCatalogueRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Catalogue);
                var response = await new ImportService.ImportServiceClient(channel).ImportSheetAsync(
                    request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
                clean = response.Problems.Count == 0;
                if (parse.GetValue(json))
                {
                    Console.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(response));
                }
                else
                {
                    Write(response, request, catalogue, chinese);
                }
            });
            return exit != 0 ? exit : clean ? 0 : 1;
        });
        return command;
    }

    private static void Write(ImportSheetResponse response, ImportSheetRequest request, CatalogueIndex catalogue, bool chinese)
    {
        if (response.Problems.Count > 0)
        {
            Console.WriteLine(chinese
                ? string.Create(CultureInfo.InvariantCulture, $"{request.FileName} 有 {response.Problems.Count + response.OmittedProblemCount} 处问题，未保存任何数据：")
                : string.Create(CultureInfo.InvariantCulture, $"{request.FileName} has {response.Problems.Count + response.OmittedProblemCount} problem(s); nothing was stored:"));
            var table = new Table().AddColumns(chinese
                ? ["工作表", "行", "列", "单位", "指标", "问题"]
                : ["sheet", "row", "column", "unit", "indicator", "problem"]);
            foreach (var problem in response.Problems)
            {
                var indicator = problem.IndicatorId.Length > 0 && catalogue.TryGet(problem.IndicatorId, out var known)
                    ? $"{(chinese ? known.NameZh : known.NameEn)} [{problem.IndicatorId}]"
                    : problem.IndicatorId;
                table.AddRow(
                    Markup.Escape(problem.Sheet),
                    problem.Row == 0 ? string.Empty : problem.Row.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(problem.Column),
                    Markup.Escape(problem.UnitId),
                    Markup.Escape(indicator),
                    Markup.Escape(chinese ? problem.MessageZh : problem.MessageEn));
            }

            QueryCommands.Write(table);
            if (response.OmittedProblemCount > 0)
            {
                Console.WriteLine(chinese
                    ? string.Create(CultureInfo.InvariantCulture, $"另有 {response.OmittedProblemCount} 处问题未列出")
                    : string.Create(CultureInfo.InvariantCulture, $"and {response.OmittedProblemCount} more not listed"));
            }

            return;
        }

        var text = new StringBuilder();
        text.AppendLine(request.DryRun
            ? (chinese ? $"试导入 {request.Period}：未保存；将会保存：" : $"dry run for {request.Period}: nothing stored; an import would store:")
            : (chinese ? $"已导入 {request.Period}，{response.Units.Count} 个单位：" : $"imported {request.Period}, {response.Units.Count} unit(s):"));
        foreach (var unit in response.Units)
        {
            var name = unit.DisplayName.Length > 0 ? $"{unit.UnitId} {unit.DisplayName}" : unit.UnitId;
            text.AppendLine(unit.IsNew
                ? (chinese ? $"  {name}：新报告，第 {unit.Version} 版" : $"  {name}: new report, version {unit.Version}")
                : unit.Changes.Count == 0
                    ? (chinese ? $"  {name}：与上一版相同（第 {unit.Version} 版）" : $"  {name}: no change from the previous version (version {unit.Version})")
                    : (chinese ? $"  {name}：更正为第 {unit.Version} 版" : $"  {name}: correction, version {unit.Version}"));
            if (!unit.IsNew)
            {
                foreach (var line in SubmitText.Changes(unit.Changes, catalogue, chinese))
                {
                    text.AppendLine("    " + line);
                }
            }
        }

        Console.WriteLine(text.ToString().TrimEnd());
    }

    private static Command Template()
    {
        var node = NodeCommandLine.NodeOption();
        var period = new Option<string>("--period") { Description = "The period the sheet is for: 2026, 2026-H1, 2026-Q1 or 2026-03", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Where to write the .xlsx (default: <node>-<period>.xlsx here)" };
        var units = new Option<string[]>("--unit") { Description = "Only this hosted unit (repeat for more); default: every unit your scope reaches", AllowMultipleArgumentsPerToken = false };
        var command = new Command("template", "Write the .xlsx to fill for a period: hosted units down the side, indicators across, a note and a check on every column.")
        {
            node, period, output, units,
        };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            var chinese = CliLanguage.IsChinese(parse);
            var request = new GetSheetTemplateRequest { Period = parse.GetValue(period)!, Language = chinese ? "zh" : "en" };
            request.UnitIds.AddRange(parse.GetValue(units) ?? []);
            using var channel = CliConnection.Open(parse, node);
            var response = await new ImportService.ImportServiceClient(channel).GetSheetTemplateAsync(
                request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            var path = parse.GetValue(output)?.FullName ?? Path.GetFullPath(response.FileName);
            await File.WriteAllBytesAsync(path, response.FileBytes.ToByteArray(), cancellationToken);
            Console.WriteLine(chinese
                ? string.Create(CultureInfo.InvariantCulture, $"已写入 {path}：{response.UnitCount} 个单位 × {response.IndicatorCount} 项指标；填好后用 federation import 导入")
                : string.Create(CultureInfo.InvariantCulture, $"wrote {path}: {response.UnitCount} unit(s) × {response.IndicatorCount} indicators; fill it in and load it with federation import"));
        }));
        return command;
    }

    private static Command Catalogue()
    {
        var node = NodeCommandLine.NodeOption();
        var json = new Option<bool>("--json") { Description = "Print the catalogue as proto JSON" };
        var command = new Command("catalogue", "List the indicators a node's catalogue holds: names, kind, unit and target.") { node, json };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var catalogue = (await new FederationService.FederationServiceClient(channel)
                .GetCatalogueAsync(new GetCatalogueRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Catalogue;
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(catalogue));
                return;
            }

            var chinese = CliLanguage.IsChinese(parse);
            Console.WriteLine(chinese
                ? string.Create(CultureInfo.InvariantCulture, $"指标目录第 {catalogue.Version} 版，共 {catalogue.Indicators.Count} 项")
                : string.Create(CultureInfo.InvariantCulture, $"catalogue version {catalogue.Version}, {catalogue.Indicators.Count} indicators"));
            var table = new Table().AddColumns(chinese ? ["编码", "名称", "类型", "单位", "目标"] : ["id", "name", "kind", "unit", "target"]);
            foreach (var indicator in catalogue.Indicators)
            {
                table.AddRow(
                    Markup.Escape(indicator.Id),
                    Markup.Escape(chinese ? indicator.NameZh : indicator.NameEn),
                    Markup.Escape(KindText(indicator, chinese)),
                    Markup.Escape(indicator.Unit),
                    Markup.Escape(indicator.Target?.Description ?? string.Empty));
            }

            QueryCommands.Write(table);
        }));
        return command;
    }

    private static string KindText(Indicator indicator, bool chinese) => indicator.Kind switch
    {
        ValueKind.Count when indicator.LedgerCount != LedgerCount.Unspecified => chinese ? "计数（由整改台账统计，不填报）" : "count (from the rectification ledger, not reported)",
        ValueKind.Count => chinese ? "计数" : "count",
        ValueKind.Flag => chinese ? "是/否" : "yes/no",
        ValueKind.Measure => chinese ? "数值" : "measure",
        ValueKind.Category => (chinese ? "类别：" : "category: ") +
            string.Join(chinese ? "、" : ", ", indicator.Categories.Select(c => chinese ? c.NameZh : c.Code)),
        ValueKind.Ratio => chinese ? "比率" : "ratio",
        _ => string.Empty,
    };
}
