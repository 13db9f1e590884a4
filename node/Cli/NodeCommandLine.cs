using System.CommandLine;
using System.Globalization;
using Federation.Aggregator.Catalogues;
using Federation.Node.Hosting;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>The `federation` command line: `serve` runs a node; the other commands talk to one.</summary>
public static class NodeCommandLine
{
    /// <summary>Deadline of every call the command line makes.</summary>
    private static readonly TimeSpan s_callBudget = TimeSpan.FromSeconds(30);

    public static RootCommand Build()
    {
        var root = new RootCommand("Federation: one node program for every tier of the grassroots reporting hierarchy.");
        root.Subcommands.Add(Serve());
        root.Subcommands.Add(Keygen());
        root.Subcommands.Add(Identity());
        root.Subcommands.Add(HealthCommand.Build());
        root.Subcommands.Add(Enrol());
        root.Subcommands.Add(AddUnit());
        root.Subcommands.Add(RetireUnit());
        root.Subcommands.Add(Submit());
        root.Subcommands.Add(Totals());
        root.Subcommands.Add(Status());
        root.Subcommands.Add(ResetChild());
        root.Subcommands.Add(KeyCommands.Build());
        root.Subcommands.Add(RebuildCommand.Build());
        foreach (var command in QueryCommands.All().Concat(AccessCommands.All()).Concat(ReviewCommands.All()).Concat(ImportCommands.All()).Concat(RatingCommands.All()).Concat(LedgerCommands.All()))
        {
            root.Subcommands.Add(command);
        }

        root.Options.Add(CliLanguage.Lang);
        root.Options.Add(CliConnection.Token);
        root.Options.Add(CliConnection.Ca);

        return root;
    }

    internal static Option<string> NodeOption() => new("--node")
    {
        Description = "The node's address, e.g. http://127.0.0.1:5001",
        Required = true,
    };

