using Federation.Node.Admin;
using Federation.Node.Configuration;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>Enrols the hosted units and children listed in configuration when the node starts.</summary>
internal sealed class ConfiguredEnrolment(AdminOperations admin, IOptions<NodeOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var unit in options.Value.HostedUnits)
        {
            if ((await admin.AddHostedUnitAsync(unit.Id, unit.DisplayName, rename: true, cancellationToken)).Rejection is { } rejection)
            {
                throw new InvalidOperationException($"Node:HostedUnits entry '{unit.Id}': {rejection.Message}");
            }
        }

        foreach (var child in options.Value.Children)
        {
            var key = Keys.TryParsePublicKey(child.PublicKey, out var parsed) ? parsed : [];
            var outcome = await admin.EnrolChildAsync(child.Id, key, child.DisplayName, child.ExpectedLeafCount, child.Address, cancellationToken);
            if (outcome.Rejection is { } rejection)
            {
                throw new InvalidOperationException($"Node:Children entry '{child.Id}': {rejection.Message}");
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
