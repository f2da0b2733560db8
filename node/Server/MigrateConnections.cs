using System.Net;
using System.Net.Sockets;
using CacheOperator.Client;

namespace CacheOperator.Node.Server;

/// <summary>
/// One cached connection of MIGRATE to a target, with the database it last selected there (Redis's migrateCachedSocket):
/// a blocking socket with our client library's encoder and frame reader on it, read and written synchronously with a
/// timeout per operation as Redis's syncio does, so that a MIGRATE never waits for the thread pool.
/// </summary>
public sealed class MigrateConnection
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly RespFrameReader _reader = new();

    internal MigrateConnection(string name, Socket socket, long nowMs)
    {
        Name = name;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        LastUseMs = nowMs;
    }

    /// <summary>"host:port" as MIGRATE's arguments spelled them, the cache key.</summary>
    public string Name { get; }

    /// <summary>The database SELECTed on the target by the last successful MIGRATE, or -1 (SELECT is sent again).</summary>
    public long LastDb { get; set; } = -1;

    internal long LastUseMs { get; set; }

    /// <summary>A MIGRATE is using it: the background cycle leaves it open however long the MIGRATE waits.</summary>
    internal bool InUse { get; set; }

    /// <summary>Sends <paramref name="bytes"/>, each send waiting at most <paramref name="timeoutMs"/>; throws <see cref="SocketException"/> or <see cref="IOException"/>.</summary>
    public void Send(ReadOnlySpan<byte> bytes, long timeoutMs)
    {
        _socket.SendTimeout = (int)Math.Min(timeoutMs, int.MaxValue);
        while (!bytes.IsEmpty)
        {
            int sent = _socket.Send(bytes);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Reads one reply, each receive waiting at most <paramref name="timeoutMs"/>; throws <see cref="IOException"/> on error, end or timeout.</summary>
    public RespReply Read(long timeoutMs)
    {
        _socket.ReceiveTimeout = (int)Math.Min(timeoutMs, int.MaxValue);
        return _reader.Read(_stream);
    }

    /// <summary>Closes the connection.</summary>
    public void Close() => _stream.Dispose();
}

/// <summary>
/// MIGRATE's connections to its targets, as Redis's migrate_cached_sockets: one per "host:port", reused by the
/// next MIGRATE to the same target, at most <see cref="MaxConnections"/> (a random one is closed to make room),
/// closed by the background cycle once unused for <see cref="IdleMs"/>. MIGRATE uses a connection under the
/// keyspace lock; the background cycle closes idle ones from its own thread, hence the cache's own lock.
/// </summary>
public sealed class MigrateConnections
{
    /// <summary>Redis's MIGRATE_SOCKET_CACHE_ITEMS.</summary>
    public const int MaxConnections = 64;

    /// <summary>Redis's MIGRATE_SOCKET_CACHE_TTL (10 s).</summary>
    public const long IdleMs = 10_000;

    private readonly Dictionary<string, MigrateConnection> _byName = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    /// <summary>Connections cached now.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _byName.Count;
            }
        }
    }

    /// <summary>
    /// The cached connection to <paramref name="host"/>:<paramref name="port"/>, or a new one connected within
    /// <paramref name="timeoutMs"/>, blocking the caller meanwhile (as Redis's connBlockingConnect); null when the
    /// target cannot be reached: <paramref name="refused"/> tells a refused connection (which Redis's non-blocking connect
    /// only notices when it writes) from a name that does not resolve or a connect that timed out. A cached connection the
    /// target has closed since is replaced by a new one.
    /// </summary>
    public MigrateConnection? Get(string host, string port, long timeoutMs, out bool refused)
    {
        refused = false;
        string name = host + ":" + port;
        long now = Environment.TickCount64;
        lock (_sync)
        {
            if (_byName.TryGetValue(name, out var cached))
            {
                // A connection the target closed since fails at its first use, and MIGRATE retries on a new one, as Redis does.
                cached.LastUseMs = now;
                cached.InUse = true;
                return cached;
            }
        }
        var socket = Connect(host, Atoi(port), timeoutMs, out refused);
        if (socket is null)
        {
            return null;
        }
        var entry = new MigrateConnection(name, socket, Environment.TickCount64) { InUse = true };
        lock (_sync)
        {
            if (_byName.Count >= MaxConnections)
            {
                // Too many: drop one at random, as Redis does.
                var victim = _byName.Values.ElementAt(Random.Shared.Next(_byName.Count));
                _byName.Remove(victim.Name);
                victim.Close();
            }
            _byName[name] = entry;
        }
        return entry;
    }

    /// <summary>The MIGRATE that got <paramref name="entry"/> from <see cref="Get"/> is done with it; its idle time starts now.</summary>
    public void Release(MigrateConnection entry)
    {
        lock (_sync)
        {
            entry.LastUseMs = Environment.TickCount64;
            entry.InUse = false;
        }
    }

    /// <summary>Closes the connection to "host:port" (after an I/O error, so the next MIGRATE connects and SELECTs afresh).</summary>
    public void Close(string host, string port)
    {
        MigrateConnection? entry;
        lock (_sync)
        {
            if (!_byName.Remove(host + ":" + port, out entry))
            {
                return;
            }
        }
        entry.Close();
    }

    /// <summary>Closes connections unused for longer than <see cref="IdleMs"/> (Redis's migrateCloseTimedoutSockets, run by the background cycle).</summary>
    public void CloseIdle(long nowMs)
    {
        List<MigrateConnection>? idle = null;
        lock (_sync)
        {
            if (_byName.Count == 0)
            {
                return;
            }
            foreach (var entry in _byName.Values)
            {
                if (!entry.InUse && nowMs - entry.LastUseMs > IdleMs)
                {
                    (idle ??= []).Add(entry);
                }
            }
            foreach (var entry in idle ?? [])
            {
                _byName.Remove(entry.Name);
            }
        }
        foreach (var entry in idle ?? [])
        {
            entry.Close();
        }
    }

    /// <summary>Closes every connection (shutdown).</summary>
    public void CloseAll()
    {
        MigrateConnection[] all;
        lock (_sync)
        {
            all = [.. _byName.Values];
            _byName.Clear();
        }
        foreach (var entry in all)
        {
            entry.Close();
        }
    }

    /// <summary>Connects within the timeout on this thread (Redis's connBlockingConnect); null on failure.</summary>
    private static Socket? Connect(string host, int port, long timeoutMs, out bool refused)
    {
        refused = false;
        if (port < 0)
        {
            // Redis hands the port to getaddrinfo as text: a negative one does not resolve.
            return null;
        }
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : Dns.GetHostAddresses(host);
        }
        catch (SocketException)
        {
            return null;
        }
        foreach (var address in addresses)
        {
            // A blocking socket from the start, never a non-blocking one: .NET emulates blocking calls on a socket that was
            // ever non-blocking by waiting for its event engine, whose events are processed on the thread pool; MIGRATE
            // waits under the keyspace lock, pool threads pile up on that lock, and the reply that has arrived goes unread
            // until the timeout. Linux bounds a blocking connect by SO_SNDTIMEO, which gives Redis's connect timeout.
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true,
                SendTimeout = (int)Math.Clamp(timeoutMs, 1, int.MaxValue),
            };
            try
            {
                try
                {
                    // getaddrinfo keeps the low 16 bits of a larger number, as Redis ends up connecting there.
                    socket.Connect(new IPEndPoint(address, port & 0xFFFF));
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.TimedOut)
                {
                    // The connect timed out.
                    socket.Dispose();
                    return null;
                }
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                refused = e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable;
            }
        }
        return null;
    }

    /// <summary>C's atoi, as Redis reads MIGRATE's port: leading digits, 0 when there are none.</summary>
    private static int Atoi(string text)
    {
        int i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
        bool negative = i < text.Length && text[i] == '-';
        if (i < text.Length && text[i] is '+' or '-')
        {
            i++;
        }
        long value = 0;
        for (; i < text.Length && text[i] is >= '0' and <= '9'; i++)
        {
            value = Math.Min(value * 10 + (text[i] - '0'), int.MaxValue);
        }
        return (int)(negative ? -value : value);
    }
}
