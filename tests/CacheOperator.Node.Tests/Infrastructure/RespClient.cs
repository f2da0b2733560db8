using System.Net.Sockets;
using CacheOperator.Client;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>
/// A minimal blocking RESP client over a raw socket: exact bytes out, exact reply types back. A thin layer over
/// the client library's encoder and frame reader that keeps the raw stream in the test's hands (replies read
/// when the test says, pushes included, malformed input sendable).
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly RespFrameReader _reader = new();

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>.</summary>
    public RespClient(int port, TimeSpan? timeout = null)
    {
        _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true };
        _tcp.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        _stream = _tcp.GetStream();
    }

    /// <summary>Sends a command as a multibulk of UTF-8 strings and reads one reply.</summary>
    public RespValue Call(params string[] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>Sends a command of binary arguments and reads one reply.</summary>
    public RespValue Call(params byte[][] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>Sends a command without reading the reply.</summary>
    public void Send(params string[] args) => SendRaw(Encode(args));

    /// <summary>Sends a command of binary arguments without reading the reply.</summary>
    public void Send(params byte[][] args) => SendRaw(Encode(args));

    /// <summary>Encodes a command as a RESP multibulk.</summary>
    public static byte[] Encode(params byte[][] args) => RespCommandEncoder.Encode(args);

    /// <summary>Encodes a command of strings as a RESP multibulk.</summary>
    public static byte[] Encode(params string[] args) => RespCommandEncoder.Encode(args);

    /// <summary>Writes bytes as they are.</summary>
    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    /// <summary>Writes text as it is.</summary>
    public void SendRaw(string text) => SendRaw(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>True when the server closed the connection (read returns end of stream); bytes read instead stay buffered.</summary>
    public bool IsClosedByServer()
    {
        if (_reader.HasBufferedData)
        {
            return false;
        }
        try
        {
            return _reader.Receive(_stream) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Reads one reply (a push frame included); <see cref="IOException"/> if the connection ends first.</summary>
    public RespValue Read() => RespValue.From(_reader.Read(_stream));

    /// <summary>
    /// For a subscribed connection: the messages already on their way, marked off by a PING whose "pong end" answer
    /// comes after every message the commands before it caused.
    /// </summary>
    public List<RespValue> ReadMessagesUntilPing()
    {
        Send("PING", "end");
        var messages = new List<RespValue>();
        for (var frame = Read(); frame.Texts is not ["pong", "end"]; frame = Read())
        {
            messages.Add(frame);
        }
        return messages;
    }

    /// <summary>Reads one reply as the library's <see cref="RespReply"/>, raw bytes and attributes included.</summary>
    public RespReply ReadReply() => _reader.Read(_stream);

    /// <inheritdoc/>
    public void Dispose() => _tcp.Dispose();
}
