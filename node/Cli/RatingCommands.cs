using System.CommandLine;
using System.Globalization;
using Federation.Aggregator.Ratings;
using Federation.Node.Import;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>
/// `federation rating set|show|flags|scheme`: clients of RatingService. Tables and messages in Chinese or
/// English (--lang, default from LANG); errors are one line naming the status and reason; --json prints proto JSON.
/// </summary>
internal static class RatingCommands
{
    private static readonly JsonFormatter s_json = new(JsonFormatter.Settings.Default.WithIndentation().WithFormatDefaultValues(true));

    public static IEnumerable<Command> All() =>
    [
        new Command("rating", "Star rating of the units directly below a node (星级评定): enter scores, show the ranking, list two-year flags.")
        {
            Set(), Show(), Flags(), Scheme(),
        },
    ];

    private static Option<string> Year() => new("--year") { Description = "The rated year, e.g. 2026", Required = true };

    private static Option<bool> Json() => new("--json") { Description = "Print proto JSON instead of a table" };

    private static Option<string?> Of() => new("--of") { Description = "A rating node below the one asked (default: that node itself)" };

    private static Command Set()
    {
        var node = NodeCommandLine.NodeOption();
        var year = Year();
        var file = new Option<FileInfo>("--file")
        {
            Description = "Scores: a CSV (UTF-8 or GBK) or an .xlsx (first sheet) with columns unit_id,period,item_id,points (points with at most one decimal; for a bonus or penalty item, " +
                "the number of occurrences), or the proto JSON of a SetScoresRequest",
            Required = true,
        };
        var replace = new Option<bool>("--replace") { Description = "Each unit's rows are its whole scores for the year (assessments and adjustments not in the file are removed)" };
        var json = Json();
        var command = new Command("set", "Enter units' scores for a year (a reviewer); prints the new ranking.") { node, year, file, replace, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var client = new RatingService.RatingServiceClient(channel);
            var path = parse.GetValue(file)!.FullName;
            SetScoresRequest request;
            if (Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase))
            {
                request = new JsonParser(JsonParser.Settings.Default).Parse<SetScoresRequest>(await File.ReadAllTextAsync(path, cancellationToken));
            }
            else
            {
                var scheme = (await client.GetRatingSchemeAsync(new GetRatingSchemeRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Scheme;
                request = ReadRows(ScoreRows(path, await File.ReadAllBytesAsync(path, cancellationToken), text), scheme, text);
            }

            request.Year = parse.GetValue(year)!;
            foreach (var unit in request.Units)
            {
                unit.Replace |= parse.GetValue(replace);
            }

            var response = await client.SetScoresAsync(request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            var statement = RatingStatement.Parser.ParseFrom(response.Statement.StatementBytes);
            if (parse.GetValue(json))
            {
                Console.WriteLine("{\"response\": " + s_json.Format(response) + ",\n\"statement\": " + s_json.Format(statement) + "}");
                return;
            }

            Console.WriteLine(response.Changed ? text.NewVersion(statement) : text.Unchanged(statement));
            QueryCommands.Write(Ranking(statement, text));
        }));
        return command;
    }

