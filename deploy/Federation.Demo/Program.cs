using System.CommandLine;
using Federation.Demo;

var once = new Option<bool>("--once") { Description = "Verify the city's totals against the sample reports, then stop all nodes and exit (0 when they match)" };
var data = new Option<DirectoryInfo?>("--data") { Description = "Folder for the nodes' data and logs (default: a new temporary folder)" };
var root = new RootCommand("Starts a demo reporting hierarchy (Jinan: 1 city, 2 districts, 4 townships, 12 villages) as separate node processes on 127.0.0.1.")
{
    once,
    data,
};
root.SetAction(parse => new DemoRun(new DemoSettings(parse.GetValue(once), parse.GetValue(data)?.FullName)).RunAsync());

// The launcher handles Ctrl-C itself, so that it can stop its nodes before exiting.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
