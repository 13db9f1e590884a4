using Federation.Aggregator.Catalogues;
using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Queries;
using Federation.Node.Rollup;
using Federation.Node.Security;
using Microsoft.AspNetCore.Authorization;
using Federation.Protos.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for node-to-node calls.</summary>
internal sealed class FederationGrpcService(
    SummaryIntake intake, ChildKeys childKeys, PullService pull, PeerCalls peers, SubtreeService subtree, ProofService proofs, CatalogueIndex catalogue, NodeIdentity identity)
    : FederationService.FederationServiceBase
{
    [Authorize(Policy = Policies.ParentNode)]
    public override async Task<PullSummaryResponse> PullSummary(PullSummaryRequest request, ServerCallContext context)
    {
        var period = RequestChecks.Period(request.Period);
        var held = await pull.PullAsync(period.ToString(), request.Refresh, peers.For(context));
        return new PullSummaryResponse { SignedSummary = held?.ToSigned() };
    }

    [Authorize(Policy = Policies.ParentNode)]
    public override async Task<GetSubtreeStatusResponse> GetSubtreeStatus(GetSubtreeStatusRequest request, ServerCallContext context) =>
        (await subtree.GetPageAsync(request, RequestChecks.Period(request.Period), peers.For(context))).ValueOrThrow();

    [Authorize(Policy = Policies.ParentNode)]
    public override async Task<GetProofChainResponse> GetProofChain(GetProofChainRequest request, ServerCallContext context)
    {
        var period = RequestChecks.Period(request.Period);
        RequestChecks.Id(request.UnitId, "unit_id");
        RequestChecks.Digest(request.SummaryDigest.Span, "summary_digest");
        return new()
        {
            Proof = (await proofs.ProveBelowAsync(period.ToString(), request.UnitId, request.SummaryDigest.ToByteArray(), peers.For(context)))
                .ValueOrThrow(),
        };
    }

    /// <summary>The node the caller's certificate names; the policy admitted only enrolled children here.</summary>
    private static string CallingNode(ServerCallContext context) =>
        Caller.NodeIdOf(context.GetHttpContext().User) ?? throw new InvalidOperationException("A node policy admitted a caller that is not a node.");

    [Authorize(Policy = Policies.ChildNode)]
    public override async Task<PushSummaryResponse> PushSummary(PushSummaryRequest request, ServerCallContext context)
    {
        var acceptance = (await intake.AcceptAsync(request.SignedSummary, context.CancellationToken, expectedChildId: CallingNode(context))).ValueOrThrow();
        return new PushSummaryResponse { Outcome = acceptance.Outcome, Receipt = acceptance.Receipt };
    }

    [Authorize(Policy = Policies.ChildNode)]
    public override async Task<AnnounceResponse> Announce(AnnounceRequest request, ServerCallContext context)
    {
        (await intake.AnnounceAsync(request.Announcement, context.CancellationToken, expectedChildId: CallingNode(context))).ValueOrThrow();
        return new AnnounceResponse { HeldVersions = { childKeys.HeldVersions(request.Announcement.KeyId) } };
    }

    [Authorize(Policy = Policies.ChildNode)]
    public override async Task<RotateKeyResponse> RotateKey(RotateKeyRequest request, ServerCallContext context) =>
        new() { KeyId = (await childKeys.RotateAsync(request.Rotation, context.CancellationToken, expectedChildId: CallingNode(context))).ValueOrThrow() };

    [Authorize(Policy = Policies.Anyone)]
    public override Task<GetCatalogueResponse> GetCatalogue(GetCatalogueRequest request, ServerCallContext context) =>
        Task.FromResult(new GetCatalogueResponse { Catalogue = catalogue.Catalogue });

    [Authorize(Policy = Policies.Anyone)]
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
