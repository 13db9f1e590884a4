using Federation.Aggregator.Catalogues;
using Federation.Aggregator;
using Federation.Aggregator.Periods;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Queries;
using Federation.Node.Rollup;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for node-to-node calls.</summary>
internal sealed class FederationGrpcService(
    SummaryIntake intake, ChildKeys childKeys, PullService pull, SubtreeService subtree, ProofService proofs, CatalogueIndex catalogue, NodeIdentity identity)
    : FederationService.FederationServiceBase
{
    public override async Task<PullSummaryResponse> PullSummary(PullSummaryRequest request, ServerCallContext context)
    {
        var period = ParsePeriod(request.Period);
        var held = await pull.PullAsync(period.ToString(), request.Refresh, pull.DeadlineFor(context.Deadline), context.CancellationToken);
        return new PullSummaryResponse { SignedSummary = held?.ToSigned() };
    }

    public override async Task<GetSubtreeStatusResponse> GetSubtreeStatus(GetSubtreeStatusRequest request, ServerCallContext context) =>
        await subtree.GetAsync(ParsePeriod(request.Period), pull.DeadlineFor(context.Deadline), context.CancellationToken);

    public override async Task<GetProofChainResponse> GetProofChain(GetProofChainRequest request, ServerCallContext context) =>
        new()
        {
            Proof = (await proofs.ProveBelowAsync(request.Period, request.UnitId, request.SummaryDigest.ToByteArray(), pull.DeadlineFor(context.Deadline), context.CancellationToken))
                .ValueOrThrow(),
        };

    private static Period ParsePeriod(string period) =>
        Period.TryParse(period, out var parsed)
            ? parsed
            : throw RpcErrors.ToException(Rejection.Of(RejectionReason.MalformedPeriod, $"period '{period}' is malformed.", "period"));

    public override async Task<PushSummaryResponse> PushSummary(PushSummaryRequest request, ServerCallContext context)
    {
        var acceptance = (await intake.AcceptAsync(request.SignedSummary, context.CancellationToken)).ValueOrThrow();
        return new PushSummaryResponse { Outcome = acceptance.Outcome, Receipt = acceptance.Receipt };
    }

    public override async Task<AnnounceResponse> Announce(AnnounceRequest request, ServerCallContext context)
    {
        (await intake.AnnounceAsync(request.Announcement, context.CancellationToken)).ValueOrThrow();
        return new AnnounceResponse { HeldVersions = { childKeys.HeldVersions(request.Announcement.KeyId) } };
    }

    public override async Task<RotateKeyResponse> RotateKey(RotateKeyRequest request, ServerCallContext context) =>
        new() { KeyId = (await childKeys.RotateAsync(request.Rotation, context.CancellationToken)).ValueOrThrow() };

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
