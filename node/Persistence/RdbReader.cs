using System.Buffers.Binary;
using System.Globalization;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Persistence;

/// <summary>A file that cannot be loaded: truncated, corrupt, of an unknown version, or holding data the node does not support.</summary>
public sealed class RdbFormatException(string message) : Exception(message);

/// <summary>Receives what <see cref="RdbReader"/> reads, entry by entry.</summary>
public interface IRdbSink
{
    /// <summary>
    /// One key of database <paramref name="db"/>; <paramref name="expireAtMs"/> is unix milliseconds, 0 for none; the LRU
    /// <paramref name="idleSeconds"/> and LFU <paramref name="frequency"/> are -1 when the file has none for the key.
    /// </summary>
    void Entry(int db, byte[] key, object value, long expireAtMs, long idleSeconds, int frequency);
}

/// <summary>What a file held besides its keys.</summary>
public sealed class RdbReadResult
{
    /// <summary>The file's RDB version.</summary>
    public int Version { get; init; }

    /// <summary>AUX fields by name (redis-ver, ctime, repl-id, repl-offset...), values as text.</summary>
    public Dictionary<string, string> Aux { get; } = new(StringComparer.Ordinal);

    /// <summary>The code of each function library the file carried (RDB_OPCODE_FUNCTION2), in file order.</summary>
    public List<byte[]> FunctionLibraries { get; } = [];

    /// <summary>Keys read.</summary>
    public long Keys { get; set; }

    /// <summary>True when the file's checksum was verified (false: the file had none, or checking was off).</summary>
    public bool ChecksumVerified { get; set; }
}

/// <summary>A file read into fresh key tables, not yet in the keyspace (<see cref="SwapInto"/>).</summary>
public sealed class RdbLoadResult
{
    private readonly KeyTable[] _tables;

    internal RdbLoadResult(RdbReadResult file, KeyTable[] tables, long loaded, long expired)
    {
        File = file;
        _tables = tables;
        KeysLoaded = loaded;
        KeysExpired = expired;
    }

    /// <summary>What the file held besides keys.</summary>
    public RdbReadResult File { get; }

    /// <summary>Keys kept.</summary>
    public long KeysLoaded { get; }

    /// <summary>Keys dropped because their expiry had passed.</summary>
    public long KeysExpired { get; }

    /// <summary>Replaces every database's contents with the file's (as a flush: watchers see it). Call under the keyspace lock.</summary>
    public void SwapInto(Keyspace keyspace)
    {
        for (int db = 0; db < keyspace.DatabaseCount; db++)
        {
            keyspace[db].Clear();
            keyspace[db].Table = _tables[db];
        }
    }
}

/// <summary>
/// Reads an RDB file (rdb.c's rdbLoadRio) of versions 1 to 10: every opcode and every object type and
/// encoding redis-server 7.0 writes or still loads (strings plain, integer or LZF; lists as quicklists of
/// listpacks or ziplists, ziplists or plain; sets as intsets or plain; sorted sets as listpacks, ziplists or
/// plain with binary or text scores; hashes as listpacks, ziplists, zipmaps or plain). Streams, modules and
/// pre-release functions are refused with a clear message. The stream is read through a window that grows
/// to the largest single object, not the whole file.
/// </summary>
public sealed class RdbReader
{
    private delegate bool Parse<T>(ref RdbObjectReader reader, out T value);

    private const int InitialWindow = 64 * 1024;

    private readonly Stream _input;
    private readonly EncodingLimits _limits;
    private byte[] _window = new byte[InitialWindow];
    private int _start;
    private int _end;
    private bool _eof;
    private ulong _crc;
    private long _consumed;

    private RdbReader(Stream input, EncodingLimits limits)
    {
        _input = input;
        _limits = limits;
    }

    /// <summary>
    /// Reads the file on <paramref name="input"/> into <paramref name="sink"/>, checking the CRC64 at the end when
    /// <paramref name="verifyChecksum"/> (rdbchecksum yes) and the file has one. Throws <see cref="RdbFormatException"/>
    /// on anything but a whole, intact file; the sink may have received entries by then, so it must not publish them before this returns.
    /// </summary>
    /// <remarks><paramref name="progress"/> hears the bytes read so far after each key.</remarks>
    public static RdbReadResult Read(Stream input, EncodingLimits limits, IRdbSink sink, bool verifyChecksum = true, int databases = int.MaxValue, Action<long>? progress = null)
        => new RdbReader(input, limits).ReadFile(sink, verifyChecksum, databases, progress);

    /// <summary>
    /// Reads the file into fresh tables for <paramref name="keyspace"/>'s databases without touching them (no lock
    /// needed); <see cref="RdbLoadResult.SwapInto"/> then installs them. Keys whose expiry is at or before
    /// <paramref name="nowMs"/> are dropped, as a master does (0 keeps them all).
    /// </summary>
    public static RdbLoadResult ReadTables(Stream input, Keyspace keyspace, long nowMs, bool verifyChecksum = true, Action<long>? progress = null)
    {
        var sink = new TableSink(keyspace, nowMs);
        var file = Read(input, keyspace.EncodingLimits, sink, verifyChecksum, keyspace.DatabaseCount, progress);
        return new RdbLoadResult(file, sink.Tables, sink.Loaded, sink.Expired);
    }

