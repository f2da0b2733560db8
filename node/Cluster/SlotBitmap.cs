using CacheOperator.Node.Storage;
namespace CacheOperator.Node.Cluster;

/// <summary>A set of hash slots as a 16384-bit bitmap, bit order as Redis's (slot s is bit s%8 of byte s/8), so it copies to and from the bus's slot bitmaps as is.</summary>
public sealed class SlotBitmap
{
    /// <summary>Bytes of a bitmap on the bus and here.</summary>
    public const int Bytes = HashSlot.Count / 8;

    private readonly byte[] _bits = new byte[Bytes];

    /// <summary>Number of slots set.</summary>
    public int Count { get; private set; }

    /// <summary>The raw bitmap (read only; change it through <see cref="Set"/>, <see cref="Clear"/>, <see cref="CopyFrom"/>).</summary>
    public ReadOnlySpan<byte> Raw => _bits;

    /// <summary>True when <paramref name="slot"/> is in the set.</summary>
    public bool Contains(int slot) => (_bits[slot >> 3] & (1 << (slot & 7))) != 0;

    /// <summary>Adds a slot; false when it was there already.</summary>
    public bool Set(int slot)
    {
        ref byte b = ref _bits[slot >> 3];
        byte mask = (byte)(1 << (slot & 7));
        if ((b & mask) != 0)
        {
            return false;
        }
        b |= mask;
        Count++;
        return true;
    }

    /// <summary>Removes a slot; false when it was not there.</summary>
    public bool Clear(int slot)
    {
        ref byte b = ref _bits[slot >> 3];
        byte mask = (byte)(1 << (slot & 7));
        if ((b & mask) == 0)
        {
            return false;
        }
        b &= (byte)~mask;
        Count--;
        return true;
    }

    /// <summary>Removes every slot.</summary>
    public void ClearAll()
    {
        Array.Clear(_bits);
        Count = 0;
    }

    /// <summary>Replaces the set with a bitmap of <see cref="Bytes"/> bytes (a bus message's).</summary>
    public void CopyFrom(ReadOnlySpan<byte> bitmap)
    {
        bitmap[..Bytes].CopyTo(_bits);
        int count = 0;
        foreach (byte b in _bits)
        {
            count += System.Numerics.BitOperations.PopCount(b);
        }
        Count = count;
    }

    /// <summary>The slots as ranges of consecutive slots, in order; skips 64 slots at a time (it runs on every SETSLOT's nodes.conf save).</summary>
    public IEnumerable<(int Start, int End)> Ranges()
    {
        for (int start = Next(0, set: true); start < HashSlot.Count;)
        {
            int end = Next(start, set: false);
            yield return (start, end - 1);
            start = Next(end, set: true);
        }
    }

    /// <summary>The first slot at or after <paramref name="from"/> that is (or with <paramref name="set"/> false, is not) in the set; <see cref="HashSlot.Count"/> when none.</summary>
    private int Next(int from, bool set)
    {
        if (from >= HashSlot.Count)
        {
            return HashSlot.Count;
        }
        int word = from >> 6;
        ulong bits = Word(word, set) & (~0UL << (from & 63));
        while (bits == 0)
        {
            if (++word == HashSlot.Count / 64)
            {
                return HashSlot.Count;
            }
            bits = Word(word, set);
        }
        return (word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
    }

    // Slot s is bit s%8 of byte s/8, so a little-endian word w holds slots 64w..64w+63 in bit order.
    private ulong Word(int index, bool set)
    {
        ulong word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_bits.AsSpan(index * 8, 8));
        return set ? word : ~word;
    }
}
