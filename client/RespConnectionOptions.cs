namespace CacheOperator.Client;

/// <summary>Where and how <see cref="RespConnection.ConnectAsync(RespConnectionOptions, CancellationToken)"/> connects.</summary>
public sealed class RespConnectionOptions
{
    /// <summary>Host name or address.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port.</summary>
    public int Port { get; init; } = 6379;

    /// <summary>Limit for the TCP connect and the handshake together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When the oldest pending request has waited this long, the connection is declared dead and every pending
    /// request fails (replies come in order, so nothing behind it can arrive either). Infinite by default:
    /// blocking commands wait as long as they were told to.
    /// </summary>
    public TimeSpan CommandTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>2 (no HELLO) or 3 (HELLO 3 first, so replies are typed and pushes are '&gt;' frames).</summary>
    public int Protocol { get; init; } = 2;

    /// <summary>ACL user for AUTH; null authenticates the default user when <see cref="Password"/> is set.</summary>
    public string? User { get; init; }

    /// <summary>Password for AUTH; null sends no AUTH.</summary>
    public string? Password { get; init; }

    /// <summary>CLIENT SETNAME on connect; null leaves the name unset.</summary>
    public string? ClientName { get; init; }

    /// <summary>SELECT on connect when not 0.</summary>
    public int Database { get; init; }

    /// <summary>
    /// Receives push frames on the receive loop (keep it short; an exception it throws fails the connection).
    /// When null, they go to <see cref="RespConnection.Pushes"/>.
    /// </summary>
    public Action<RespReply>? PushHandler { get; init; }
}
