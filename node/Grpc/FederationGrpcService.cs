using Federation.Aggregator.Catalogues;
using Federation.Node.Hosting;
using Federation.Node.Rollup;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for node-to-node calls.</summary>
internal sealed class FederationGrpcService(SummaryIntake intake, CatalogueIndex catalogue, NodeIdentity identity)
    : FederationService.FederationServiceBase
{
    public override async Task<PushSummaryResponse> PushSummary(PushSummaryRequest request, ServerCallContext context)
    {
        var acceptance = (await intake.AcceptAsync(request.SignedSummary, context.CancellationToken)).ValueOrThrow();
        return new PushSummaryResponse { Outcome = acceptance.Outcome, Receipt = acceptance.Receipt };
    }

    public override Task<GetCatalogueResponse> GetCatalogue(GetCatalogueRequest request, ServerCallContext context) =>
        Task.FromResult(new GetCatalogueResponse { Catalogue = catalogue.Catalogue });

    public override Task<GetIdentityResponse> GetIdentity(GetIdentityRequest request, ServerCallContext context) =>
        Task.FromResult(new GetIdentityResponse
        {
            NodeId = identity.NodeId,
            Tier = identity.Tier,
            DisplayName = identity.DisplayName,
            PublicKey = ByteString.CopyFrom(identity.Key.PublicKeyBytes),
            KeyId = identity.Key.KeyId,
        });
}
