using System.CommandLine;
using Federation.Node.Cli;

// The host handles Ctrl-C and SIGTERM itself and shuts down gracefully, however long that takes.
return await NodeCommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
