namespace CacheOperator.Node.Persistence;

/// <summary>CRC-64/Jones (reflected, polynomial 0xad93d23594c935a9), the checksum Redis puts on DUMP payloads and RDB files.</summary>
public static class Crc64
{
    private static readonly ulong[] Table = BuildTable();

    /// <summary>The CRC of <paramref name="data"/>, starting from 0 as Redis's crc64(0, ...).</summary>
    public static ulong Compute(ReadOnlySpan<byte> data, ulong crc = 0)
    {
        foreach (byte b in data)
        {
            crc = Table[(byte)(crc ^ b)] ^ (crc >> 8);
        }
        return crc;
    }

    private static ulong[] BuildTable()
    {
        // 0x95ac9329ac4bc9b5 is the bit-reversed form of the Jones polynomial.
        const ulong reflected = 0x95ac9329ac4bc9b5;
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            ulong crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ reflected : crc >> 1;
            }
            table[i] = crc;
        }
        return table;
    }
}
