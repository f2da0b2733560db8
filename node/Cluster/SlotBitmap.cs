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

    /// <summary>The slots as ranges of consecutive slots, in order.</summary>
    public IEnumerable<(int Start, int End)> Ranges()
    {
        int start = -1;
        for (int slot = 0; slot <= HashSlot.Count; slot++)
        {
            bool set = slot < HashSlot.Count && Contains(slot);
            if (set && start < 0)
            {
                start = slot;
            }
            else if (!set && start >= 0)
            {
                yield return (start, slot - 1);
                start = -1;
            }
        }
    }
}
