using System.Globalization;
using System.Text;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>Subscribes to a node's change stream in process and parses what it received back into commands.</summary>
public sealed class StreamCapture : IChangeSubscriber
{
    private readonly NodeServer _server;
    private readonly MemoryStream _bytes = new();
    private int _taken;

    private StreamCapture(NodeServer server) => _server = server;

    /// <summary>Starts capturing the stream of <paramref name="server"/>.</summary>
    public static StreamCapture Attach(NodeServer server)
    {
        var capture = new StreamCapture(server);
        lock (server.Keyspace.Sync)
        {
            server.Propagator.Stream.Subscribe(capture);
        }
        return capture;
    }

    /// <inheritdoc/>
    public void Receive(ReadOnlySpan<byte> commands) => _bytes.Write(commands);

    /// <summary>Every byte received so far.</summary>
    public byte[] Bytes
    {
        get
        {
            lock (_server.Keyspace.Sync)
            {
                return _bytes.ToArray();
            }
        }
    }

    /// <summary>Every command received so far, as argument arrays.</summary>
    public List<byte[][]> Commands => Parse(Bytes);

    /// <summary>The commands received since the last call, as text ("SET k v PXAT 123").</summary>
    public List<string> Take()
    {
        var all = Commands;
        var fresh = all.Skip(_taken).Select(Format).ToList();
        _taken = all.Count;
        return fresh;
    }

    /// <summary>A command as space-separated text.</summary>
    public static string Format(byte[][] argv) => string.Join(' ', argv.Select(a => Encoding.UTF8.GetString(a)));

    /// <summary>Parses RESP multibulk commands; fails on anything else (the stream must hold only those).</summary>
    public static List<byte[][]> Parse(byte[] bytes)
    {
        var commands = new List<byte[][]>();
        int pos = 0;
        while (pos < bytes.Length)
        {
            int count = ReadNumber(bytes, ref pos, '*');
            var argv = new byte[count][];
            for (int i = 0; i < count; i++)
            {
                int length = ReadNumber(bytes, ref pos, '$');
                argv[i] = bytes.AsSpan(pos, length).ToArray();
                pos += length;
                Assert.True(bytes[pos] == '\r' && bytes[pos + 1] == '\n', "bulk not followed by CRLF");
                pos += 2;
            }
            commands.Add(argv);
        }
        return commands;
    }

    private static int ReadNumber(byte[] bytes, ref int pos, char kind)
    {
        Assert.Equal((byte)kind, bytes[pos]);
        int end = Array.IndexOf(bytes, (byte)'\r', pos);
        int value = int.Parse(Encoding.ASCII.GetString(bytes, pos + 1, end - pos - 1), CultureInfo.InvariantCulture);
        pos = end + 2;
        return value;
    }
}
