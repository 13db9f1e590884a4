using System.CommandLine;
using System.Globalization;
using Federation.Aggregator.Identifiers;
using Federation.Node.Security;
using Federation.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;

namespace Federation.Node.Cli;

/// <summary>The deployment CA, node certificates, and people's tokens and passwords.</summary>
internal static class AccessCommands
{
    public static IEnumerable<Command> All() => [Ca(), Cert(), Token(), Account(), WhoAmI()];

    private static Command Ca()
    {
        var output = new Option<string>("--out") { Description = "Folder for ca.crt and ca.key (created; ca.key must stay offline)", Required = true };
        var name = new Option<string?>("--name") { Description = "The CA's name, e.g. the deployment's" };
        var years = new Option<int>("--years") { Description = "Validity in years (default 10)", DefaultValueFactory = static _ => 10 };
        var init = new Command("init", "Create a deployment's private CA: it issues every node's certificate.") { output, name, years };
        init.SetAction(parse => Run(() =>
        {
            var folder = parse.GetValue(output)!;
            var certificatePath = Path.Combine(folder, Pki.CaCertificateFileName);
            if (File.Exists(certificatePath))
            {
                throw new FormatException($"'{certificatePath}' exists already; a new CA would orphan every certificate it issued.");
            }

            Directory.CreateDirectory(folder);
            using var authority = Pki.CreateAuthority(parse.GetValue(name) ?? "Federation deployment CA", DateTimeOffset.UtcNow, TimeSpan.FromDays(365.25 * parse.GetValue(years)));
            Pki.Write(authority, certificatePath, Path.Combine(folder, Pki.CaKeyFileName));
            Console.WriteLine($"created {certificatePath} (give it to every node and client) and {Path.Combine(folder, Pki.CaKeyFileName)} (keep it offline)");
        }));
        return new Command("ca", "The deployment's certificate authority.") { init };
    }

    private static Command Cert()
    {
        var ca = new Option<string>("--ca-dir") { Description = "Folder with ca.crt and ca.key", Required = true };
        var nodeId = new Option<string>("--node-id") { Description = "The node id the certificate names", Required = true };
        var hosts = new Option<string[]>("--host") { Description = "A host name or IP address the node answers on (repeat)", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Folder for node.crt and node.key", Required = true };
        var days = new Option<int>("--days") { Description = "Validity in days (default 825)", DefaultValueFactory = static _ => 825 };
        var issue = new Command("issue", "Issue a node certificate (TLS server and client) naming the node id.") { ca, nodeId, hosts, output, days };
        issue.SetAction(parse => Run(() =>
        {
            var id = parse.GetValue(nodeId)!;
            if (!NodeIds.IsValid(id))
            {
                throw new FormatException($"--node-id must be {NodeIds.Rule}.");
            }

            var caDir = parse.GetValue(ca)!;
            using var authority = Pki.LoadWithKey(Path.Combine(caDir, Pki.CaCertificateFileName), Path.Combine(caDir, Pki.CaKeyFileName));
            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            var names = parse.GetValue(hosts) is { Length: > 0 } given ? given : ["localhost", "127.0.0.1"];
            using var certificate = Pki.IssueNode(authority, id, names, DateTimeOffset.UtcNow, TimeSpan.FromDays(parse.GetValue(days)));
            var certificatePath = Path.Combine(folder, "node.crt");
            var keyPath = Path.Combine(folder, "node.key.pem");
            if (File.Exists(certificatePath) || File.Exists(keyPath))
            {
                // Never leave a certificate beside a key it does not match.
                throw new FormatException($"'{folder}' already holds a node certificate or key; remove both to issue a new pair.");
            }

            Pki.Write(certificate, certificatePath, keyPath);
            File.Copy(Path.Combine(caDir, Pki.CaCertificateFileName), Path.Combine(folder, Pki.CaCertificateFileName), overwrite: true);
            Console.WriteLine($"issued {certificatePath} for node {id} ({string.Join(", ", names)}), valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}; key {keyPath}");
        }));
        return new Command("cert", "Node certificates issued by the deployment CA.") { issue };
    }

    private static Command Token()
    {
        var issue = new Command("issue", "Issue a token for an account (created when new); the token is shown once.");
        var node = NodeCommandLine.NodeOption();
        var account = new Option<string?>("--account") { Description = "The account's name (default: role-scope)" };
        var role = new Option<string>("--role") { Description = "clerk, reviewer, reader or admin", Required = true };
        var scope = new Option<string>("--scope") { Description = "The node or unit id the account acts on, with everything below it", Required = true };
        var expires = new Option<string>("--expires") { Description = "Validity: 90d, 12h, 30m (default 90d)", DefaultValueFactory = static _ => "90d" };
        var note = new Option<string?>("--note") { Description = "Who holds it, where" };
        foreach (var option in new System.CommandLine.Option[] { node, account, role, scope, expires, note })
        {
            issue.Options.Add(option);
        }

        issue.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            var parsedRole = ParseRole(parse.GetValue(role)!);
            using var channel = CliConnection.Open(parse, node);
            var response = await new AccessService.AccessServiceClient(channel).IssueTokenAsync(new IssueTokenRequest
            {
                Account = parse.GetValue(account) ?? $"{parse.GetValue(role)!.ToLowerInvariant()}-{parse.GetValue(scope)}",
                Role = parsedRole,
                Scope = parse.GetValue(scope)!,
                ValidFor = Duration.FromTimeSpan(ParseSpan(parse.GetValue(expires)!)),
                Note = parse.GetValue(note) ?? string.Empty,
            }, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            await Console.Error.WriteLineAsync(
                $"token {response.Info.TokenId} for {response.Info.Account} ({Describe(response.Info.Role)} of {response.Info.Scope}), valid until {Time(response.Info.ExpireTime)}; shown only now:");
            Console.WriteLine(response.Token);
        }));

