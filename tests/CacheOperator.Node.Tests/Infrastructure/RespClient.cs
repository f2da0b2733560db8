using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>A minimal blocking RESP client over a raw socket: exact bytes out, exact reply types back.</summary>
public sealed class RespClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _in;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>.</summary>
    public RespClient(int port, TimeSpan? timeout = null)
    {
        _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true };
        _tcp.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        _stream = _tcp.GetStream();
        _in = new BufferedStream(_stream, 64 * 1024);
    }

    /// <summary>Sends a command as a multibulk of UTF-8 strings and reads one reply.</summary>
    public RespValue Call(params string[] args) => Call(args.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Sends a command of binary arguments and reads one reply.</summary>
    public RespValue Call(params byte[][] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>Sends a command without reading the reply.</summary>
    public void Send(params string[] args) => Send(args.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Sends a command of binary arguments without reading the reply.</summary>
    public void Send(params byte[][] args) => SendRaw(Encode(args));

    /// <summary>Encodes a command as a RESP multibulk.</summary>
    public static byte[] Encode(params byte[][] args)
    {
        var ms = new MemoryStream();
        Write(ms, $"*{args.Length}\r\n");
        foreach (var arg in args)
        {
            Write(ms, $"${arg.Length}\r\n");
            ms.Write(arg);
            Write(ms, "\r\n");
        }
        return ms.ToArray();
    }

    /// <summary>Encodes a command of strings as a RESP multibulk.</summary>
    public static byte[] Encode(params string[] args) => Encode(args.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Writes bytes as they are.</summary>
    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    /// <summary>Writes text as it is.</summary>
    public void SendRaw(string text) => SendRaw(Encoding.UTF8.GetBytes(text));

    /// <summary>True when the server closed the connection (read returns end of stream).</summary>
    public bool IsClosedByServer()
    {
        try
        {
            return _in.ReadByte() == -1;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Reads one reply.</summary>
    public RespValue Read()
    {
        int type = _in.ReadByte();
        if (type < 0)
        {
            throw new IOException("Connection closed by server");
        }
        string line = ReadLine();
        switch ((char)type)
        {
            case '+':
                return new RespValue(RespKind.Simple, Encoding.UTF8.GetBytes(line));
            case '-':
                return new RespValue(RespKind.Error, Encoding.UTF8.GetBytes(line));
            case ':':
                return new RespValue(RespKind.Integer, Integer: long.Parse(line, CultureInfo.InvariantCulture));
            case ',':
                return new RespValue(RespKind.Double, Encoding.UTF8.GetBytes(line));
            case '(':
                return new RespValue(RespKind.BigNumber, Encoding.UTF8.GetBytes(line));
            case '#':
                return new RespValue(RespKind.Boolean, Encoding.UTF8.GetBytes(line), line == "t" ? 1 : 0);
            case '_':
                return new RespValue(RespKind.Null);
            case '$':
            case '=':
                int length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return new RespValue(RespKind.Null);
                }
                var data = new byte[length];
                _in.ReadExactly(data);
                ReadLine();
                return new RespValue(type == '$' ? RespKind.Bulk : RespKind.Verbatim, data);
            case '*':
            case '~':
            case '>':
            case '%':
                int count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return new RespValue(RespKind.Null);
                }
                int n = type == '%' ? count * 2 : count;
                var items = new List<RespValue>(n);
                for (int i = 0; i < n; i++)
                {
                    items.Add(Read());
                }
                var kind = type switch { '*' => RespKind.Array, '~' => RespKind.Set, '>' => RespKind.Push, _ => RespKind.Map };
                return new RespValue(kind, Items: items);
            default:
                throw new InvalidDataException($"Unknown RESP type byte '{(char)type}' followed by '{line}'");
        }
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = _in.ReadByte();
            if (b < 0)
            {
                throw new IOException("Connection closed mid-line");
            }
            if (b == '\r')
            {
                _in.ReadByte();
                return sb.ToString();
            }
            sb.Append((char)b);
        }
    }

    private static void Write(Stream s, string text) => s.Write(Encoding.UTF8.GetBytes(text));

    /// <inheritdoc/>
    public void Dispose() => _tcp.Dispose();
}
