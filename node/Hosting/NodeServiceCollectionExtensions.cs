using Federation.Aggregator.Summaries;
using Federation.Aggregator.Catalogues;
using Federation.Node.Admin;
using Federation.Node.Configuration;
using Federation.Node.Grpc;
using Federation.Node.Queries;
using Federation.Node.Ratings;
using Federation.Node.Reporting;
using Federation.Node.Review;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Federation.Node.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>Registers each part of the node; Program and tests call these and nothing else.</summary>
internal static class NodeServiceCollectionExtensions
{
    /// <summary>Options, identity, catalogue and the LiteDB store.</summary>
    public static IServiceCollection AddNodeCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<NodeOptions>().Bind(configuration.GetSection(NodeOptions.SectionName)).ValidateOnStart();
        services.AddOptions<OutboxOptions>().Bind(configuration.GetSection(OutboxOptions.SectionName)).ValidateOnStart();
        services.AddOptions<SummaryOptions>().Bind(configuration.GetSection(SummaryOptions.SectionName)).ValidateOnStart();
        services.AddOptions<PullOptions>().Bind(configuration.GetSection(PullOptions.SectionName)).ValidateOnStart();
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddSingleton<IValidateOptions<PullOptions>, TimingOptionsValidator>();
        services.AddSingleton<IValidateOptions<SummaryOptions>, TimingOptionsValidator>();
        services.AddSingleton<IValidateOptions<NodeOptions>, NodeOptionsValidator>();
        services.AddSingleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<NodeOptions>>().Value;
            return new NodeIdentity(options, NodeKeyFile.LoadOrCreate(options.DataPath));
        });
        services.AddSingleton(static sp =>
        {
            var path = sp.GetRequiredService<IOptions<NodeOptions>>().Value.CataloguePath;
            return string.IsNullOrWhiteSpace(path) ? CatalogueIndex.Default : CatalogueIndex.ParseJson(File.ReadAllText(path));
        });
        services.AddSingleton(static sp =>
        {
            // The key first: a new folder gets its key before its database, so a database without a key means a lost key.
            sp.GetRequiredService<NodeIdentity>();
            return new NodeStore(sp.GetRequiredService<IOptions<NodeOptions>>().Value.DataPath);
        });
        services.AddSingleton<PeriodChanges>();
        services.AddSingleton<StoreWriter>();
        services.AddHostedService(static sp => sp.GetRequiredService<StoreWriter>());
        return services;
    }

    /// <summary>Reports, summaries, the outbox and its worker.</summary>
    public static IServiceCollection AddNodeRollup(this IServiceCollection services)
    {
        services.AddSingleton<ReportIntake>();
        services.AddSingleton<ReportFlagsQuery>();
        services.AddSingleton<Import.SheetImporter>();
        services.AddSingleton<Import.SheetTemplates>();
        services.AddSingleton(_ => new ParsedSummaryCache());
        services.AddSingleton<SummaryRebuilder>();
        services.AddSingleton<SummaryIntake>();
        services.AddSingleton<ChildKeys>();
        services.AddSingleton<HeldVersions>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<RebuildScheduler>();
        services.AddHostedService(static sp => sp.GetRequiredService<RebuildScheduler>());
        services.AddSingleton<ParentChannel>();
        services.AddSingleton<TotalsQuery>();
        services.AddSingleton<NodeEndpoint>();
        services.AddSingleton<ChildChannels>();
        services.AddSingleton<PeerCalls>();
        services.AddSingleton<PullService>();
        services.AddSingleton<ListingCache>();
        services.AddSingleton<ListingPages>();
        services.AddSingleton<SubtreeService>();
        services.AddSingleton<LocalQueries>();
        services.AddSingleton<PromotionQuery>();
        services.AddSingleton<ProofService>();
        services.AddSingleton<QueryRouter>();
        services.AddSingleton<AdminOperations>();
        services.AddSingleton<ReviewOperations>();
        services.AddSingleton<Ledger.LedgerOperations>();
        services.AddHostedService<ConfiguredEnrolment>();
        services.AddHostedService<OutboxWorker>();
        services.AddHostedService<ParentAnnouncer>();
        services.AddHostedService<KeyRotationDelivery>();
        return services;
    }

    /// <summary>The history's retention: its options and the pass that lets go of replaced versions no proof needs.</summary>
    public static IServiceCollection AddNodeHistory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HistoryOptions>().Bind(configuration.GetSection(HistoryOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HistoryOptions>, HistoryOptionsValidator>();
        services.AddSingleton<Retention.HistoryPruner>();
        services.AddHostedService(static sp => sp.GetRequiredService<Retention.HistoryPruner>());
        return services;
    }

    /// <summary>Star rating of the units below: its options, the scheme (checked when first resolved) and its service.</summary>
    public static IServiceCollection AddNodeRatings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RatingOptions>().Bind(configuration.GetSection(RatingOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RatingOptions>, RatingOptionsValidator>();
        services.AddSingleton(static sp => RatingSchemeFile.Load(sp.GetRequiredService<IOptions<RatingOptions>>().Value.SchemePath));
        services.AddSingleton<RatingOperations>();
        return services;
    }

    /// <summary>The gRPC endpoints with the error backstop, the scope and page size checks, and the size limit.</summary>
    public static IServiceCollection AddNodeGrpc(this IServiceCollection services, IConfiguration configuration)
    {
        var maxBytes = configuration.GetSection(NodeOptions.SectionName).Get<NodeOptions>()?.MaxReceiveMessageBytes ?? 4 * 1024 * 1024;
        services.AddGrpc(options =>
        {
            options.Interceptors.Add<ExceptionInterceptor>();
            options.Interceptors.Add<ScopeInterceptor>();
            options.Interceptors.Add<PageSizeInterceptor>();
            options.MaxReceiveMessageSize = maxBytes;
            options.EnableDetailedErrors = false;
        });
        services.AddMalformedRequestStatus();
        return services;
    }

    public static WebApplication MapNodeGrpc(this WebApplication app)
    {
        app.MapGrpcService<ReportingGrpcService>();
        app.MapGrpcService<ImportGrpcService>();
        app.MapGrpcService<FederationGrpcService>();
        app.MapGrpcService<QueryGrpcService>();
        app.MapGrpcService<AdminGrpcService>();
        app.MapGrpcService<AccessGrpcService>();
        app.MapGrpcService<ReviewGrpcService>();
        app.MapGrpcService<RatingGrpcService>();
        app.MapGrpcService<LedgerGrpcService>();
        return app;
    }
}
