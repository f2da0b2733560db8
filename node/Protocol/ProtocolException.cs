namespace CacheOperator.Node.Protocol;

/// <summary>A request that breaks RESP framing; the connection is answered with the message and closed, as Redis does.</summary>
public sealed class ProtocolException(string message) : Exception(message);
