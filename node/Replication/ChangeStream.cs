using System.Buffers;
using System.Buffers.Text;

namespace CacheOperator.Node.Replication;

/// <summary>Receives the change stream: replicas, the append-only file, tests. Called under the keyspace lock.</summary>
public interface IChangeSubscriber
{
    /// <summary>The next bytes of the stream (whole commands, RESP multibulk); valid only during the call.</summary>
    void Receive(ReadOnlySpan<byte> commands);
}

/// <summary>
/// The node's replication stream: every change as the RESP multibulk commands Redis sends to its replicas,
/// with a SELECT whenever the database differs from the last command's, handed to the subscribers in
/// execution order. <see cref="MasterOffset"/> counts the bytes emitted, as Redis's master_repl_offset
/// (which stays 0 while there is no replica or backlog). Nothing is serialized while nobody subscribes.
/// </summary>
public sealed class ChangeStream
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private IChangeSubscriber[] _subscribers = [];
    private int _selectedDb = -1;

    /// <summary>True when somebody listens; the write path records nothing otherwise.</summary>
    public bool HasSubscribers => _subscribers.Length > 0;

    /// <summary>Bytes emitted since start (INFO master_repl_offset); on a replica, the master's offset of the bytes applied.</summary>
    public long MasterOffset { get; private set; }

    /// <summary>
    /// The database the stream's next command runs in unless it selects another (RDB AUX repl-stream-db): on a replica
    /// the master client's, else the last one selected (0 when the next command will select one anyway).
    /// </summary>
    public int StreamDb => FollowedDb ?? Math.Max(_selectedDb, 0);

    /// <summary>On a replica, the database its master's stream is in (kept by the link after each batch); null on a master.</summary>
    public int? FollowedDb { get; set; }

    /// <summary>A replica takes its master's offset after a full sync (under the keyspace lock).</summary>
    public void SetOffset(long offset) => MasterOffset = offset;

    /// <summary>The next command goes after a SELECT (a promoted replica: its master chose the database so far).</summary>
    public void ForgetSelectedDb() => _selectedDb = -1;

    /// <summary>
    /// Hands bytes of the master's stream, as received, to the subscribers and advances the offset by them: a
    /// replica's stream is its master's, byte for byte, so that offsets agree along a chain (under the keyspace lock).
    /// </summary>
    public void PublishVerbatim(ReadOnlySpan<byte> commands)
    {
        MasterOffset += commands.Length;
        foreach (var subscriber in _subscribers)
        {
            subscriber.Receive(commands);
        }
    }

    /// <summary>
    /// Emits a command that changes no key, outside any command (the master's PING and REPLCONF GETACK to its
    /// replicas), in whatever database is selected (under the keyspace lock).
    /// </summary>
    public void PublishCommand(params byte[][] argv)
    {
        Append(-1, argv);
        Publish();
    }

    /// <summary>Adds a subscriber; the next command it receives is preceded by a SELECT (call under the keyspace lock).</summary>
    public void Subscribe(IChangeSubscriber subscriber)
    {
        _subscribers = [.. _subscribers, subscriber];
        // A new reader does not know which database the stream is in.
        _selectedDb = -1;
    }

    /// <summary>Removes a subscriber (call under the keyspace lock).</summary>
    public void Unsubscribe(IChangeSubscriber subscriber) => _subscribers = [.. _subscribers.Where(s => s != subscriber)];

    /// <summary>Appends one command executed in database <paramref name="db"/> (-1: any database, as MULTI/EXEC).</summary>
    internal void Append(int db, byte[][] argv)
    {
        if (db >= 0 && db != _selectedDb)
        {
            Span<byte> digits = stackalloc byte[11];
            Utf8Formatter.TryFormat(db, digits, out int length);
            WriteHeader('*', 2);
            WriteBulk("SELECT"u8);
            WriteBulk(digits[..length]);
            _selectedDb = db;
        }
        WriteHeader('*', argv.Length);
        foreach (var arg in argv)
        {
            WriteBulk(arg);
        }
    }

    /// <summary>Hands what was appended since the last call to every subscriber and advances the offset.</summary>
    internal void Publish()
    {
        if (_buffer.WrittenCount == 0)
        {
            return;
        }
        var written = _buffer.WrittenSpan;
        MasterOffset += written.Length;
        foreach (var subscriber in _subscribers)
        {
            subscriber.Receive(written);
        }
        _buffer.ResetWrittenCount();
    }

    private void WriteHeader(char kind, int count)
    {
        var span = _buffer.GetSpan(24);
        span[0] = (byte)kind;
        Utf8Formatter.TryFormat(count, span[1..], out int length);
        span[1 + length] = (byte)'\r';
        span[2 + length] = (byte)'\n';
        _buffer.Advance(3 + length);
    }

    private void WriteBulk(ReadOnlySpan<byte> value)
    {
        WriteHeader('$', value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length + 2));
        _buffer.Advance(value.Length);
        "\r\n"u8.CopyTo(_buffer.GetSpan(2));
        _buffer.Advance(2);
    }
}
