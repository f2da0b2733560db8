namespace CacheOperator.Node.Server;

/// <summary>A transaction being queued between MULTI and EXEC.</summary>
public sealed class MultiState
{
    /// <summary>The queued commands, name first, copied out of the request buffer.</summary>
    public List<byte[][]> Commands { get; } = [];

    /// <summary>Set when a command was refused while queueing (unknown, wrong arity): EXEC answers EXECABORT.</summary>
    public bool Failed { get; set; }

    /// <summary>Set when a write command was queued: CLIENT PAUSE WRITE holds the EXEC.</summary>
    public bool HasWrites { get; set; }
}