        var listNode = NodeCommandLine.NodeOption();
        var json = new Option<bool>("--json") { Description = "Print proto JSON" };
        var list = new Command("list", "List the tokens a node issued (never their secrets).") { listNode, json };
        list.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, listNode);
            var client = new AccessService.AccessServiceClient(channel);
            var all = new ListTokensResponse();
            var request = new ListTokensRequest { PageSize = 1000 };
            do
            {
                var page = await client.ListTokensAsync(request, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
                all.Tokens.AddRange(page.Tokens);
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0);

            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation()).Format(all));
                return;
            }

            var table = new Table().AddColumns("token", "account", "role", "scope", "expires", "state");
            foreach (var token in all.Tokens)
            {
                var state = token.RevokeTime is not null ? "revoked" : token.ExpireTime.ToDateTimeOffset() <= DateTimeOffset.UtcNow ? "expired" : "active";
                table.AddRow(token.TokenId, Markup.Escape(token.Account), Describe(token.Role), token.Scope, Time(token.ExpireTime), state);
            }

            QueryCommands.Write(table);
        }));

        var revokeNode = NodeCommandLine.NodeOption();
        var id = new Option<string>("--id") { Description = "The token id (from token list)", Required = true };
        var revoke = new Command("revoke", "Revoke a token: it is refused from the next call on.") { revokeNode, id };
        revoke.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, revokeNode);
            var response = await new AccessService.AccessServiceClient(channel).RevokeTokenAsync(
                new RevokeTokenRequest { TokenId = parse.GetValue(id)! }, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine($"revoked token {response.Info.TokenId} of {response.Info.Account}");
        }));
        return new Command("token", "People's tokens: issue, list, revoke.") { issue, list, revoke };
    }

    private static Command Account()
    {
        var node = NodeCommandLine.NodeOption();
        var account = new Option<string>("--account") { Description = "The account's name", Required = true };
        var role = new Option<string>("--role") { Description = "clerk, reviewer, reader or admin", Required = true };
        var scope = new Option<string>("--scope") { Description = "The node or unit id the account acts on, with everything below it", Required = true };
        var setPassword = new Command("set-password",
            "Set the password an account logs in with on the node's web page (created when new). The password is read from standard input, or asked for twice without echo.")
        {
            node, account, role, scope,
        };
        setPassword.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            var parsedRole = ParseRole(parse.GetValue(role)!);
            var name = parse.GetValue(account)!;
            var password = ReadPassword(name);
            using var channel = CliConnection.Open(parse, node);
            var response = await new AccessService.AccessServiceClient(channel).SetPasswordAsync(new SetPasswordRequest
            {
                Account = name,
                Role = parsedRole,
                Scope = parse.GetValue(scope)!,
                Password = password,
            }, deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine($"password set for {response.Account} ({Describe(response.Role)} of {response.Scope}) at {Time(response.SetTime)}");
        }));
        return new Command("account", "People's accounts: the password for the web page.") { setPassword };
    }

    /// <summary>
    /// The first line of standard input when it is redirected (scripts: `printf '%s\n' "$PW" | federation …`),
    /// otherwise typed twice at a prompt without echo. Never taken from the command line, where other
    /// accounts on the machine could read it in the process list.
    /// </summary>
    private static string ReadPassword(string account)
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() is { Length: > 0 } line ? line : throw new FormatException("no password on standard input.");
        }

        var first = Prompt($"Password for {account} (密码): ");
        var second = Prompt("Again (再输一次): ");
        return first.Length == 0 ? throw new FormatException("no password was typed.")
            : first == second ? first : throw new FormatException("the two passwords differ; nothing was changed.");
    }

    private static string Prompt(string prompt)
    {
        Console.Error.Write(prompt);
        var typed = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return typed.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (typed.Length > 0)
                {
                    typed.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                typed.Append(key.KeyChar);
            }
        }
    }

    private static Command WhoAmI()
    {
        var node = NodeCommandLine.NodeOption();
        var command = new Command("whoami", "Show who a node takes you to be.") { node };
        command.SetAction(async (parse, cancellationToken) => await NodeCommandLine.CallAsync(parse, async () =>
        {
            using var channel = CliConnection.Open(parse, node);
            var me = await new AccessService.AccessServiceClient(channel).WhoAmIAsync(new WhoAmIRequest(), deadline: NodeCommandLine.Deadline(), cancellationToken: cancellationToken);
            Console.WriteLine(me.Kind == "person" ? $"{me.Name}: {Describe(me.Role)} of {me.Scope}" : $"{me.Kind} {me.Name} {me.Relation}".TrimEnd());
        }));
        return command;
    }

    internal static Role ParseRole(string text) => text.Trim().ToLowerInvariant() switch
    {
        "clerk" => Role.Clerk,
        "reviewer" => Role.Reviewer,
        "reader" => Role.Reader,
        "admin" => Role.Admin,
        _ => throw new FormatException($"--role '{text}' must be clerk, reviewer, reader or admin."),
    };

    /// <summary>Parses 90d, 12h, 30m, or a TimeSpan such as 1.00:00:00.</summary>
    internal static TimeSpan ParseSpan(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length > 1 && double.TryParse(trimmed[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number > 0)
        {
            switch (trimmed[^1])
            {
                case 'd': return TimeSpan.FromDays(number);
                case 'h': return TimeSpan.FromHours(number);
                case 'm': return TimeSpan.FromMinutes(number);
                case 's': return TimeSpan.FromSeconds(number);
            }
        }

        return TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
            ? span
            : throw new FormatException($"--expires '{text}' must look like 90d, 12h or 30m.");
    }

    private static string Describe(Role role) => role switch
    {
        Role.Clerk => "clerk 填报员",
        Role.Reviewer => "reviewer 审核员",
        Role.Reader => "reader 查阅",
        Role.Admin => "admin 管理员",
        _ => "none",
    };

    private static string Time(Timestamp? time) => time is null ? "-" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static int Run(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine(ex.Message);
            return 1;
        }
    }
}