    private static Command Serve()
    {
        var config = new Option<string?>("--config") { Description = "A JSON configuration file (see README)" };
        var flags = new (Option<string?> Option, string Key)[]
        {
            (new("--id") { Description = "Node id, a statistical division code by default (e.g. 370113)" }, "Node:Id"),
            (new("--tier") { Description = "Tier label (village, township, county, city, ...)" }, "Node:Tier"),
            (new("--name") { Description = "Display name" }, "Node:DisplayName"),
            (new("--listen") { Description = "Listen address, default http://127.0.0.1:0" }, "Node:Listen"),
            (new("--data") { Description = "Data folder (LiteDB file, signing key)" }, "Node:DataPath"),
            (new("--parent") { Description = "Parent address" }, "Node:Parent:Address"),
            (new("--parent-key") { Description = "Parent's public key (base64), pinned" }, "Node:Parent:PublicKey"),
            (new("--parent-id") { Description = "Parent's node id (its certificate must name it)" }, "Node:Parent:Id"),
            (new("--cert") { Description = "The node's certificate (PEM)" }, "Tls:CertificatePath"),
            (new("--key") { Description = "The node certificate's key (PEM)" }, "Tls:KeyPath"),
            (new("--ca-cert") { Description = "The deployment CA certificate (PEM)" }, "Tls:CaPath"),
            (new("--operations") { Description = "Operations listener, plain HTTP: /metrics and /healthz, e.g. http://127.0.0.1:9464 (off when omitted)" }, "Operations:Listen"),
            (new("--exit-with-pid") { Description = "Stop when this process exits" }, "Host:ExitWithProcessId"),
        };
        var command = new Command("serve", "Run a node (every tier runs the same program).") { config };
        foreach (var (option, _) in flags)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = flags
                .Select(f => (f.Key, Value: parse.GetValue(f.Option)))
                .Where(static f => f.Value is not null)
                .ToDictionary(static f => f.Key, static f => f.Value);
            try
            {
                await using var app = NodeHost.Build(parse.GetValue(config), overrides);

                // Open the data folder before the host starts, so that a refusal is one line here, not a host failure with a stack trace.
                app.Services.GetRequiredService<NodeIdentity>();
                var writer = app.Services.GetRequiredService<Storage.StoreWriter>();
                try
                {
                    await app.RunAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (writer.ExitCode != 0)
                {
                    // The writer stopped the node while it was starting; it has logged why.
                }

                return writer.ExitCode;
            }
            catch (Exception ex) when (ex is Storage.DataFolderInUseException or Storage.DataFolderDamagedException or KeyFileMissingException
                                           or Microsoft.Extensions.Options.OptionsValidationException or Security.TransportConfigurationException
                                           or Ratings.RatingSchemeException)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }
            catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                await Console.Error.WriteLineAsync($"Cannot listen: {ex.Message} Another program (or node) holds that port; choose another in Node:Listen (or Operations:Listen).");
                return 1;
            }
            catch (FileNotFoundException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidDataException || ex.InnerException is System.Text.Json.JsonException)
            {
                // A configuration file that is not valid JSON.
                await Console.Error.WriteLineAsync($"The configuration file is not valid JSON: {(ex.InnerException ?? ex).Message}");
                return 1;
            }
        });
        return command;
    }

    private static Command Keygen()
    {
        var data = new Option<string>("--data") { Description = "Data folder", Required = true };
        var command = new Command("keygen", "Create the node's signing key in a data folder (if missing) and print its public key.") { data };
        command.SetAction(parse =>
        {
            try
            {
                using var key = NodeKeyFile.LoadOrCreate(parse.GetValue(data)!);
                Console.WriteLine(Convert.ToBase64String(key.PublicKeyBytes));
                return 0;
            }
            catch (KeyFileMissingException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return 1;
            }
        });
        return command;
    }

    private static Command Identity()
    {
        var node = NodeOption();
        var json = new Option<bool>("--json") { Description = "Print proto JSON instead of lines" };
        var command = new Command("identity", "Show a node's id, key id and public key.") { node, json };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var identity = await new FederationService.FederationServiceClient(channel)
                .GetIdentityAsync(new GetIdentityRequest(), deadline: Deadline(), cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(identity));
                return;
            }

            Console.WriteLine($"node_id     {identity.NodeId}");
            Console.WriteLine($"tier        {identity.Tier}");
            Console.WriteLine($"name        {identity.DisplayName}");
            Console.WriteLine($"key_id      {identity.KeyId}");
            Console.WriteLine($"public_key  {identity.PublicKey.ToBase64()}");
        }));
        return command;
    }

    private static Command Enrol()
    {
        var node = NodeOption();
        var child = new Option<string>("--child-id") { Description = "The child's node id", Required = true };
        var key = new Option<string>("--public-key") { Description = "The child's public key (base64)", Required = true };
        var name = new Option<string?>("--name") { Description = "Display name" };
        var leaves = new Option<uint>("--expected-leaves") { Description = "Most leaves the child may claim (default: an equal share of this node's capacity)" };
        var address = new Option<string?>("--address") { Description = "Where the child answers pulls (otherwise learned from its announcement)" };
        var command = new Command("enrol", "Enrol a child at a parent: its pushes are then trusted.") { node, child, key, name, leaves, address };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new AdminService.AdminServiceClient(channel).EnrolChildAsync(new EnrolChildRequest
            {
                ChildId = parse.GetValue(child)!,
                PublicKey = ByteString.FromBase64(parse.GetValue(key)!),
                DisplayName = parse.GetValue(name) ?? string.Empty,
                ExpectedLeafCount = parse.GetValue(leaves),
                Address = parse.GetValue(address) ?? string.Empty,
            }, deadline: Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine($"enrolled {parse.GetValue(child)} with key id {response.KeyId}");
        }));
        return command;
    }

    private static Command AddUnit()
    {
        var node = NodeOption();
        var unit = new Option<string>("--unit-id") { Description = "The unit's id", Required = true };
        var name = new Option<string?>("--name") { Description = "Display name" };
        var rename = new Option<bool>("--rename") { Description = "Rename a hosted unit to --name (the former name is kept)" };
        var command = new Command("add-unit", "Add a unit hosted by a node (a leaf with no server of its own).") { node, unit, name, rename };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            await new AdminService.AdminServiceClient(channel).AddHostedUnitAsync(
                new AddHostedUnitRequest { UnitId = parse.GetValue(unit)!, DisplayName = parse.GetValue(name) ?? string.Empty, Rename = parse.GetValue(rename) },
                deadline: Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine($"node now hosts {parse.GetValue(unit)}");
        }));
        return command;
    }

    private static Command RetireUnit()
    {
        var node = NodeOption();
        var unit = new Option<string>("--unit-id") { Description = "The hosted unit", Required = true };
        var from = new Option<string>("--from-period") { Description = "The first period it is not expected for, e.g. 2026-Q3", Required = true };
        var command = new Command("retire-unit", "Retire a hosted unit from a period on (kept for earlier periods).") { node, unit, from };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            await new AdminService.AdminServiceClient(channel).RetireHostedUnitAsync(
                new RetireHostedUnitRequest { UnitId = parse.GetValue(unit)!, FromPeriod = parse.GetValue(from)! },
                deadline: Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine($"{parse.GetValue(unit)} is not expected from {parse.GetValue(from)} on");
        }));
        return command;
    }

    private static Command Submit()
    {
        var node = NodeOption();
        var unit = new Option<string?>("--unit") { Description = "The unit reporting (omit for a wide CSV with a unit_id column)" };
        var period = new Option<string>("--period") { Description = "The period: 2026, 2026-H1, 2026-Q1 or 2026-03", Required = true };
        var file = new Option<FileInfo>("--file") { Description = "A JSON or CSV report file", Required = true };
        var replace = new Option<bool>("--replace") { Description = "The file is the whole report: indicators the previous version had and the file lacks are removed" };
        var update = new Option<bool>("--update") { Description = "Merge the file into the previous version: only the indicators it holds change" };
        var json = new Option<bool>("--json") { Description = "Print each acknowledgement as proto JSON" };
        var command = new Command("submit", "Submit a unit's figures for a period from a CSV or JSON file; prints what changed.")
        {
            node, unit, period, file, replace, update, json,
        };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            if (parse.GetValue(replace) && parse.GetValue(update))
            {
                throw new FormatException("--replace and --update exclude each other.");
            }

            var mode = parse.GetValue(replace) ? SubmitMode.Replace : parse.GetValue(update) ? SubmitMode.Update : SubmitMode.Unspecified;
            var chinese = CliLanguage.IsChinese(parse);
            using var channel = CliConnection.Open(parse, node);
            var catalogue = CatalogueIndex.Create((await new FederationService.FederationServiceClient(channel)
                .GetCatalogueAsync(new GetCatalogueRequest(), deadline: Deadline(), cancellationToken: cancellationToken)).Catalogue);
            var client = new ReportingService.ReportingServiceClient(channel);
            foreach (var entry in ReportFile.Read(parse.GetValue(file)!.FullName, catalogue))
            {
                var unitId = entry.UnitId.Length > 0 ? entry.UnitId : parse.GetValue(unit)
                    ?? throw new FormatException("The file names no unit_id; pass --unit.");
                var request = new SubmitReportRequest { UnitId = unitId, Period = parse.GetValue(period)!, Mode = mode };
                request.Values.AddRange(entry.Values);
                var ack = await client.SubmitReportAsync(request, deadline: Deadline(), cancellationToken: cancellationToken);
                Console.WriteLine(parse.GetValue(json)
                    ? new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(ack)
                    : SubmitText.Render(unitId, request.Period, ack, catalogue, chinese));
            }
        }));
        return command;
    }

    private static Command Totals()
    {
        var node = NodeOption();
        var period = new Option<string>("--period") { Description = "The period", Required = true };
        var of = new Option<string?>("--of") { Description = "A node below the one asked, or a unit one hosts (default: that node itself)" };
        var json = new Option<bool>("--json") { Description = "Print proto JSON instead of a table" };
        var command = new Command("totals", "Print a node's totals for a period.") { node, period, of, json };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var totals = await new QueryService.QueryServiceClient(channel).GetTotalsAsync(
                new GetTotalsRequest { NodeId = parse.GetValue(of) ?? string.Empty, Period = parse.GetValue(period)! }, deadline: Deadline(), cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(totals));
            }
            else
            {
                QueryCommands.Write(TotalsTable.Render(totals, CliLanguage.IsChinese(parse)));
            }
        }));
        return command;
    }

    private static Command Status()
    {
        var node = NodeOption();
        var json = new Option<bool>("--json") { Description = "Print proto JSON instead of lines" };
        var command = new Command("status", "Show a node's outbox, pending rebuilds, recorded conflicts and alerts (periods its parent refused for good).") { node, json };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var status = await new AdminService.AdminServiceClient(channel).GetStatusAsync(
                new GetStatusRequest(), deadline: Deadline(), cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(status));
                return;
            }

            var zh = CliLanguage.IsChinese(parse);
            var none = zh ? "无" : "none";
            Console.WriteLine(zh ? $"节点 {status.NodeId}：代管单位 {status.HostedUnitCount} 个，下级节点 {status.ChildCount} 个" : $"node {status.NodeId}: {status.HostedUnitCount} hosted units, {status.ChildCount} children");
            Console.WriteLine(zh
                ? $"待上报期别：{(status.OutboxPeriods.Count == 0 ? none : string.Join("、", status.OutboxPeriods))}；待重算 {status.PendingRebuildCount} 期；冲突记录 {status.EquivocationCount} 条"
                : $"outbox: {(status.OutboxPeriods.Count == 0 ? none : string.Join(", ", status.OutboxPeriods))}; {status.PendingRebuildCount} rebuild(s) pending; {status.EquivocationCount} conflict(s) recorded");
            foreach (var alert in status.Alerts)
            {
                var since = alert.SinceTime?.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture) ?? "-";
                Console.WriteLine(zh ? $"警示：{alert.Period} 第 {alert.Version} 版被上级拒收（{since}）：{alert.Reason}" : $"alert: {alert.Period} version {alert.Version} refused by the parent ({since}): {alert.Reason}");
            }
        }));
        return command;
    }

    private static Command ResetChild()
    {
        var node = NodeOption();
        var child = new Option<string>("--child-id") { Description = "The child's node id", Required = true };
        var command = new Command(
            "reset-child",
            "Release the versions and announcement time a node holds for a child, so that an honest restart of the child is accepted.") { node, child };
        command.SetAction(async (parse, cancellationToken) => await CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var response = await new AdminService.AdminServiceClient(channel).ResetChildAsync(
                new ResetChildRequest { ChildId = parse.GetValue(child)! }, deadline: Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine($"reset {parse.GetValue(child)}: {response.ReleasedSummaryCount} held versions no longer bound what it may send");
        }));
        return command;
    }

    internal static DateTime Deadline() => DateTime.UtcNow + s_callBudget;

    /// <summary>
    /// Runs a client action; a refusal or a bad file is one line on standard error, in the language of
    /// --lang or LANG, and exit code 1.
    /// </summary>
    internal static async Task<int> CallAsync(ParseResult parse, Func<Task> action)
    {
        var chinese = CliLanguage.IsChinese(parse);
        var error = CliLanguage.ErrorWord(chinese);
        try
        {
            await action();
            return 0;
        }
        catch (RpcException ex)
        {
            await Console.Error.WriteLineAsync(CliLanguage.Describe(ex, chinese));
            return 1;
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync($"{error} {ex.Message}");
            return 1;
        }
        catch (System.Text.Json.JsonException ex)
        {
            // A report or keys file that is not valid JSON: where, not how the parser got there.
            await Console.Error.WriteLineAsync(chinese ? $"{error} 不是有效的 JSON：{ex.Message}" : $"{error} not valid JSON: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or UriFormatException or InvalidJsonException or InvalidProtocolBufferException)
        {
            // A file that is missing, unreadable or not what it should be: the file's fault, said in one line.
            await Console.Error.WriteLineAsync($"{error} {ex.Message}");
            return 1;
        }
    }
}
