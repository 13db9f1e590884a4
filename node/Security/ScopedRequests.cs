namespace Federation.Node.Security;

/// <summary>What a request acts on, for the scope check.</summary>
internal enum ScopeTargetKind
{
    /// <summary>A hosted unit, named by the request.</summary>
    Unit,

    /// <summary>A node of the subtree, named by the request; empty means the node answering.</summary>
    Node,

    /// <summary>The node answering itself.</summary>
    Self,

    /// <summary>An enrolled child, named by the request: only a scope of this node or of that very child reaches it.</summary>
    Child,

    /// <summary>
    /// Hosted units named inside the request's content (an imported sheet): the endpoint checks each unit
    /// it finds with <see cref="ScopeInterceptor.AdmitsUnit"/> once it has read them.
    /// </summary>
    Units,
}

/// <summary>A request that names what it acts on, so one interceptor checks every caller's scope against it.</summary>
internal interface IScopedRequest
{
    ScopeTargetKind TargetKind { get; }

    string Target { get; }
}

/// <summary>A scoped request that names its unit or child in a subject_id field (the decision history).</summary>
internal interface ISubjectRequest;
