namespace CacheOperator.Node.Protocol;

/// <summary>The arguments of one command (name first), viewed in a <see cref="CommandBatch"/> or held as arrays.</summary>
public readonly struct ArgList
{
    private readonly CommandBatch? _batch;
    private readonly byte[][]? _arrays;
    private readonly int _start;

    /// <summary>Number of arguments including the command name.</summary>
    public int Count { get; }

    internal ArgList(CommandBatch batch, int start, int count)
    {
        _batch = batch;
        _start = start;
        Count = count;
    }

    /// <summary>Arguments held as arrays: queued MULTI commands, scripts, replication.</summary>
    public ArgList(byte[][] arrays)
    {
        _arrays = arrays;
        Count = arrays.Length;
    }

    /// <summary>The bytes of argument <paramref name="index"/>; valid until the batch is cleared.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            return _arrays is not null ? _arrays[index] : _batch!.GetArg(_start + index);
        }
    }

    /// <summary>An array that the caller may keep (a stored value): large bulks are handed over, small ones copied.</summary>
    public byte[] Detach(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        return _arrays is not null ? _arrays[index] : _batch!.DetachArg(_start + index);
    }

    /// <summary>Copies every argument out, for commands that must outlive the batch.</summary>
    public byte[][] ToArrays()
    {
        var result = new byte[Count][];
        for (int i = 0; i < Count; i++)
        {
            result[i] = this[i].ToArray();
        }
        return result;
    }

    /// <summary>Argument <paramref name="index"/> as text, for error messages and rare paths only.</summary>
    public string GetString(int index) => System.Text.Encoding.UTF8.GetString(this[index]);

    /// <summary>True when argument <paramref name="index"/> equals the ASCII word, ignoring case.</summary>
    public bool Is(int index, ReadOnlySpan<byte> upperWord) => Ascii.EqualsIgnoreCase(this[index], upperWord);
}