    private static Command Show()
    {
        var node = NodeCommandLine.NodeOption();
        var year = Year();
        var of = Of();
        var version = new Option<ulong>("--version") { Description = "A version of the year's statement (default: the current one)" };
        var unit = new Option<string?>("--unit") { Description = "Also show this unit's entered scores, item by item" };
        var json = Json();
        var command = new Command("show", "Show a node's signed star ranking for a year (晾晒排名).") { node, year, of, version, unit, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new RatingService.RatingServiceClient(channel).GetRatingsAsync(new GetRatingsRequest
            {
                NodeId = parse.GetValue(of) ?? string.Empty,
                Year = parse.GetValue(year)!,
                Version = parse.GetValue(version),
                UnitId = parse.GetValue(unit) ?? string.Empty,
            }, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            var statement = RatingStatement.Parser.ParseFrom(response.Statement.StatementBytes);
            var scores = response.UnitScoresBytes.IsEmpty ? null : UnitScores.Parser.ParseFrom(response.UnitScoresBytes);
            if (parse.GetValue(json))
            {
                Console.WriteLine("{\"response\": " + s_json.Format(response) + ",\n\"statement\": " + s_json.Format(statement) +
                    (scores is null ? string.Empty : ",\n\"unitScores\": " + s_json.Format(scores)) + "}");
                return;
            }

            Console.WriteLine(text.Heading(statement, response.PreviousVersion));
            QueryCommands.Write(Ranking(statement, text));
            if (statement.UnratedUnitIds.Count > 0)
            {
                Console.WriteLine(text.Unrated(statement.UnratedUnitIds));
            }

            if (scores is not null)
            {
                QueryCommands.Write(ScoresTable(scores, statement.Scheme, text));
            }
        }));
        return command;
    }

    private static Command Flags()
    {
        var node = NodeCommandLine.NodeOption();
        var year = Year();
        var of = Of();
        var json = Json();
        var command = new Command("flags", "Units at five stars, or at three or below, two years running, and what follows.") { node, year, of, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var client = new RatingService.RatingServiceClient(channel);
            var request = new ListRatingFlagsRequest { NodeId = parse.GetValue(of) ?? string.Empty, Year = parse.GetValue(year)!, PageSize = 1000 };
            var all = new ListRatingFlagsResponse();
            do
            {
                var page = await client.ListRatingFlagsAsync(request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
                all.NodeId = page.NodeId;
                all.Year = page.Year;
                all.StatementVersion = page.StatementVersion;
                all.PreviousYearStatementVersion = page.PreviousYearStatementVersion;
                all.Flags.AddRange(page.Flags);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(json))
            {
                Console.WriteLine(s_json.Format(all));
                return;
            }

            if (all.PreviousYearStatementVersion == 0)
            {
                Console.WriteLine(text.NoPreviousYear(all.NodeId, all.Year));
                return;
            }

            var table = new Table().AddColumns(text.Unit, text.Flag, text.PreviousYearStars, text.Stars, text.Consequence);
            foreach (var flag in all.Flags)
            {
                table.AddRow(Markup.Escape(flag.UnitId), text.FlagName(flag.Kind), Stars(flag.PreviousYearStars), Stars(flag.Stars),
                    Markup.Escape(text.Zh ? flag.ConsequenceZh : flag.ConsequenceEn));
            }

            QueryCommands.Write(table);
        }));
        return command;
    }

    private static Command Scheme()
    {
        var node = NodeCommandLine.NodeOption();
        var json = Json();
        var command = new Command("scheme", "Show the scheme a node rates by: items and their maximums, weights, thresholds, quotas.") { node, json };
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, async text =>
        {
            using var channel = CliConnection.Open(parse, node);
            var scheme = (await new RatingService.RatingServiceClient(channel).GetRatingSchemeAsync(
                new GetRatingSchemeRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken)).Scheme;
            if (parse.GetValue(json))
            {
                Console.WriteLine(s_json.Format(scheme));
                return;
            }

            Console.WriteLine(text.SchemeHeading(scheme));
            var table = new Table().AddColumns(text.Part, text.Item, text.Name, text.Maximum);
            foreach (var part in scheme.Parts)
            {
                foreach (var item in part.Items)
                {
                    table.AddRow(Markup.Escape(text.Zh ? part.NameZh : part.NameEn), Markup.Escape(item.Id), Markup.Escape(text.Zh ? item.NameZh : item.NameEn), Tenths(item.MaxTenths));
                }
            }

            foreach (var (item, penalty) in scheme.BonusItems.Select(static b => (b, false)).Concat(scheme.PenaltyItems.Select(static p => (p, true))))
            {
                table.AddRow(penalty ? text.Penalty : text.Bonus, Markup.Escape(item.Id), Markup.Escape(text.Zh ? item.NameZh : item.NameEn),
                    text.PerOccurrence(Tenths(item.TenthsPerOccurrence), item.CapTenths == 0 ? null : Tenths(item.CapTenths)));
            }

            QueryCommands.Write(table);
        }));
        return command;
    }

    /// <summary>
    /// A CSV of rows unit_id,period,item_id,points (a header row naming unit_id is skipped). Points have at most one
    /// decimal and become tenths; for a bonus or penalty item the last column is the number of occurrences, and any such
    /// row sets the unit's whole adjustment set. Values are passed on as written: the node checks them.
    /// </summary>
    internal static SetScoresRequest ReadCsv(string csv, RatingScheme scheme, RatingText text) => ReadRows(SheetFile.ParseCsv(csv), scheme, text);

    /// <summary>The rows of a scores file: a CSV (UTF-8 or GBK), or the first worksheet of an .xlsx, read as the import reads sheets.</summary>
    private static IReadOnlyList<IReadOnlyList<string>> ScoreRows(string path, byte[] bytes, RatingText text)
    {
        if (!Path.GetExtension(path).Equals(".xlsx", StringComparison.OrdinalIgnoreCase))
        {
            return SheetFile.ParseCsv(SheetFile.Decode(bytes));
        }

        var sheets = SheetFile.Read(Path.GetFileName(path), bytes, out var unreadable);
        return sheets is { Count: > 0 } ? sheets[0].Rows : throw new FormatException(text.Zh ? $"无法读取 {path}：{unreadable}" : unreadable);
    }

    private static SetScoresRequest ReadRows(IReadOnlyList<IReadOnlyList<string>> rows, RatingScheme scheme, RatingText text)
    {
        var adjustmentIds = scheme.BonusItems.Concat(scheme.PenaltyItems).Select(static a => a.Id).ToHashSet(StringComparer.Ordinal);
        var request = new SetScoresRequest();
        var units = new Dictionary<string, UnitScoresEntry>(StringComparer.Ordinal);
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r].Select(static c => c.Trim()).ToList();
            if (row.All(static c => c.Length == 0) || (r == 0 && row[0].TrimStart('\uFEFF') == "unit_id"))
            {
                continue;
            }

            if (row.Count < 4)
            {
                throw new FormatException(text.CsvRow(r + 1));
            }

            var (unitId, period, itemId, value) = (row[0], row[1], row[2], row[3]);
            if (!units.TryGetValue(unitId, out var entry))
            {
                entry = new UnitScoresEntry { UnitId = unitId };
                units[unitId] = entry;
                request.Units.Add(entry);
            }

            if (adjustmentIds.Contains(itemId))
            {
                entry.Adjustments ??= new AdjustmentSet();
                entry.Adjustments.Entries.Add(new AdjustmentEntry
                {
                    ItemId = itemId,
                    Count = int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) ? count : throw new FormatException(text.CsvCount(r + 1, value)),
                });
                continue;
            }

            var assessment = entry.Assessments.FirstOrDefault(a => a.Period == period);
            if (assessment is null)
            {
                assessment = new Assessment { Period = period };
                entry.Assessments.Add(assessment);
            }

            assessment.Items.Add(new ItemScore { ItemId = itemId, PointsTenths = ParseTenths(value) ?? throw new FormatException(text.CsvPoints(r + 1, value)) });
        }

        return request;
    }

    /// <summary>Points with at most one decimal, as tenths; null when the text is not such a number.</summary>
    internal static int? ParseTenths(string text)
    {
        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var points))
        {
            return null;
        }

        var tenths = points * 10;
        return tenths == decimal.Truncate(tenths) && Math.Abs(tenths) <= int.MaxValue ? (int)tenths : null;
    }

    private static Table Ranking(RatingStatement statement, RatingText text)
    {
        var weights = statement.Scheme?.Weights ?? new SourceWeights();
        var table = new Table().AddColumns(text.Rank, text.Unit, text.Tier, text.Stars, text.Total,
            text.Monthly(weights.MonthlyPercent), text.Quarterly(weights.QuarterlyPercent), text.Annual(weights.AnnualPercent), text.Bonus, text.Penalty, text.NoteHeader);
        foreach (var unit in statement.Units)
        {
            table.AddRow(unit.Rank.ToString(CultureInfo.InvariantCulture), Markup.Escape(unit.UnitId), Markup.Escape(unit.Tier), Stars(unit.Stars),
                unit.Total.Display, unit.Monthly.Display, unit.Quarterly.Display, unit.Annual.Display, Tenths(unit.BonusTenths), Tenths(unit.PenaltyTenths),
                Markup.Escape(text.Note(unit)));
        }

        return table;
    }

    private static Table ScoresTable(UnitScores scores, RatingScheme scheme, RatingText text)
    {
        var names = scheme.Parts.SelectMany(static p => p.Items).ToDictionary(static i => i.Id, i => text.Zh ? i.NameZh : i.NameEn, StringComparer.Ordinal);
        var table = new Table().AddColumns(text.Period, text.Item, text.Name, text.Points);
        foreach (var assessment in scores.Assessments)
        {
            foreach (var item in assessment.Items)
            {
                table.AddRow(assessment.Period, Markup.Escape(item.ItemId), Markup.Escape(names.GetValueOrDefault(item.ItemId, string.Empty)), Tenths(item.PointsTenths));
            }
        }

        foreach (var adjustment in scores.Adjustments)
        {
            table.AddRow(scores.Year, Markup.Escape(adjustment.ItemId), string.Empty, "×" + adjustment.Count.ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }

    private static string Stars(uint stars) => stars == 0 ? "-" : new string('★', (int)stars);

    private static string Tenths(long tenths) => (tenths / 10m).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Runs a command in the chosen language; an error is one line (see <see cref="NodeCommandLine.CallAsync"/>).</summary>
    private static Task<int> RunAsync(ParseResult parse, Func<RatingText, Task> action) =>
        NodeCommandLine.CallAsync(parse, () => action(new RatingText(CliLanguage.IsChinese(parse))));
}

/// <summary>The rating commands' words in one language.</summary>
internal sealed record RatingText(bool Zh)
{
    public string Error => Zh ? "错误" : "error";

    public string Rank => Zh ? "排名" : "rank";

    public string Unit => Zh ? "单位" : "unit";

    public string Tier => Zh ? "层级" : "tier";

    public string Stars => Zh ? "星级" : "stars";

    public string Total => Zh ? "总分" : "total";

    public string Bonus => Zh ? "加分" : "bonus";

    public string Penalty => Zh ? "减分" : "penalty";

    public string NoteHeader => Zh ? "说明" : "note";

    public string Flag => Zh ? "情形" : "flag";

    public string PreviousYearStars => Zh ? "上年星级" : "last year";

    public string Consequence => Zh ? "结果运用" : "what follows";

    public string Part => Zh ? "类别" : "part";

    public string Item => Zh ? "项目" : "item";

    public string Name => Zh ? "名称" : "name";

    public string Maximum => Zh ? "分值" : "points";

    public string Period => Zh ? "期间" : "period";

    public string Points => Zh ? "得分" : "points";

    public string Monthly(uint percent) => Zh ? $"月考核({percent}%)" : $"monthly ({percent}%)";

    public string Quarterly(uint percent) => Zh ? $"季互查({percent}%)" : $"quarterly ({percent}%)";

    public string Annual(uint percent) => Zh ? $"年述职({percent}%)" : $"annual ({percent}%)";

    public string NewVersion(RatingStatement s) => Zh
        ? $"{s.NodeId} {s.Year} 年星级评定已签署新版本 {s.Version}（评定 {s.Units.Count} 个，五星至多 {s.FiveStarAllowedCount} 个，三星及以下至少 {s.ThreeOrBelowRequiredCount} 个）"
        : $"{s.NodeId} signed version {s.Version} of its {s.Year} star rating ({s.Units.Count} rated; at most {s.FiveStarAllowedCount} at five stars, at least {s.ThreeOrBelowRequiredCount} at three or below)";

    public string Unchanged(RatingStatement s) => Zh
        ? $"评分未变，{s.NodeId} {s.Year} 年星级评定仍为版本 {s.Version}"
        : $"nothing changed: {s.NodeId}'s {s.Year} star rating stays at version {s.Version}";

    public string Heading(RatingStatement s, ulong previous) => Zh
        ? $"{s.NodeId} {s.Year} 年星级评定 版本 {s.Version}{(previous == 0 ? string.Empty : $"（上一版本 {previous}）")}，评定人 {s.Account}，方案 {s.Scheme?.Id} v{s.Scheme?.Version}"
        : $"{s.NodeId} star rating of {s.Year}, version {s.Version}{(previous == 0 ? string.Empty : $" (previous {previous})")}, by {s.Account}, scheme {s.Scheme?.Id} v{s.Scheme?.Version}";

    public string Unrated(IEnumerable<string> ids) => Zh ? $"未评定（无评分）：{string.Join("、", ids)}" : $"not rated (no scores): {string.Join(", ", ids)}";

    public string NoPreviousYear(string node, string year) => Zh ? $"{node} 无上一年的星级评定，无连续两年情形（{year}）" : $"{node} has no star rating for the year before {year}: no two-year flags";

    public string SchemeHeading(RatingScheme s) => Zh
        ? $"{s.NameZh}（{s.Id} v{s.Version}）：月考核 {s.Weights.MonthlyPercent}% + 季互查 {s.Weights.QuarterlyPercent}% + 年述职 {s.Weights.AnnualPercent}%；" +
          string.Join("，", s.Thresholds.Select(static t => $"{t.Stars}星 ≥ {t.MinTotalTenths / 10m:0.0}"))
        : $"{s.NameEn} ({s.Id} v{s.Version}): monthly {s.Weights.MonthlyPercent}% + quarterly {s.Weights.QuarterlyPercent}% + annual {s.Weights.AnnualPercent}%; " +
          string.Join(", ", s.Thresholds.Select(static t => $"{t.Stars}★ ≥ {t.MinTotalTenths / 10m:0.0}"));

    public string PerOccurrence(string points, string? cap) => Zh
        ? $"每次 {points}{(cap is null ? "，不封顶" : $"，至多 {cap}")}"
        : $"{points} each{(cap is null ? ", uncapped" : $", at most {cap}")}";

    public string CsvRow(int row) => Zh ? $"CSV 第 {row} 行需有 unit_id,period,item_id,points 四列" : $"CSV row {row} needs four columns: unit_id,period,item_id,points";

    public string CsvPoints(int row, string value) => Zh
        ? $"CSV 第 {row} 行的分值“{value}”不是至多一位小数的数" : $"CSV row {row}: '{value}' is not a number of points with at most one decimal";

    public string CsvCount(int row, string value) => Zh ? $"CSV 第 {row} 行的次数“{value}”不是整数" : $"CSV row {row}: '{value}' is not a whole number of occurrences";

    public string FlagName(RatingFlagKind kind) => kind switch
    {
        RatingFlagKind.FiveStarsTwoYears => Zh ? "连续2年五星" : "five stars two years",
        RatingFlagKind.ThreeOrBelowTwoYears => Zh ? "连续2年三星及以下" : "three or below two years",
        _ => "-",
    };

    public string Note(UnitRating unit)
    {
        var notes = new List<string>();
        if (unit.QuotaEffect == QuotaEffect.FiveStarQuota)
        {
            notes.Add(Zh ? $"得分达{unit.EarnedStars}星，超五星比例，定为四星" : $"earned {unit.EarnedStars}★, beyond the five-star quota");
        }
        else if (unit.QuotaEffect == QuotaEffect.ThreeOrBelowShare)
        {
            notes.Add(Zh ? $"得分达{unit.EarnedStars}星，按三星及以下比例定为三星" : $"earned {unit.EarnedStars}★, lowered to keep the share at three or below");
        }

        if (unit.MissingSources.Count > 0)
        {
            notes.Add((Zh ? "缺：" : "missing: ") + string.Join(Zh ? "、" : ", ", unit.MissingSources.Select(s => s switch
            {
                AssessmentSource.Monthly => Zh ? "月考核" : "monthly",
                AssessmentSource.Quarterly => Zh ? "季互查" : "quarterly",
                _ => Zh ? "年述职" : "annual",
            })));
        }

        return string.Join("; ", notes);
    }
}
