using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A list value: elements packed into byte blocks, as Redis's quicklist packs them into listpacks. Each
/// element is its bytes between two copies of its length (one byte below 255, else 255 and four bytes), so
/// a block is read from either end; the blocks form a ring, so pushes and pops at both ends are O(1)
/// amortised. A push copies the element into a block instead of allocating an object for it: a large
/// list is a few large blocks (128 KiB, on the large object heap, which the GC never copies) rather than
/// one object per element that every collection would have to promote. Reaching an element by position
/// walks the blocks (O(N), as in Redis), but a walk continues from the last position read, so stepping
/// through a range in either direction is O(1) per element. Inserting or removing in the middle (LINSERT,
/// LREM, LSET with a new length) rewrites one block or the list, O(N) as in Redis.
/// <para>
/// Elements are lent out as spans into the blocks: valid until the list next changes (a popped element
/// until the next push), so callers copy what they keep.
/// </para>
/// </summary>
public sealed class ListValue : ICollectionValue
{
    /// <summary>Bytes counted for the object itself, whatever it holds.</summary>
    private const long FixedOverhead = 64;

    /// <summary>Bytes counted per block beside its data: the block object and the array header.</summary>
    private const long BlockOverhead = 48 + 24;

    private const int MinBlockBytes = 32;
    private const int LargeBlockBytes = 128 * 1024;

    private readonly int _maxBlockBytes;
    private Block[] _blocks = [];
    private int _first;
    private int _blockCount;
    private int _count;
    private long _blockBytes;

    // Where the last positional read ended: lets a walk through a range continue instead of starting over.
    private int _cachedIndex = -1;
    private int _cachedBlock;
    private int _cachedBlockFirst;
    private int _cachedOffset;

    /// <summary>An empty list. <paramref name="capacity"/>, the number of elements expected, is not needed: blocks grow by doubling.</summary>
    public ListValue(int capacity = 0)
        : this(capacity, LargeBlockBytes)
    {
    }

    /// <summary>An empty list whose blocks grow up to <paramref name="maxBlockBytes"/> (small in tests, to make many blocks).</summary>
    internal ListValue(int capacity, int maxBlockBytes)
    {
        Debug.Assert(capacity >= 0);
        _maxBlockBytes = Math.Max(maxBlockBytes, MinBlockBytes);
    }

    /// <inheritdoc/>
    public string TypeName => "list";

    /// <summary>
    /// Redis 7.0 always reports "quicklist" for lists (the listpack form for small lists came with 7.2),
    /// and the real 7.0 server is the reference clients compare with.
    /// </summary>
    public string EncodingName => "quicklist";

    /// <inheritdoc/>
    public long Count => _count;

    /// <summary>Number of elements as an int, for indexing.</summary>
    public int Length => _count;

    /// <inheritdoc/>
    public long EstimatedBytes => FixedOverhead + (_blocks.Length * 8L) + _blockBytes + (_blockCount * BlockOverhead);

