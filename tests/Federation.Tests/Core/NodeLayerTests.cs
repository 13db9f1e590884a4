using System.Reflection;
using System.Reflection.Emit;
using Federation.Node.Cli;

namespace Federation.Tests.Core;

/// <summary>
/// The node's folders depend one way: endpoints (Grpc, and the web page in Web) → application services (Reporting, Rollup,
/// Queries, Admin, Security) → Operations (metrics, health) and Storage. Storage references no other node folder; the shared pieces (Application,
/// Configuration, the node's identity and endpoint) reference none of the layers; and only the
/// composition root and the command line may reference everything. Found by reading every type's
/// signatures and the tokens in every method body, so a static call counts as much as a field.
/// </summary>
public sealed class NodeLayerTests
{
    private const string Root = "Federation.Node.";

    /// <summary>Layer of each folder: a folder may reference its own layer's folders (without cycles) and lower ones.</summary>
    private static readonly Dictionary<string, int> s_layers = new(StringComparer.Ordinal)
    {
        ["Grpc"] = 3,
        ["Web"] = 3,
        ["Reporting"] = 2,
        ["Import"] = 2,
        ["Rollup"] = 2,
        ["Queries"] = 2,
        ["Admin"] = 2,
        ["Review"] = 2,
        ["Ratings"] = 2,
        ["Ledger"] = 2,
        ["Security"] = 2,
        ["Retention"] = 2,
        ["Storage"] = 1,
        // The node's instruments and health check: every service counts through them; they read the store.
        ["Operations"] = 1,
        ["Application"] = 0,
        ["Configuration"] = 0,
        ["HostFacts"] = 0,
    };

    /// <summary>Hosting types every layer may use: who this node is and where it listens. The rest of Hosting is the composition root.</summary>
    private static readonly HashSet<string> s_hostFacts = new(StringComparer.Ordinal) { "NodeIdentity", "NodeKeyFile", "KeyFileMissingException", "NodeEndpoint" };

    private static readonly Lazy<List<(string From, string To, string Example)>> s_edges = new(Scan);

