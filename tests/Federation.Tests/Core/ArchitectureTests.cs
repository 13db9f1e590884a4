using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Federation.Aggregator.Catalogues;

namespace Federation.Tests.Core;

/// <summary>The core stays deterministic: no network, database, resilience or logging package, and no ambient state.</summary>
public sealed class ArchitectureTests
{
    private static readonly string[] s_forbiddenAssemblyPrefixes =
        ["Grpc.AspNetCore", "Grpc.Net", "Grpc.Core", "Microsoft.AspNetCore", "LiteDB", "Polly", "Microsoft.Extensions", "System.Net.Http", "System.Net.Sockets", "System.Diagnostics.Process"];

    /// <summary>Members that read a clock, the environment, a random source or the file system.</summary>
    private static readonly string[] s_forbiddenMembers =
    [
        "System.DateTime::get_Now", "System.DateTime::get_UtcNow", "System.DateTime::get_Today",
        "System.DateTimeOffset::get_Now", "System.DateTimeOffset::get_UtcNow",
        "System.TimeProvider::get_System", "System.Diagnostics.Stopwatch::*",
        "System.Environment::*", "System.Guid::NewGuid", "System.Threading.Thread::Sleep", "System.Threading.Tasks.Task::Delay",
        "System.Random::*", "System.Security.Cryptography.RandomNumberGenerator::*",
        "System.IO.File::*", "System.IO.Directory::*", "System.IO.FileStream::*", "System.Diagnostics.Process::*",
    ];

    private static Assembly Core => typeof(CatalogueIndex).Assembly;

    [Fact]
    public void Aggregator_ReferencesNoNetworkDatabaseResilienceOrLoggingAssembly()
    {
        var references = Core.GetReferencedAssemblies().Select(static a => a.Name!).ToList();

        Assert.Contains("Google.Protobuf", references);
        Assert.DoesNotContain(references, static r => s_forbiddenAssemblyPrefixes.Any(p => r.StartsWith(p, StringComparison.Ordinal)));
    }

    [Fact]
    public void Aggregator_ReadsNoClockEnvironmentRandomnessOrFiles()
    {
        Assert.Empty(ForbiddenMemberReferences(Core));
    }

    [Fact]
    public void ForbiddenMemberScan_OnTheNode_FindsItsClockAndRandomness()
    {
        // The scan must be able to fail: the node reads the clock and draws its key seed at random.
        var found = ForbiddenMemberReferences(typeof(Federation.Node.Cli.ReportFile).Assembly);

        Assert.Contains(found, static m => m.StartsWith("System.Security.Cryptography.RandomNumberGenerator::", StringComparison.Ordinal));
        Assert.Contains(found, static m => m.StartsWith("System.IO.File::", StringComparison.Ordinal));
    }

    private static List<string> ForbiddenMemberReferences(Assembly assembly)
    {
        using var stream = File.OpenRead(assembly.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var found = new List<string>();
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (member.Parent.Kind != HandleKind.TypeReference)
            {
                continue;
            }

            var type = metadata.GetTypeReference((TypeReferenceHandle)member.Parent);
            var typeName = $"{metadata.GetString(type.Namespace)}.{metadata.GetString(type.Name)}";
            var name = $"{typeName}::{metadata.GetString(member.Name)}";
            if (s_forbiddenMembers.Any(f => f == name || (f.EndsWith("::*", StringComparison.Ordinal) && f[..^3] == typeName)))
            {
                found.Add(name);
            }
        }

        return found;
    }
}
