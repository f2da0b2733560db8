using System.Buffers;
using System.Buffers.Binary;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Persistence;

/// <summary>
/// DUMP/RESTORE payloads exactly as redis-server 7.0 makes them (cluster.c's createDumpPayload and
/// verifyDumpPayload): an RDB object, the RDB version as 2 bytes little-endian, and a little-endian CRC64
/// of everything before it. Payloads move between the node and redis-server in both directions (MIGRATE).
/// </summary>
public static class DumpPayload
{
    /// <summary>RDB_VERSION of Redis 7.0: payloads of a later version are refused.</summary>
    public const ushort RdbVersion = 10;

    /// <summary>Bytes after the object: version and checksum.</summary>
    public const int TrailerLength = 10;

    /// <summary>The DUMP payload of <paramref name="value"/>; strings LZF-compressed when <paramref name="compress"/> (rdbcompression), as Redis's DUMP.</summary>
    public static byte[] Create(object value, bool compress = true)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RdbObjectWriter.Write(buffer, value, compress);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.GetSpan(2), RdbVersion);
        buffer.Advance(2);
        ulong crc = Crc64.Compute(buffer.WrittenSpan);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), crc);
        buffer.Advance(8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when <paramref name="payload"/> has a version Redis 7.0 loads and an intact checksum.</summary>
    public static bool Verify(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < TrailerLength)
        {
            return false;
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(payload[^TrailerLength..]);
        if (version > RdbVersion)
        {
            return false;
        }
        return Crc64.Compute(payload[..^8]) == BinaryPrimitives.ReadUInt64LittleEndian(payload[^8..]);
    }

    /// <summary>
    /// The value of a verified payload, or null when its object is malformed or of an unsupported type
    /// (Redis's "Bad data format"). As Redis, the object is read from the whole payload, so bytes left
    /// between it and the trailer are not an error.
    /// </summary>
    public static object? Restore(ReadOnlySpan<byte> payload, EncodingLimits limits) => new RdbObjectReader(payload, limits).TryReadObject();
}