    /// <summary>
    /// Loads the file into <paramref name="keyspace"/>: keys are read into fresh tables that replace the databases' only
    /// when the whole file was read and verified, so a bad file leaves the keyspace as it was. Call under the keyspace lock.
    /// </summary>
    public static RdbLoadResult LoadInto(Stream input, Keyspace keyspace, long nowMs, bool verifyChecksum = true)
    {
        var result = ReadTables(input, keyspace, nowMs, verifyChecksum);
        result.SwapInto(keyspace);
        return result;
    }

    private RdbReadResult ReadFile(IRdbSink sink, bool verifyChecksum, int databases, Action<long>? progress)
    {
        var magic = Take(9, "the header");
        if (!magic[..5].SequenceEqual("REDIS"u8))
        {
            throw new RdbFormatException("Wrong signature trying to load DB from file");
        }
        if (!int.TryParse(Encoding.ASCII.GetString(magic[5..]), NumberStyles.None, CultureInfo.InvariantCulture, out int version)
            || version < 1 || version > RdbWriter.Version)
        {
            throw new RdbFormatException($"Can't handle RDB format version {Encoding.ASCII.GetString(magic[5..])}");
        }
        var result = new RdbReadResult { Version = version };
        int db = 0;
        long expireAtMs = 0;
        long idleSeconds = -1;
        int frequency = -1;
        while (true)
        {
            byte type = Take(1, "an opcode")[0];
            switch (type)
            {
                case RdbOpcode.ExpireTime:
                    expireAtMs = AtLeastOne(BinaryPrimitives.ReadInt32LittleEndian(Take(4, "an expiry")) * 1000L);
                    continue;
                case RdbOpcode.ExpireTimeMs:
                    // Files before version 9 wrote it in the machine's byte order, little-endian on every platform that matters.
                    expireAtMs = AtLeastOne(BinaryPrimitives.ReadInt64LittleEndian(Take(8, "an expiry")));
                    continue;
                case RdbOpcode.Freq:
                    frequency = Take(1, "an LFU counter")[0];
                    continue;
                case RdbOpcode.Idle:
                    idleSeconds = (long)Math.Min(ReadLength("an LRU idle time"), long.MaxValue);
                    continue;
                case RdbOpcode.Eof:
                    break;
                case RdbOpcode.SelectDb:
                    ulong selected = ReadLength("a database number");
                    if (selected >= (ulong)databases)
                    {
                        throw new RdbFormatException($"Data file was created with a Redis server configured to handle more than {databases} databases (it selects database {selected}).");
                    }
                    db = (int)selected;
                    continue;
                case RdbOpcode.ResizeDb:
                    ReadLength("a database size");
                    ReadLength("a database size");
                    continue;
                case RdbOpcode.Aux:
                    var name = ReadString("an AUX field name");
                    var value = ReadString("an AUX field value");
                    result.Aux[Encoding.UTF8.GetString(name)] = Encoding.UTF8.GetString(value);
                    continue;
                case RdbOpcode.ModuleAux:
                    throw new RdbFormatException("The RDB file contains module data (MODULE_AUX); modules are not supported.");
                case RdbOpcode.FunctionPreRelease:
                    throw new RdbFormatException("Pre-release function format not supported.");
                case RdbOpcode.Function2:
                    result.FunctionLibraries.Add(ReadString("a function library"));
                    continue;
                default:
                    ReadEntry(type, db, expireAtMs, idleSeconds, frequency, sink);
                    result.Keys++;
                    progress?.Invoke(_consumed);
                    expireAtMs = 0;
                    idleSeconds = -1;
                    frequency = -1;
                    continue;
            }
            break;
        }
        ulong computed = _crc;
        if (version >= 5)
        {
            ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "the checksum"));
            if (verifyChecksum && stored != 0)
            {
                if (stored != computed)
                {
                    throw new RdbFormatException($"Wrong RDB checksum expected: ({stored:x}) got ({computed:x}). Aborting now.");
                }
                result.ChecksumVerified = true;
            }
        }
        return result;
    }

    /// <summary>An expiry at or before the epoch is long past, not "none" (0 here).</summary>
    private static long AtLeastOne(long expireAtMs) => Math.Max(1, expireAtMs);

    private void ReadEntry(byte type, int db, long expireAtMs, long idleSeconds, int frequency, IRdbSink sink)
    {
        if (type is not (<= RdbType.Module or (>= RdbType.HashZipmap and <= RdbType.StreamListpacks2)))
        {
            throw new RdbFormatException($"Unknown RDB type {type} at offset {_consumed - 1}; the file is corrupt or from a newer Redis.");
        }
        var key = ReadString("a key");
        string kind = type switch
        {
            RdbType.Module or RdbType.ModulePreRelease => "a module value",
            _ => "",
        };
        if (kind.Length > 0)
        {
            throw new RdbFormatException($"Key '{Printable(key)}' in database {db} holds {kind}, which the node does not support.");
        }
        var value = ParseOrThrow((ref RdbObjectReader reader, out object? v) => (v = reader.TryReadBody(type)) is not null,
            $"the value of key '{Printable(key)}'");
        sink.Entry(db, key, value!, expireAtMs, idleSeconds, frequency);
    }

    private byte[] ReadString(string what) =>
        ParseOrThrow((ref RdbObjectReader reader, out byte[]? s) => (s = reader.TryReadString()) is not null, what)!;

    private ulong ReadLength(string what) =>
        ParseOrThrow((ref RdbObjectReader reader, out ulong length) => reader.TryReadLength(out length, out bool encoded) && !encoded, what);

    /// <summary>
    /// Runs <paramref name="parse"/> on the bytes in the window, widening it while it fails and the stream has more:
    /// a parse that succeeds on a prefix succeeds identically on the whole, so the first success is the answer.
    /// </summary>
    private T ParseOrThrow<T>(Parse<T> parse, string what)
    {
        while (true)
        {
            var reader = new RdbObjectReader(_window.AsSpan(_start, _end - _start), _limits);
            if (parse(ref reader, out T value))
            {
                Consume(reader.Position);
                return value;
            }
            if (!Widen())
            {
                throw _eof && _end - _start == 0
                    ? Truncated(what)
                    : new RdbFormatException($"Bad data format reading {what} at offset {_consumed}: the RDB file is corrupt or truncated.");
            }
        }
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        while (_end - _start < count)
        {
            if (!Widen())
            {
                throw Truncated(what);
            }
        }
        var bytes = _window.AsSpan(_start, count);
        Consume(count);
        return bytes;
    }

    private RdbFormatException Truncated(string what) =>
        new($"Short read loading DB ({what} at offset {_consumed}): the RDB file is truncated. Unrecoverable error, aborting now.");

    private void Consume(int count)
    {
        _crc = Crc64.Compute(_window.AsSpan(_start, count), _crc);
        _start += count;
        _consumed += count;
    }

    /// <summary>Reads more of the stream into the window (doubling it when the bytes not yet consumed fill it); false at the end of the stream.</summary>
    private bool Widen()
    {
        if (_eof)
        {
            return false;
        }
        int pending = _end - _start;
        if (pending * 2 > _window.Length)
        {
            var wider = new byte[Math.Max(_window.Length * 2, InitialWindow)];
            _window.AsSpan(_start, pending).CopyTo(wider);
            _window = wider;
        }
        else
        {
            _window.AsSpan(_start, pending).CopyTo(_window);
        }
        _start = 0;
        _end = pending;
        int before = _end;
        while (_end < _window.Length)
        {
            int read = _input.Read(_window, _end, _window.Length - _end);
            if (read == 0)
            {
                _eof = true;
                break;
            }
            _end += read;
        }
        return _end > before;
    }

    private static string Printable(byte[] key)
    {
        var text = Encoding.UTF8.GetString(key.AsSpan(0, Math.Min(key.Length, 64)));
        return key.Length > 64 ? text + "..." : text;
    }

    /// <summary>Builds fresh key tables, one per database, that <see cref="LoadInto"/> swaps in after a successful read.</summary>
    private sealed class TableSink : IRdbSink
    {
        private readonly Keyspace _keyspace;
        private readonly long _nowMs;

        public TableSink(Keyspace keyspace, long nowMs)
        {
            _keyspace = keyspace;
            _nowMs = nowMs;
            Tables = new KeyTable[keyspace.DatabaseCount];
            for (int i = 0; i < Tables.Length; i++)
            {
                Tables[i] = new KeyTable(slotIndexed: keyspace.SlotIndexed);
            }
        }

        public KeyTable[] Tables { get; }

        public long Loaded { get; private set; }

        public long Expired { get; private set; }

        public void Entry(int db, byte[] key, object value, long expireAtMs, long idleSeconds, int frequency)
        {
            if (expireAtMs != 0 && _nowMs != 0 && expireAtMs <= _nowMs)
            {
                Expired++;
                return;
            }
            var table = Tables[db];
            if (table.Find(key) >= 0)
            {
                throw new RdbFormatException($"Duplicate key '{Printable(key)}' found in RDB file (database {db}).");
            }
            int index = table.Add(key, value);
            // As objectSetLRUOrLFU (and RESTORE): FREQ counts under an LFU policy, IDLE otherwise.
            uint access = _keyspace.NewAccess();
            if (_keyspace.UsesLfu && frequency >= 0)
            {
                access = (access & ~0xFFu) | (uint)frequency;
            }
            else if (!_keyspace.UsesLfu && idleSeconds >= 0)
            {
                uint clock = _keyspace.AccessClock;
                access = idleSeconds >= clock ? 0 : clock - (uint)idleSeconds;
            }
            table[index].Access = access;
            if (expireAtMs != 0)
            {
                table.SetExpire(index, expireAtMs);
            }
            Loaded++;
        }
    }
}