    /// <summary>The element at <paramref name="index"/> (0 is the head); the caller checks the range.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            Seek(index);
            var block = BlockAt(_cachedBlock);
            return Element(block.Data, _cachedOffset, out _);
        }
    }

    /// <summary>Replaces the element at <paramref name="index"/> (the caller checks the range).</summary>
    public void Set(int index, ReadOnlySpan<byte> value)
    {
        Seek(index);
        var block = BlockAt(_cachedBlock);
        var current = Element(block.Data, _cachedOffset, out _);
        if (current.Length == value.Length)
        {
            value.CopyTo(block.Data.AsSpan(_cachedOffset + HeaderLength(value.Length)));
            return;
        }
        RewriteBlock(_cachedBlock, index - _cachedBlockFirst, 1, value, insert: true);
    }

    /// <summary>Adds <paramref name="value"/> before the head.</summary>
    public void PushLeft(ReadOnlySpan<byte> value)
    {
        int need = EncodedLength(value.Length);
        var block = _blockCount > 0 ? BlockAt(0) : null;
        if (block is null || block.Start < need)
        {
            block = RoomAtHead(need);
        }
        block.Start -= need;
        Encode(block.Data, block.Start, value);
        block.Count++;
        _count++;
        _cachedIndex = -1;
    }

    /// <summary>Adds <paramref name="value"/> after the tail.</summary>
    public void PushRight(ReadOnlySpan<byte> value)
    {
        int need = EncodedLength(value.Length);
        var block = _blockCount > 0 ? BlockAt(_blockCount - 1) : null;
        if (block is null || block.Data.Length - block.End < need)
        {
            block = RoomAtTail(need);
        }
        Encode(block.Data, block.End, value);
        block.End += need;
        block.Count++;
        _count++;
        _cachedIndex = -1;
    }

    /// <summary>Adds at the head (<paramref name="left"/>) or the tail.</summary>
    public void Push(ReadOnlySpan<byte> value, bool left)
    {
        if (left)
        {
            PushLeft(value);
        }
        else
        {
            PushRight(value);
        }
    }

    /// <summary>Removes and returns the head (valid until the next push); the list must not be empty.</summary>
    public ReadOnlySpan<byte> PopLeft()
    {
        var block = BlockAt(0);
        var value = Element(block.Data, block.Start, out int size);
        block.Start += size;
        Removed(block, 0);
        return value;
    }

    /// <summary>Removes and returns the tail (valid until the next push); the list must not be empty.</summary>
    public ReadOnlySpan<byte> PopRight()
    {
        var block = BlockAt(_blockCount - 1);
        var value = ElementBefore(block.Data, block.End, out int size);
        block.End -= size;
        Removed(block, _blockCount - 1);
        return value;
    }

    /// <summary>Removes and returns the head (<paramref name="left"/>) or the tail.</summary>
    public ReadOnlySpan<byte> Pop(bool left) => left ? PopLeft() : PopRight();

    /// <summary>Index of the first element equal to <paramref name="value"/>, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> value)
    {
        int index = 0;
        for (int b = 0; b < _blockCount; b++)
        {
            var block = BlockAt(b);
            for (int offset = block.Start; offset < block.End; index++)
            {
                if (value.SequenceEqual(Element(block.Data, offset, out int size)))
                {
                    return index;
                }
                offset += size;
            }
        }
        return -1;
    }

    /// <summary>Inserts <paramref name="value"/> so that it becomes element <paramref name="index"/> (0..Length).</summary>
    public void Insert(int index, ReadOnlySpan<byte> value)
    {
        if (index == 0)
        {
            PushLeft(value);
            return;
        }
        if (index == _count)
        {
            PushRight(value);
            return;
        }
        Seek(index);
        RewriteBlock(_cachedBlock, index - _cachedBlockFirst, 0, value, insert: true);
    }

    /// <summary>
    /// Removes up to <paramref name="limit"/> elements equal to <paramref name="value"/> (0: all),
    /// scanning from the head, or from the tail when <paramref name="fromTail"/>; returns how many.
    /// </summary>
    public int RemoveMatching(ReadOnlySpan<byte> value, long limit, bool fromTail)
    {
        var kept = new ListValue(0, _maxBlockBytes);
        int removed = 0;
        for (int n = 0; n < _count; n++)
        {
            var element = this[fromTail ? _count - 1 - n : n];
            if ((limit == 0 || removed < limit) && value.SequenceEqual(element))
            {
                removed++;
            }
            else
            {
                kept.Push(element, left: fromTail);
            }
        }
        if (removed > 0)
        {
            TakeContents(kept);
        }
        return removed;
    }

    /// <summary>Keeps elements <paramref name="start"/>..<paramref name="end"/> (inclusive, in range) and drops the rest.</summary>
    public void Trim(int start, int end)
    {
        DropLeft(start);
        DropRight(_count - 1 - (end - start));
    }

    /// <summary>Drops every element.</summary>
    public void Clear() => TakeContents(new ListValue(0, _maxBlockBytes));

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        var copy = new ListValue(0, _maxBlockBytes);
        for (int b = 0; b < _blockCount; b++)
        {
            var block = BlockAt(b);
            copy.AppendBlock(new Block((byte[])block.Data.Clone()) { Start = block.Start, End = block.End, Count = block.Count });
        }
        copy._count = _count;
        return copy;
    }

    private static int HeaderLength(int length) => length < 255 ? 1 : 5;

    private static int EncodedLength(int length) => length + (2 * HeaderLength(length));

    /// <summary>Writes [length][bytes][length] at <paramref name="offset"/>.</summary>
    private static void Encode(byte[] data, int offset, ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        if (length < 255)
        {
            data[offset] = (byte)length;
            value.CopyTo(data.AsSpan(offset + 1));
            data[offset + 1 + length] = (byte)length;
            return;
        }
        data[offset] = 255;
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(offset + 1), length);
        value.CopyTo(data.AsSpan(offset + 5));
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(offset + 5 + length), length);
        data[offset + 9 + length] = 255;
    }

    /// <summary>The element starting at <paramref name="offset"/> and its encoded size.</summary>
    private static ReadOnlySpan<byte> Element(byte[] data, int offset, out int size)
    {
        int length = data[offset];
        int header = 1;
        if (length == 255)
        {
            length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset + 1));
            header = 5;
        }
        size = length + (2 * header);
        return data.AsSpan(offset + header, length);
    }

    /// <summary>The element ending just before <paramref name="end"/> and its encoded size.</summary>
    private static ReadOnlySpan<byte> ElementBefore(byte[] data, int end, out int size)
    {
        int length = data[end - 1];
        int header = 1;
        if (length == 255)
        {
            length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(end - 5));
            header = 5;
        }
        size = length + (2 * header);
        return data.AsSpan(end - header - length, length);
    }

    /// <summary>
    /// The array for a new end block, added when the end block is already of the largest size: of that size
    /// too (a pooled one when it is the standard large size), or larger for a larger element.
    /// </summary>
    private byte[] NewBlockData(int need)
    {
        int size = Math.Max(need, _maxBlockBytes);
        return size == LargeBlockBytes ? FreeBlocks.Rent() : new byte[size];
    }

    private Block BlockAt(int position) => _blocks[(_first + position) & (_blocks.Length - 1)];

    /// <summary>A block size for <paramref name="bytes"/> of content: a power of two from the minimum up to the largest block.</summary>
    private int BlockSizeFor(int bytes) =>
        bytes >= _maxBlockBytes ? Math.Max(bytes, _maxBlockBytes) : (int)Math.Max(MinBlockBytes, BitOperations.RoundUpToPowerOf2((uint)bytes));

    /// <summary>The head block with at least <paramref name="need"/> bytes free before its first element.</summary>
    private Block RoomAtHead(int need)
    {
        if (_blockCount > 0)
        {
            var head = BlockAt(0);
            if (head.Data.Length < _maxBlockBytes || head.Count == 0)
            {
                // A small block grows (doubling) instead of chaining another small block.
                Regrow(head, need, roomAtHead: true);
                return head;
            }
            var block = new Block(NewBlockData(need));
            block.Start = block.End = block.Data.Length;
            PrependBlock(block);
            return block;
        }
        return FirstBlock(need, left: true);
    }

    /// <summary>The tail block with at least <paramref name="need"/> bytes free after its last element.</summary>
    private Block RoomAtTail(int need)
    {
        if (_blockCount > 0)
        {
            var tail = BlockAt(_blockCount - 1);
            if (tail.Data.Length < _maxBlockBytes || tail.Count == 0)
            {
                Regrow(tail, need, roomAtHead: false);
                return tail;
            }
            var block = new Block(NewBlockData(need));
            AppendBlock(block);
            return block;
        }
        return FirstBlock(need, left: false);
    }

    /// <summary>The first block of a list: room for the element on either side of the middle, unless it is large.</summary>
    private Block FirstBlock(int need, bool left)
    {
        bool centre = 2 * need <= _maxBlockBytes;
        var block = new Block(new byte[BlockSizeFor(centre ? 2 * need : need)]);
        block.Start = block.End = centre ? block.Data.Length / 2 : left ? block.Data.Length : 0;
        AppendBlock(block);
        return block;
    }

    /// <summary>
    /// Moves a block's elements into a new, larger array with at least <paramref name="need"/> bytes free at
    /// the head (<paramref name="roomAtHead"/>) or the tail; a lone block keeps room on both sides, its
    /// elements in the middle. The old array is left as it was, so an element just popped from it stays readable.
    /// </summary>
    private void Regrow(Block block, int need, bool roomAtHead)
    {
        int used = block.End - block.Start;
        bool centre = _blockCount == 1 && used + (2 * need) <= _maxBlockBytes;
        int size = BlockSizeFor(centre ? Math.Max(used * 2, used + (2 * need)) : used + need);
        var data = size == LargeBlockBytes ? FreeBlocks.Rent() : new byte[size];
        int start = centre ? (data.Length - used) / 2 : roomAtHead ? data.Length - used : 0;
        block.Data.AsSpan(block.Start, used).CopyTo(data.AsSpan(start));
        _blockBytes += data.Length - block.Data.Length;
        block.Data = data;
        block.Start = start;
        block.End = start + used;
        _cachedIndex = -1;
    }

    private void PrependBlock(Block block)
    {
        EnsureRing();
        _first = (_first - 1) & (_blocks.Length - 1);
        _blocks[_first] = block;
        _blockCount++;
        _blockBytes += block.Data.Length;
    }

    private void AppendBlock(Block block)
    {
        EnsureRing();
        _blocks[(_first + _blockCount) & (_blocks.Length - 1)] = block;
        _blockCount++;
        _blockBytes += block.Data.Length;
    }

    private void EnsureRing()
    {
        if (_blockCount < _blocks.Length)
        {
            return;
        }
        var blocks = new Block[Math.Max(4, _blocks.Length * 2)];
        for (int i = 0; i < _blockCount; i++)
        {
            blocks[i] = BlockAt(i);
        }
        _blocks = blocks;
        _first = 0;
    }

    /// <summary>After one element left <paramref name="block"/> at ring position <paramref name="position"/> (head or tail).</summary>
    private void Removed(Block block, int position)
    {
        block.Count--;
        _count--;
        _cachedIndex = -1;
        if (block.Count == 0 && _blockCount > 1)
        {
            // The array is dropped, not reused, so the element just popped from it stays readable.
            RemoveBlockAt(position);
        }
    }

    /// <summary>Takes the head or tail block (ring position 0 or last) out of the ring.</summary>
    private void RemoveBlockAt(int position)
    {
        var block = BlockAt(position);
        _blockBytes -= block.Data.Length;
        if (block.Data.Length == LargeBlockBytes)
        {
            FreeBlocks.Return(block.Data);
        }
        if (position == 0)
        {
            _blocks[_first] = null!;
            _first = (_first + 1) & (_blocks.Length - 1);
        }
        else
        {
            _blocks[(_first + position) & (_blocks.Length - 1)] = null!;
        }
        _blockCount--;
    }

    /// <summary>Removes <paramref name="n"/> elements from the head: whole blocks first, then one by one.</summary>
    private void DropLeft(int n)
    {
        while (n > 0 && _blockCount > 1 && BlockAt(0).Count <= n)
        {
            var head = BlockAt(0);
            n -= head.Count;
            _count -= head.Count;
            RemoveBlockAt(0);
        }
        for (; n > 0; n--)
        {
            PopLeft();
        }
        _cachedIndex = -1;
    }

    /// <summary>Removes <paramref name="n"/> elements from the tail: whole blocks first, then one by one.</summary>
    private void DropRight(int n)
    {
        while (n > 0 && _blockCount > 1 && BlockAt(_blockCount - 1).Count <= n)
        {
            var tail = BlockAt(_blockCount - 1);
            n -= tail.Count;
            _count -= tail.Count;
            RemoveBlockAt(_blockCount - 1);
        }
        for (; n > 0; n--)
        {
            PopRight();
        }
        _cachedIndex = -1;
    }

    /// <summary>
    /// Positions the walk on element <paramref name="index"/>: its block, the index of the block's first
    /// element and its offset. Continues from the last position when that is closer than either end.
    /// </summary>
    private void Seek(int index)
    {
        if (_cachedIndex >= 0)
        {
            if (index == _cachedIndex)
            {
                return;
            }
            if (index == _cachedIndex + 1 && StepForward())
            {
                return;
            }
            if (index == _cachedIndex - 1 && StepBackward())
            {
                return;
            }
        }
        // Find the block from the nearer end.
        int blockIndex;
        int blockFirst;
        if (index < _count / 2)
        {
            blockIndex = 0;
            blockFirst = 0;
            while (blockFirst + BlockAt(blockIndex).Count <= index)
            {
                blockFirst += BlockAt(blockIndex).Count;
                blockIndex++;
            }
        }
        else
        {
            blockIndex = _blockCount - 1;
            blockFirst = _count - BlockAt(blockIndex).Count;
            while (blockFirst > index)
            {
                blockIndex--;
                blockFirst -= BlockAt(blockIndex).Count;
            }
        }
        var block = BlockAt(blockIndex);
        int within = index - blockFirst;
        int offset;
        if (within < block.Count / 2)
        {
            offset = block.Start;
            for (int i = 0; i < within; i++)
            {
                Element(block.Data, offset, out int size);
                offset += size;
            }
        }
        else
        {
            offset = block.End;
            for (int i = block.Count; i > within; i--)
            {
                ElementBefore(block.Data, offset, out int size);
                offset -= size;
            }
        }
        _cachedIndex = index;
        _cachedBlock = blockIndex;
        _cachedBlockFirst = blockFirst;
        _cachedOffset = offset;
    }

    private bool StepForward()
    {
        var block = BlockAt(_cachedBlock);
        Element(block.Data, _cachedOffset, out int size);
        int offset = _cachedOffset + size;
        if (offset < block.End)
        {
            _cachedOffset = offset;
        }
        else
        {
            if (_cachedBlock + 1 >= _blockCount)
            {
                return false;
            }
            _cachedBlockFirst += block.Count;
            _cachedBlock++;
            _cachedOffset = BlockAt(_cachedBlock).Start;
        }
        _cachedIndex++;
        return true;
    }

    private bool StepBackward()
    {
        var block = BlockAt(_cachedBlock);
        if (_cachedOffset > block.Start)
        {
            ElementBefore(block.Data, _cachedOffset, out int size);
            _cachedOffset -= size;
        }
        else
        {
            if (_cachedBlock == 0)
            {
                return false;
            }
            _cachedBlock--;
            var previous = BlockAt(_cachedBlock);
            _cachedBlockFirst -= previous.Count;
            ElementBefore(previous.Data, previous.End, out int size);
            _cachedOffset = previous.End - size;
        }
        _cachedIndex--;
        return true;
    }

    /// <summary>
    /// Rewrites the block at ring position <paramref name="position"/>: removes <paramref name="remove"/>
    /// elements from its <paramref name="at"/>-th and, when <paramref name="insert"/>, puts
    /// <paramref name="value"/> there. A block that outgrows the largest size is split in two.
    /// </summary>
    private void RewriteBlock(int position, int at, int remove, ReadOnlySpan<byte> value, bool insert)
    {
        var block = BlockAt(position);
        // The byte range of the elements removed: from the at-th element's offset.
        int cut = block.Start;
        for (int i = 0; i < at; i++)
        {
            Element(block.Data, cut, out int size);
            cut += size;
        }
        int cutEnd = cut;
        for (int i = 0; i < remove; i++)
        {
            Element(block.Data, cutEnd, out int size);
            cutEnd += size;
        }
        int added = insert ? EncodedLength(value.Length) : 0;
        int content = (block.End - block.Start) - (cutEnd - cut) + added;
        int count = block.Count - remove + (insert ? 1 : 0);
        var data = new byte[BlockSizeFor(content)];
        int start = _blockCount == 1 ? (data.Length - content) / 2 : position == 0 ? data.Length - content : 0;
        int write = start;
        block.Data.AsSpan(block.Start, cut - block.Start).CopyTo(data.AsSpan(write));
        write += cut - block.Start;
        if (insert)
        {
            Encode(data, write, value);
            write += added;
        }
        block.Data.AsSpan(cutEnd, block.End - cutEnd).CopyTo(data.AsSpan(write));
        _blockBytes += data.Length - block.Data.Length;
        block.Data = data;
        block.Start = start;
        block.End = start + content;
        _count += count - block.Count;
        block.Count = count;
        _cachedIndex = -1;
        if (content > _maxBlockBytes && count > 1)
        {
            SplitBlock(position);
        }
    }

    /// <summary>Splits an oversized block in two halves by element count (a rare path: LINSERT into a full block).</summary>
    private void SplitBlock(int position)
    {
        var block = BlockAt(position);
        int keep = block.Count / 2;
        int cut = block.Start;
        for (int i = 0; i < keep; i++)
        {
            Element(block.Data, cut, out int size);
            cut += size;
        }
        var right = new Block(new byte[BlockSizeFor(block.End - cut)]) { Count = block.Count - keep };
        block.Data.AsSpan(cut, block.End - cut).CopyTo(right.Data);
        right.End = block.End - cut;
        var left = new Block(new byte[BlockSizeFor(cut - block.Start)]) { Count = keep };
        left.Start = left.Data.Length - (cut - block.Start);
        left.End = left.Data.Length;
        block.Data.AsSpan(block.Start, cut - block.Start).CopyTo(left.Data.AsSpan(left.Start));
        // Rebuild the ring with the two halves in the block's place.
        var blocks = new Block[BitOperations.RoundUpToPowerOf2((uint)(_blockCount + 1)) * 2];
        int n = 0;
        for (int i = 0; i < _blockCount; i++)
        {
            if (i == position)
            {
                blocks[n++] = left;
                blocks[n++] = right;
            }
            else
            {
                blocks[n++] = BlockAt(i);
            }
        }
        _blockBytes += left.Data.Length + right.Data.Length - block.Data.Length;
        _blocks = blocks;
        _first = 0;
        _blockCount = n;
        _cachedIndex = -1;
    }

    /// <summary>Takes over the blocks of <paramref name="other"/> (a list built to replace this one's contents).</summary>
    private void TakeContents(ListValue other)
    {
        _blocks = other._blocks;
        _first = other._first;
        _blockCount = other._blockCount;
        _count = other._count;
        _blockBytes = other._blockBytes;
        _cachedIndex = -1;
    }

    /// <summary>
    /// Emptied large blocks kept for the next large block any list needs, so a list that drains and refills
    /// (a queue) reuses its blocks instead of allocating on the large object heap, whose allocations bring on
    /// full collections. The pool is emptied at a full (gen2) collection when no block came or went for a while.
    /// </summary>
    private static class FreeBlocks
    {
        private const int Capacity = 128;
        private const long IdleMs = 10_000;
        private static readonly Lock Sync = new();
        private static readonly byte[][] Blocks = new byte[Capacity][];
        private static int s_count;
        private static long s_lastUseMs;

        static FreeBlocks() => _ = new Gen2Watch();

        public static byte[] Rent()
        {
            lock (Sync)
            {
                if (s_count > 0)
                {
                    var block = Blocks[--s_count];
                    Blocks[s_count] = null!;
                    s_lastUseMs = Environment.TickCount64;
                    return block;
                }
            }
            return new byte[LargeBlockBytes];
        }

        public static void Return(byte[] block)
        {
            lock (Sync)
            {
                if (s_count < Capacity)
                {
                    Blocks[s_count++] = block;
                    s_lastUseMs = Environment.TickCount64;
                }
            }
        }

        /// <summary>After a collection: empties the pool when no block came or went for a while.</summary>
        private static void TrimWhenIdle()
        {
            lock (Sync)
            {
                if (s_count > 0 && Environment.TickCount64 - s_lastUseMs > IdleMs)
                {
                    Array.Clear(Blocks, 0, s_count);
                    s_count = 0;
                }
            }
        }

        /// <summary>
        /// An unreachable object whose finalizer runs after each collection that finds it, and rearms itself:
        /// once it has aged into gen2, after each full collection.
        /// </summary>
        private sealed class Gen2Watch
        {
            ~Gen2Watch()
            {
                if (Environment.HasShutdownStarted)
                {
                    return;
                }
                TrimWhenIdle();
                GC.ReRegisterForFinalize(this);
            }
        }
    }

    /// <summary>One block: elements packed between <see cref="Start"/> and <see cref="End"/> of <see cref="Data"/>.</summary>
    private sealed class Block(byte[] data)
    {
        public byte[] Data = data;
        public int Start;
        public int End;
        public int Count;
    }
}
