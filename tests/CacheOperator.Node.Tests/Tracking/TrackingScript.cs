using System.Net.Sockets;
using System.Text;

namespace CacheOperator.Node.Tests.Tracking;

/// <summary>
/// Runs one script of commands from several connections against a server and records every byte each connection
/// receives, so that redis-server's and the node's transcripts can be compared byte for byte, pushes included. After a
/// step, the acting connection's frames are read up to its reply (pushes before it included); every other connection
/// sends PING and its frames are read up to the PONG, so invalidations other clients' commands caused are recorded in
/// the step that caused them. Both servers queue such invalidations before the causing command's reply, so the
/// transcript is deterministic. "{idN}" in a command stands for connection N's CLIENT ID; ids in replies of CLIENT
/// GETREDIR, TRACKINGINFO and tracking-redir-broken pushes are written back as "{idN}".
/// </summary>
public sealed class TrackingScript : IDisposable
{
    private readonly List<RawConnection> _connections = [];
    private readonly List<long> _ids = [];

    /// <summary>Connects one client per entry of <paramref name="protocols"/> (2 or 3) after flushing the server.</summary>
    public TrackingScript(int port, params int[] protocols)
    {
        using (var admin = new RawConnection(port))
        {
            admin.Call("FLUSHALL");
            admin.Call("CONFIG", "SET", "tracking-table-max-keys", "1000000");
        }
        foreach (int protocol in protocols)
        {
            var connection = new RawConnection(port);
            if (protocol == 3)
            {
                connection.Call("HELLO", "3");
            }
            var id = Encoding.ASCII.GetString(connection.Call("CLIENT", "ID"));
            _ids.Add(long.Parse(id.AsSpan(1, id.Length - 3), System.Globalization.CultureInfo.InvariantCulture));
            _connections.Add(connection);
        }
    }

    /// <summary>Connection <paramref name="index"/>'s CLIENT ID.</summary>
    public long Id(int index) => _ids[index];

    /// <summary>Closes connection <paramref name="index"/> (a redirection target going away).</summary>
    public void Close(int index) => _connections[index].Dispose();

    /// <summary>Runs <paramref name="command"/> on connection <paramref name="client"/> and returns what every live connection received.</summary>
    public string Step(int client, params string[] command)
    {
        var args = command.Select(Substitute).ToArray();
        var text = new StringBuilder();
        text.Append(client).Append(": ").Append(string.Join(' ', command)).Append('\n');
        var acting = _connections[client];
        acting.Send(args);
        foreach (var frame in acting.ReadThrough(f => f[0] != (byte)'>'))
        {
            text.Append("  ").Append(client).Append(" <- ").Append(Show(frame)).Append('\n');
        }
        for (int i = 0; i < _connections.Count; i++)
        {
            if (i != client && !_connections[i].IsDisposed)
            {
                Sync(i, text);
            }
        }
        return text.ToString();
    }

    /// <summary>Collects what connection <paramref name="index"/> received so far (a PING round trip).</summary>
    public string Drain(int index)
    {
        var text = new StringBuilder();
        Sync(index, text);
        return text.ToString();
    }

    private void Sync(int index, StringBuilder text)
    {
        var connection = _connections[index];
        connection.Send(["PING"]);
        foreach (var frame in connection.ReadThrough(IsPong))
        {
            if (!IsPong(frame))
            {
                text.Append("  ").Append(index).Append(" <- ").Append(Show(frame)).Append('\n');
            }
        }
    }

    private static bool IsPong(byte[] frame) => frame.AsSpan().SequenceEqual("+PONG\r\n"u8) || frame.AsSpan().SequenceEqual("*2\r\n$4\r\npong\r\n$0\r\n\r\n"u8);

    private string Substitute(string arg)
    {
        for (int i = 0; i < _ids.Count; i++)
        {
            arg = arg.Replace($"{{id{i}}}", _ids[i].ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }
        return arg;
    }

    private string Show(byte[] frame)
    {
        string text = Encoding.UTF8.GetString(frame);
        for (int i = 0; i < _ids.Count; i++)
        {
            string id = _ids[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
            text = text.Replace($"redirect\r\n:{id}\r\n", $"redirect\r\n:{{id{i}}}\r\n", StringComparison.Ordinal)
                .Replace($"tracking-redir-broken\r\n:{id}\r\n", $"tracking-redir-broken\r\n:{{id{i}}}\r\n", StringComparison.Ordinal);
            if (text == $":{id}\r\n")
            {
                text = $":{{id{i}}}\r\n";
            }
        }
        return text.Replace("\r\n", "\\r\\n", StringComparison.Ordinal);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }
}

/// <summary>A socket that reads whole RESP2/RESP3 frames as their raw bytes.</summary>
public sealed class RawConnection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>.</summary>
    public RawConnection(int port)
    {
        _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true, ReceiveTimeout = 20_000 };
        _stream = _tcp.GetStream();
    }

    /// <summary>True once closed.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Sends a command.</summary>
    public void Send(params string[] args) => _stream.Write(Infrastructure.RespClient.Encode(args));

    /// <summary>Sends a command and returns its reply's bytes (no pushes expected before it).</summary>
    public byte[] Call(params string[] args)
    {
        Send(args);
        return ReadFrame();
    }

    /// <summary>Reads frames until one satisfies <paramref name="last"/>, returning all of them.</summary>
    public List<byte[]> ReadThrough(Func<byte[], bool> last)
    {
        var frames = new List<byte[]>();
        while (true)
        {
            var frame = ReadFrame();
            frames.Add(frame);
            if (last(frame))
            {
                return frames;
            }
        }
    }

    /// <summary>Reads one whole frame.</summary>
    public byte[] ReadFrame()
    {
        var frame = new MemoryStream();
        ReadInto(frame);
        return frame.ToArray();
    }

    private void ReadInto(MemoryStream frame)
    {
        string line = ReadLine(frame);
        char type = line[0];
        long count = type is '+' or '-' or ':' or ',' or '#' or '(' or '_' ? 0 : long.Parse(line.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
        switch (type)
        {
            case '$' or '=' or '!' when count >= 0:
                ReadBytes(frame, (int)count + 2);
                break;
            case '*' or '~' or '>':
                for (long i = 0; i < count; i++)
                {
                    ReadInto(frame);
                }
                break;
            case '%' or '|':
                for (long i = 0; i < 2 * count; i++)
                {
                    ReadInto(frame);
                }
                break;
        }
    }

    private string ReadLine(MemoryStream frame)
    {
        var line = new StringBuilder();
        while (true)
        {
            byte b = ReadByte();
            frame.WriteByte(b);
            if (b == '\n' && line.Length > 0 && line[^1] == '\r')
            {
                return line.ToString(0, line.Length - 1);
            }
            line.Append((char)b);
        }
    }

    private void ReadBytes(MemoryStream frame, int count)
    {
        for (int i = 0; i < count; i++)
        {
            frame.WriteByte(ReadByte());
        }
    }

    private byte ReadByte()
    {
        if (_start == _end)
        {
            _start = 0;
            _end = _stream.Read(_buffer, 0, _buffer.Length);
            if (_end <= 0)
            {
                throw new IOException("connection closed by the server");
            }
        }
        return _buffer[_start++];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        IsDisposed = true;
        _tcp.Dispose();
    }
}
