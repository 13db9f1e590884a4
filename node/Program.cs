using Federation.Node.Cli;

return await NodeCommandLine.Build().Parse(args).InvokeAsync();
