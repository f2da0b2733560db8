using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Persistence;

/// <summary>RDB file opcodes (rdb.h's RDB_OPCODE_*), the bytes that are not object types.</summary>
public static class RdbOpcode
{
    /// <summary>RDB_OPCODE_FUNCTION2: a function library's code.</summary>
    public const byte Function2 = 245;

    /// <summary>RDB_OPCODE_FUNCTION: the pre-release function format (refused, as Redis 7.0).</summary>
    public const byte FunctionPreRelease = 246;

    /// <summary>RDB_OPCODE_MODULE_AUX: module data outside keys (refused).</summary>
    public const byte ModuleAux = 247;

    /// <summary>RDB_OPCODE_IDLE: the next key's LRU idle time in seconds.</summary>
    public const byte Idle = 248;

    /// <summary>RDB_OPCODE_FREQ: the next key's LFU counter.</summary>
    public const byte Freq = 249;

    /// <summary>RDB_OPCODE_AUX: a name and a value about the file.</summary>
    public const byte Aux = 250;

    /// <summary>RDB_OPCODE_RESIZEDB: key and expiry counts of the database that follows.</summary>
    public const byte ResizeDb = 251;

    /// <summary>RDB_OPCODE_EXPIRETIME_MS: the next key's expiry, unix milliseconds (8 bytes little-endian).</summary>
    public const byte ExpireTimeMs = 252;

    /// <summary>RDB_OPCODE_EXPIRETIME: the next key's expiry, unix seconds (4 bytes, old files).</summary>
    public const byte ExpireTime = 253;

    /// <summary>RDB_OPCODE_SELECTDB: the database of the keys that follow.</summary>
    public const byte SelectDb = 254;

    /// <summary>RDB_OPCODE_EOF: end of the data; the CRC64 follows.</summary>
    public const byte Eof = 255;
}

/// <summary>What a snapshot records of each key's use, as rdbSaveKeyValuePair does by maxmemory-policy.</summary>
public enum RdbAccessInfo
{
    /// <summary>Nothing (policies without LRU or LFU).</summary>
    None,

    /// <summary>IDLE: seconds since last use (LRU policies).</summary>
    Idle,

    /// <summary>FREQ: the LFU counter (LFU policies).</summary>
    Frequency,
}

/// <summary>Replication state a snapshot records (rdbSaveInfo): the stream database, history id and offset at the snapshot point.</summary>
public sealed record RdbReplicationInfo(int StreamDb, string ReplicationId, long Offset);

/// <summary>The AUX fields at the head of a file, as Redis 7.0 writes them (rdbSaveInfoAuxFields).</summary>
/// <remarks><paramref name="FunctionLibraries"/>: the code of each function library, written after the AUX fields as RDB_OPCODE_FUNCTION2.</remarks>
public sealed record RdbHeader(string RedisVersion, long CreatedUnixSeconds, long UsedMemory, RdbReplicationInfo? Replication = null, IReadOnlyList<byte[]>? FunctionLibraries = null);

/// <summary>
/// Writes an RDB version 10 file (rdb.c's rdbSaveRio) to a stream: "REDIS0010", AUX fields, function libraries, per database
/// SELECTDB + RESIZEDB and its entries (EXPIRETIME_MS, type, key, object), EOF and the CRC64 of everything
/// before it (0 when checksums are off, as rdbchecksum no). Entries can be encoded apart into memory with
/// <see cref="EncodeEntry"/> (under the keyspace lock) and written later with <see cref="WriteRaw"/>.
/// </summary>
public sealed class RdbWriter
{
    /// <summary>RDB_VERSION of Redis 7.0.</summary>
    public const int Version = DumpPayload.RdbVersion;

    /// <summary>Bytes gathered before they go to the stream.</summary>
    private const int FlushThreshold = 64 * 1024;

