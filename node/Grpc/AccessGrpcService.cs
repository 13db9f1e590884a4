using Federation.Node.Application;
using Federation.Node.Hosting;
using Federation.Node.Security;
using Federation.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Federation.Node.Grpc;

/// <summary>Thin endpoint for tokens: issue, list and revoke, web passwords (admin), and who-am-I (anyone authenticated).</summary>
internal sealed class AccessGrpcService(
    AccessOperations access, PasswordOperations passwords, NodeIdentity identity, IOptions<Configuration.NodeOptions> options)
    : AccessService.AccessServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    [Authorize(Policy = Policies.Admin)]
    public override async Task<IssueTokenResponse> IssueToken(IssueTokenRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context.GetHttpContext().User);
        var issued = (await access.IssueAsync(
            request.Account, request.Role, request.Scope, request.ValidFor?.ToTimeSpan() ?? TimeSpan.Zero, request.Note, caller.AccountName,
            context.CancellationToken)).ValueOrThrow();
        return new IssueTokenResponse { Token = issued.Bearer, Info = Info(issued.Token) };
    }

    [Authorize(Policy = Policies.Admin)]
    public override Task<ListTokensResponse> ListTokens(ListTokensRequest request, ServerCallContext context)
    {
        var pageSize = PageTokens.Size(request.PageSize, DefaultPageSize, MaxPageSize);
        var page = access.List(request.PageToken, pageSize);
        var response = new ListTokensResponse { NextPageToken = page.Count == pageSize ? page[^1].Id : string.Empty };
        response.Tokens.AddRange(page.Select(Info));
        return Task.FromResult(response);
    }

    [Authorize(Policy = Policies.Admin)]
    public override async Task<RevokeTokenResponse> RevokeToken(RevokeTokenRequest request, ServerCallContext context) =>
        new() { Info = Info((await access.RevokeAsync(request.TokenId, context.CancellationToken)).ValueOrThrow()) };

    [Authorize(Policy = Policies.Admin)]
    public override async Task<SetPasswordResponse> SetPassword(SetPasswordRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context.GetHttpContext().User);
        var set = (await passwords.SetAsync(request.Account, request.Role, request.Scope, request.Password, caller.AccountName, context.CancellationToken))
            .ValueOrThrow();
        return new SetPasswordResponse { Account = set.Account, Role = set.Role, Scope = set.Scope, SetTime = Ticks(set.SetTicks) };
    }

    [Authorize(Policy = Policies.Anyone)]
    public override Task<WhoAmIResponse> WhoAmI(WhoAmIRequest request, ServerCallContext context)
    {
        var caller = Caller.Of(context.GetHttpContext().User);
        var response = new WhoAmIResponse
        {
            Kind = caller.Kind switch
            {
                CallerKind.Person => "person",
                CallerKind.Node => "node",
                CallerKind.LocalAdmin => "local-admin",
                _ => string.Empty,
            },
            Name = caller.AccountName,
            Role = caller.Role,
            Scope = caller.IsPerson ? caller.Scope : caller.Kind == CallerKind.LocalAdmin ? identity.NodeId : string.Empty,
        };
        if (caller.IsNode)
        {
            response.Relation = caller.Name == options.Value.Parent.Id ? "parent" : "child";
        }

        return Task.FromResult(response);
    }

    private static TokenInfo Info(TokenDocument token)
    {
        var info = new TokenInfo
        {
            TokenId = token.Id,
            Account = token.Account,
            Role = token.Role,
            Scope = token.Scope,
            IssueTime = Ticks(token.IssuedTicks),
            ExpireTime = Ticks(token.ExpiresTicks),
            Note = token.Note,
            IssuedBy = token.IssuedBy,
        };
        if (token.RevokedTicks != 0)
        {
            info.RevokeTime = Ticks(token.RevokedTicks);
        }

        return info;
    }

    private static Timestamp Ticks(long ticks) => Timestamp.FromDateTimeOffset(new DateTimeOffset(ticks, TimeSpan.Zero));
}
