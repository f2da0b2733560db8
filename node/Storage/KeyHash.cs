using System.Runtime.InteropServices;

namespace CacheOperator.Node.Storage;

/// <summary>A fast seeded 64-bit hash of key bytes; the seed is random per process so keys cannot be chosen to collide.</summary>
public static class KeyHash
{
    private static readonly ulong Seed = (ulong)Random.Shared.NextInt64();

    /// <summary>Hash of <paramref name="key"/> for this process.</summary>
    public static ulong Of(ReadOnlySpan<byte> key)
    {
        const ulong K = 0x9E3779B97F4A7C15;
        ulong h = Seed ^ ((ulong)key.Length * K);
        ref byte p = ref MemoryMarshal.GetReference(key);
        int i = 0;
        for (; i + 8 <= key.Length; i += 8)
        {
            h = Mix(h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        }
        if (i < key.Length)
        {
            ulong tail = 0;
            for (int shift = 0; i < key.Length; i++, shift += 8)
            {
                tail |= (ulong)Unsafe.Add(ref p, i) << shift;
            }
            h = Mix(h ^ tail);
        }
        // murmur3's finaliser: spreads every input bit over the low bits the table masks with.
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccd;
        h ^= h >> 33;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong x)
    {
        UInt128 product = (UInt128)x * 0x9FB21C651E98DF25;
        return (ulong)product ^ (ulong)(product >> 64);
    }
}