    private readonly Stream _destination;
    private readonly bool _checksum;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold * 2);
    private ulong _crc;

    /// <summary>A writer onto <paramref name="destination"/>; strings are LZF-compressed when <paramref name="compress"/>, the file checksummed when <paramref name="checksum"/>.</summary>
    public RdbWriter(Stream destination, bool compress = true, bool checksum = true)
    {
        _destination = destination;
        Compress = compress;
        _checksum = checksum;
    }

    /// <summary>rdbcompression: whether strings are LZF-compressed.</summary>
    public bool Compress { get; }

    /// <summary>Bytes handed to the stream or waiting to be.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>The magic, version and AUX fields.</summary>
    public void WriteHeader(RdbHeader header)
    {
        "REDIS"u8.CopyTo(_buffer.GetSpan(9));
        _buffer.Advance(5);
        WriteAscii(_buffer, Version.ToString("D4", CultureInfo.InvariantCulture));
        WriteAux("redis-ver", header.RedisVersion);
        WriteAux("redis-bits", "64");
        WriteAux("ctime", header.CreatedUnixSeconds);
        WriteAux("used-mem", header.UsedMemory);
        if (header.Replication is { } replication)
        {
            WriteAux("repl-stream-db", replication.StreamDb);
            WriteAux("repl-id", replication.ReplicationId);
            WriteAux("repl-offset", replication.Offset);
        }
        WriteAux("aof-base", 0);
        // rdbSaveFunctions: each library's code, before the databases.
        foreach (var code in header.FunctionLibraries ?? [])
        {
            WriteByte(_buffer, RdbOpcode.Function2);
            RdbObjectWriter.WriteString(_buffer, code, Compress);
        }
        FlushIfFull();
    }

    /// <summary>SELECTDB and RESIZEDB for database <paramref name="db"/> with <paramref name="keys"/> keys, <paramref name="expires"/> of them with an expiry.</summary>
    public void WriteDatabaseStart(int db, long keys, long expires)
    {
        EncodeDatabaseStart(_buffer, db, keys, expires);
        FlushIfFull();
    }

    /// <summary>One key: its expiry (unix ms, 0 for none), LRU idle seconds or LFU counter (-1: none), type, key and value.</summary>
    public void WriteEntry(ReadOnlySpan<byte> key, object value, long expireAtMs, long idleSeconds = -1, int frequency = -1)
    {
        EncodeEntry(_buffer, key, value, expireAtMs, Compress, idleSeconds, frequency);
        FlushIfFull();
    }

    /// <summary>Bytes encoded earlier by <see cref="EncodeDatabaseStart"/> and <see cref="EncodeEntry"/>.</summary>
    public void WriteRaw(ReadOnlySpan<byte> encoded)
    {
        Flush();
        Checksum(encoded);
        _destination.Write(encoded);
    }

    /// <summary>EOF and the checksum, then flushes the stream. The file is complete after this.</summary>
    public void Finish()
    {
        _buffer.GetSpan(1)[0] = RdbOpcode.Eof;
        _buffer.Advance(1);
        Flush();
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(trailer, _checksum ? _crc : 0);
        _destination.Write(trailer);
        BytesWritten += 8;
        _destination.Flush();
    }

    /// <summary>SELECTDB and RESIZEDB (rdbSaveRio's per-database header) into <paramref name="output"/>.</summary>
    public static void EncodeDatabaseStart(IBufferWriter<byte> output, int db, long keys, long expires)
    {
        WriteByte(output, RdbOpcode.SelectDb);
        RdbObjectWriter.WriteLength(output, (ulong)db);
        WriteByte(output, RdbOpcode.ResizeDb);
        RdbObjectWriter.WriteLength(output, (ulong)keys);
        RdbObjectWriter.WriteLength(output, (ulong)expires);
    }

    /// <summary>
    /// One key as rdbSaveKeyValuePair writes it into <paramref name="output"/>: EXPIRETIME_MS when
    /// <paramref name="expireAtMs"/> is not 0, IDLE or FREQ when given (not -1), the object type, the key, the object body.
    /// </summary>
    public static void EncodeEntry(IBufferWriter<byte> output, ReadOnlySpan<byte> key, object value, long expireAtMs, bool compress, long idleSeconds = -1, int frequency = -1)
    {
        if (expireAtMs != 0)
        {
            var span = output.GetSpan(9);
            span[0] = RdbOpcode.ExpireTimeMs;
            BinaryPrimitives.WriteInt64LittleEndian(span[1..], expireAtMs);
            output.Advance(9);
        }
        if (idleSeconds >= 0)
        {
            WriteByte(output, RdbOpcode.Idle);
            RdbObjectWriter.WriteLength(output, (ulong)idleSeconds);
        }
        if (frequency >= 0)
        {
            WriteByte(output, RdbOpcode.Freq);
            WriteByte(output, (byte)frequency);
        }
        WriteByte(output, RdbObjectWriter.TypeOf(value));
        RdbObjectWriter.WriteString(output, key, compress);
        RdbObjectWriter.WriteBody(output, value, compress);
    }

    /// <summary>
    /// A whole file of <paramref name="keyspace"/> onto <paramref name="destination"/>. The caller holds the keyspace
    /// lock for the whole walk. Keys past their expiry are written too (as Redis; loading drops them).
    /// </summary>
    public static long WriteKeyspace(Stream destination, Keyspace keyspace, RdbHeader header, bool compress = true, bool checksum = true, RdbAccessInfo access = RdbAccessInfo.None)
    {
        var writer = new RdbWriter(destination, compress, checksum);
        writer.WriteHeader(header);
        for (int db = 0; db < keyspace.DatabaseCount; db++)
        {
            var table = keyspace[db].Table;
            if (table.Count == 0)
            {
                continue;
            }
            writer.WriteDatabaseStart(db, table.Count, table.VolatileCount);
            for (int index = 0; index < table.IndexLimit; index++)
            {
                if (table.IsLive(index))
                {
                    ref var entry = ref table[index];
                    var (idle, frequency) = AccessOf(keyspace, entry.Access, access);
                    writer.WriteEntry(entry.Key, entry.Value!, table.ExpireAt(index), idle, frequency);
                }
            }
        }
        writer.Finish();
        return writer.BytesWritten;
    }

    /// <summary>The IDLE and FREQ values (-1: not written) of an entry's access field, as <paramref name="access"/> asks.</summary>
    public static (long IdleSeconds, int Frequency) AccessOf(Keyspace keyspace, uint entryAccess, RdbAccessInfo access) => access switch
    {
        RdbAccessInfo.Idle => (keyspace.IdleSeconds(entryAccess), -1),
        RdbAccessInfo.Frequency => (-1, (int)keyspace.LfuFrequency(entryAccess)),
        _ => (-1, -1),
    };

    private void WriteAux(string name, long value) => WriteAux(name, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>rdbSaveAuxField: the opcode and two strings (numbers go as integer-encoded strings, as rdbSaveAuxFieldStrInt).</summary>
    private void WriteAux(string name, string value)
    {
        WriteByte(_buffer, RdbOpcode.Aux);
        RdbObjectWriter.WriteString(_buffer, Encoding.ASCII.GetBytes(name), Compress);
        RdbObjectWriter.WriteString(_buffer, Encoding.ASCII.GetBytes(value), Compress);
    }

    private void FlushIfFull()
    {
        if (_buffer.WrittenCount >= FlushThreshold)
        {
            Flush();
        }
    }

    private void Flush()
    {
        if (_buffer.WrittenCount == 0)
        {
            return;
        }
        Checksum(_buffer.WrittenSpan);
        _destination.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    private void Checksum(ReadOnlySpan<byte> bytes)
    {
        if (_checksum)
        {
            _crc = Crc64.Compute(bytes, _crc);
        }
        BytesWritten += bytes.Length;
    }

    private static void WriteAscii(IBufferWriter<byte> output, string text)
    {
        int length = Encoding.ASCII.GetBytes(text, output.GetSpan(text.Length));
        output.Advance(length);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }
}
