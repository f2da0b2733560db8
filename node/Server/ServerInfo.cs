namespace CacheOperator.Node.Server;

/// <summary>Facts about this server that INFO, HELLO and --version report.</summary>
public static class ServerInfo
{
    /// <summary>The Redis version whose behaviour the node follows; clients pick features by it.</summary>
    public const string RedisVersion = "7.0.15";
}
