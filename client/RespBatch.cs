using System.Buffers;

namespace CacheOperator.Client;

/// <summary>
/// Commands encoded ahead into one buffer, sent in one write by <see cref="RespConnection.ExecuteBatchAsync"/>
/// and answered by one array of replies in order. Reusable after <see cref="Clear"/>.
/// </summary>
public sealed class RespBatch
{
    private readonly ArrayBufferWriter<byte> _encoded = new();

    /// <summary>Number of commands added.</summary>
    public int Count { get; private set; }

    /// <summary>The encoded commands.</summary>
    public ReadOnlySpan<byte> Encoded => _encoded.WrittenSpan;

    /// <summary>Adds a command of UTF-8 strings.</summary>
    public RespBatch Add(params ReadOnlySpan<string> arguments)
    {
        RespCommandEncoder.Write(_encoded, arguments);
        Count++;
        return this;
    }

    /// <summary>Adds a command of binary arguments.</summary>
    public RespBatch Add(params ReadOnlySpan<byte[]> arguments)
    {
        RespCommandEncoder.Write(_encoded, arguments);
        Count++;
        return this;
    }

    /// <summary>Adds a command of binary arguments.</summary>
    public RespBatch Add(params ReadOnlySpan<ReadOnlyMemory<byte>> arguments)
    {
        RespCommandEncoder.Write(_encoded, arguments);
        Count++;
        return this;
    }

    /// <summary>Empties the batch for reuse.</summary>
    public void Clear()
    {
        _encoded.ResetWrittenCount();
        Count = 0;
    }
}
