namespace CacheOperator.Node.Storage;

/// <summary>Redis Cluster's key to hash slot mapping: CRC16 (XMODEM, Redis's crc16.c) of the key or of its <c>{hash tag}</c>, modulo 16384.</summary>
public static class HashSlot
{
    /// <summary>Number of hash slots.</summary>
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();

    /// <summary>The slot of <paramref name="key"/>, as Redis's keyHashSlot.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = key[(open + 1)..].IndexOf((byte)'}');
            // A tag counts only when the first '{' has a '}' after it with something in between.
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }
        return Crc16(key) & (Count - 1);
    }

    /// <summary>CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.</summary>
    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        var table = Table;
        int crc = 0;
        foreach (byte b in data)
        {
            crc = ((crc << 8) ^ table[((crc >> 8) ^ b) & 0xff]) & 0xffff;
        }
        return (ushort)crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            table[i] = (ushort)crc;
        }
        return table;
    }
}
