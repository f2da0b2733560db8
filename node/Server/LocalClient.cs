using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>
/// A client of the node without a socket: its commands run through <see cref="CommandRunner"/> exactly as a
/// connection's do (same dispatcher, lock, blocking and transactions), and its replies are collected in memory
/// as RESP. Tests use it, and next the replica link applying a stream, the snapshot loader and scripts.
/// One caller at a time, like one connection.
/// </summary>
public sealed class LocalClient
{
    private readonly Pipe _replies = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private CommandBatch _batch = new();
    private readonly long _maxBulk;

    internal LocalClient(NodeServer server, long id)
    {
        Session = new Session(server, id, new ReplyWriter(_replies.Writer), "local", "local");
        _maxBulk = server.Config.ProtoMaxBulkLen.Number;
    }

    /// <summary>The client's state (database, protocol, transaction) as commands see it.</summary>
    public Session Session { get; }

    /// <summary>Runs one command (name first) and returns its reply as RESP; waits while the command blocks.</summary>
    public Task<byte[]> RunAsync(params string[] args) =>
        RunAsync(args.Select(a => Encoding.UTF8.GetBytes(a)).ToArray());

    /// <summary>Runs one command given as raw arguments and returns its reply as RESP.</summary>
    public async Task<byte[]> RunAsync(params byte[][] args)
    {
        var writer = new ArrayBufferWriter<byte>();
        WriteCommand(writer, args);
        return await RunRespAsync(new ReadOnlySequence<byte>(writer.WrittenMemory));
    }

    /// <summary>
    /// Runs every complete command in <paramref name="requests"/> (RESP multibulk or inline, as a client or a
    /// master's replication stream sends them) in order and returns all their replies; an incomplete command at
    /// the end refuses the whole input before anything runs, since no more bytes will come.
    /// </summary>
    public async Task<byte[]> RunRespAsync(ReadOnlySequence<byte> requests)
    {
        var consumed = RespParser.Parse(requests, _batch, _maxBulk);
        if (!requests.Slice(consumed).IsEmpty || _batch.PendingArgs > 0)
        {
            _batch = new CommandBatch();
            throw new ProtocolException("incomplete command at the end of the input");
        }
        int count = _batch.CommandCount;
        int next = 0;
        try
        {
            while (next < count)
            {
                next = CommandRunner.RunBatch(Session, _batch, next);
                if (Session.Suspension is { } suspension)
                {
                    // Whoever answers the wait writes to the outbound queue, drained before the next command or the end.
                    Session.Suspension = null;
                    Session.IsBlocked = true;
                    try
                    {
                        await suspension;
                    }
                    finally
                    {
                        Session.IsBlocked = false;
                        Session.Blocked = null;
                    }
                }
                if (Session.CloseAfterReply)
                {
                    break;
                }
            }
        }
        finally
        {
            _batch.ClearCompleted();
        }
        return TakeReplies();
    }

    /// <summary>Writes <paramref name="args"/> as a RESP multibulk command.</summary>
    public static void WriteCommand(IBufferWriter<byte> writer, IReadOnlyList<byte[]> args)
    {
        WriteLine(writer, (byte)'*', args.Count);
        foreach (var arg in args)
        {
            WriteLine(writer, (byte)'$', arg.Length);
            writer.Write(arg);
            writer.Write("\r\n"u8);
        }
    }

    private static void WriteLine(IBufferWriter<byte> writer, byte prefix, long value)
    {
        var span = writer.GetSpan(24);
        span[0] = prefix;
        value.TryFormat(span[1..], out int length, provider: CultureInfo.InvariantCulture);
        span[length + 1] = (byte)'\r';
        span[length + 2] = (byte)'\n';
        writer.Advance(length + 3);
    }

    private byte[] TakeReplies()
    {
        lock (Session.Keyspace.Sync)
        {
            Session.Outbound.DrainTo(Session.Reply);
        }
        _ = _replies.Writer.FlushAsync();
        if (!_replies.Reader.TryRead(out var read))
        {
            return [];
        }
        var bytes = read.Buffer.ToArray();
        _replies.Reader.AdvanceTo(read.Buffer.End);
        return bytes;
    }
}
