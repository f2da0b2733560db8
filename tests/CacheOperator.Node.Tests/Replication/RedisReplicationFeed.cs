using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// A fake replica of a real redis-server: sends SYNC, skips the snapshot, and collects the command stream
/// the master propagates, to compare with the node's change stream.
/// </summary>
public sealed class RedisReplicationFeed : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly MemoryStream _received = new();
    private readonly Thread _reader;

    private RedisReplicationFeed(int port)
    {
        _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true };
        _tcp.ReceiveTimeout = 30_000;
        _stream = _tcp.GetStream();
        _stream.Write("SYNC\r\n"u8);
        SkipSnapshot();
        _reader = new Thread(ReadStream) { IsBackground = true };
        _reader.Start();
    }

    /// <summary>Connects to the redis-server on <paramref name="port"/> as a replica (it must save to disk, not diskless).</summary>
    public static RedisReplicationFeed Attach(int port) => new(port);

    /// <summary>The complete commands received so far, as text, without the master's PINGs.</summary>
    public List<string> Commands
    {
        get
        {
            byte[] bytes;
            lock (_received)
            {
                bytes = _received.ToArray();
            }
            return ParseComplete(bytes).Where(c => c != "PING").ToList();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _tcp.Dispose();

    private void SkipSnapshot()
    {
        // While the master prepares the snapshot it sends newlines to keep the link alive.
        int b;
        while ((b = _stream.ReadByte()) == '\n')
        {
        }
        Assert.Equal('$', b);
        var length = new StringBuilder();
        while ((b = _stream.ReadByte()) != '\r')
        {
            length.Append((char)b);
        }
        Assert.Equal('\n', _stream.ReadByte());
        long remaining = long.Parse(length.ToString(), CultureInfo.InvariantCulture);
        var buffer = new byte[8192];
        while (remaining > 0)
        {
            int n = _stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            Assert.True(n > 0, "the master closed the link during the snapshot");
            remaining -= n;
        }
    }

    private void ReadStream()
    {
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = _stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                lock (_received)
                {
                    _received.Write(buffer, 0, n);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static List<string> ParseComplete(byte[] bytes)
    {
        var commands = new List<string>();
        int pos = 0;
        while (TryParse(bytes, ref pos, out var command))
        {
            commands.Add(command);
        }
        return commands;
    }

    private static bool TryParse(byte[] bytes, ref int pos, out string command)
    {
        command = "";
        int at = pos;
        if (!TryNumber(bytes, ref at, '*', out int count))
        {
            return false;
        }
        var args = new string[count];
        for (int i = 0; i < count; i++)
        {
            if (!TryNumber(bytes, ref at, '$', out int length) || at + length + 2 > bytes.Length)
            {
                return false;
            }
            args[i] = Encoding.UTF8.GetString(bytes, at, length);
            at += length + 2;
        }
        pos = at;
        command = string.Join(' ', args);
        return true;
    }

    private static bool TryNumber(byte[] bytes, ref int pos, char kind, out int value)
    {
        value = 0;
        if (pos >= bytes.Length || bytes[pos] != kind)
        {
            return false;
        }
        int end = Array.IndexOf(bytes, (byte)'\r', pos);
        if (end < 0 || end + 1 >= bytes.Length)
        {
            return false;
        }
        value = int.Parse(Encoding.ASCII.GetString(bytes, pos + 1, end - pos - 1), CultureInfo.InvariantCulture);
        pos = end + 2;
        return true;
    }
}
