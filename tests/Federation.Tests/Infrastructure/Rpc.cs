using Google.Rpc;
using Grpc.Core;

namespace Federation.Tests.Infrastructure;

/// <summary>Assertions on gRPC failures and their rich details.</summary>
public static class Rpc
{
    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(30);

    /// <summary>Awaits a call that must fail with <paramref name="code"/> and ErrorInfo <paramref name="reason"/>; returns the status.</summary>
    public static async Task<Google.Rpc.Status> FailsAsync(Func<Task> call, StatusCode code, string reason)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == ex.StatusCode, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        var status = ex.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal(reason, status.GetDetail<ErrorInfo>()?.Reason);
        Assert.False(string.IsNullOrWhiteSpace(status.Message));
        return status;
    }

    /// <summary>The field named by the first BadRequest violation.</summary>
    public static string? ViolatedField(Google.Rpc.Status status) => status.GetDetail<BadRequest>()?.FieldViolations.FirstOrDefault()?.Field;
}