    [Fact]
    public void NodeFolders_DependOneWay_FromEndpointsThroughServicesToStorage()
    {
        var upward = s_edges.Value
            .Where(static e => s_layers.TryGetValue(e.From, out var from) && (!s_layers.TryGetValue(e.To, out var to) || to > from))
            .Select(static e => e.Example)
            .ToList();

        Assert.True(upward.Count == 0, "references that point up or into the composition root:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void Storage_ReferencesNoOtherNodeFolder()
    {
        var outward = s_edges.Value.Where(static e => e.From == "Storage").Select(static e => e.Example).ToList();

        Assert.True(outward.Count == 0, string.Join("\n", outward));
    }

    [Fact]
    public void ApplicationServices_DoNotDependOnEachOtherInACycle()
    {
        var services = s_layers.Where(static l => l.Value == 2).Select(static l => l.Key).ToList();
        var graph = services.ToDictionary(
            static s => s,
            s => s_edges.Value.Where(e => e.From == s && e.To != s && services.Contains(e.To)).Select(static e => e.To).ToHashSet(),
            StringComparer.Ordinal);

        foreach (var start in services)
        {
            Assert.False(Reaches(graph, start, start, []), $"{start} depends on itself through other services: " +
                string.Join(", ", graph.Select(static g => $"{g.Key} → [{string.Join(' ', g.Value)}]")));
        }
    }

    [Fact]
    public void Scan_SeesReferencesMadeOnlyInMethodBodies()
    {
        // The scan must be able to fail: endpoints call services, and services call storage, inside their methods.
        Assert.Contains(s_edges.Value, static e => e.From == "Grpc" && e.To == "Rollup");
        Assert.Contains(s_edges.Value, static e => e.From == "Rollup" && e.To == "Storage");
        Assert.Contains(s_edges.Value, static e => e.From == "Composition" && e.To == "Grpc");
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> graph, string from, string target, HashSet<string> seen)
    {
        foreach (var next in graph[from])
        {
            if (next == target || (seen.Add(next) && Reaches(graph, next, target, seen)))
            {
                return true;
            }
        }

        return false;
    }

    private static List<(string From, string To, string Example)> Scan()
    {
        var assembly = typeof(ReportFile).Assembly;
        var edges = new Dictionary<(string, string), string>();
        foreach (var type in assembly.GetTypes())
        {
            if (FolderOf(type) is not { } from)
            {
                continue;
            }

            foreach (var referenced in References(type).SelectMany(Expand))
            {
                if (referenced.Assembly == assembly && FolderOf(referenced) is { } to && to != from)
                {
                    edges.TryAdd((from, to), $"{from}: {Outermost(type).FullName} → {Outermost(referenced).FullName}");
                }
            }
        }

        return [.. edges.Select(static e => (e.Key.Item1, e.Key.Item2, e.Value))];
    }

    /// <summary>The folder a type lives in; nested and compiler-generated types belong to their outermost type's.</summary>
    private static string? FolderOf(Type type)
    {
        var outer = Outermost(type);
        var ns = outer.Namespace ?? string.Empty;
        if (!ns.StartsWith(Root, StringComparison.Ordinal))
        {
            return null;
        }

        var folder = ns[Root.Length..].Split('.')[0];
        return folder == "Hosting" ? (s_hostFacts.Contains(outer.Name) ? "HostFacts" : "Composition") : folder;
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    /// <summary>A type with its generic arguments and element types, recursively.</summary>
    private static IEnumerable<Type> Expand(Type type)
    {
        yield return type;
        if (type.HasElementType && type.GetElementType() is { } element)
        {
            foreach (var t in Expand(element))
            {
                yield return t;
            }
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            foreach (var t in type.GetGenericArguments().SelectMany(Expand))
            {
                yield return t;
            }
        }
    }

    private static IEnumerable<Type> References(Type type)
    {
        const BindingFlags declared = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var i in type.GetInterfaces())
        {
            yield return i;
        }

        foreach (var field in type.GetFields(declared))
        {
            yield return field.FieldType;
        }

        foreach (var property in type.GetProperties(declared))
        {
            yield return property.PropertyType;
        }

        foreach (var method in type.GetMethods(declared).Cast<MethodBase>().Concat(type.GetConstructors(declared)))
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }

            foreach (var t in BodyReferences(type, method))
            {
                yield return t;
            }
        }
    }

    private static readonly Dictionary<short, OpCode> s_opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(static f => (OpCode)f.GetValue(null)!)
        .ToDictionary(static o => o.Value);

    /// <summary>The types named by the tokens of a method body (calls, field accesses, casts, typeof) and by its locals.</summary>
    private static IEnumerable<Type> BodyReferences(Type type, MethodBase method)
    {
        var body = method.GetMethodBody();
        var il = body?.GetILAsByteArray();
        if (body is null || il is null)
        {
            yield break;
        }

        foreach (var local in body.LocalVariables)
        {
            yield return local.LocalType;
        }

        var typeArguments = type.IsGenericType ? type.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            short value = il[i++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[i++]);
            }

            var opCode = s_opCodes[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    var member = Resolve(method.Module, BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                    i += 4;
                    if (member is Type named)
                    {
                        yield return named;
                    }
                    else if (member?.DeclaringType is { } declaring)
                    {
                        yield return declaring;
                        if (member is MethodInfo { IsGenericMethod: true } generic)
                        {
                            foreach (var argument in generic.GetGenericArguments())
                            {
                                yield return argument;
                            }
                        }
                    }

                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                default:
                    i += 4;
                    break;
            }
        }
    }

    private static MemberInfo? Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return module.ResolveMember(token, typeArguments, methodArguments);
        }
        catch (ArgumentException)
        {
            // A token from another generic context; its declaring type is seen through the signatures anyway.
            return null;
        }
    }
}
