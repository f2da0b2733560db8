using System.IO.Pipelines;
using System.Text;

namespace CacheOperator.Bench.Micro;

/// <summary>Pipelined request batches for the benchmarks, as redis-benchmark sends them.</summary>
internal static class RespBatches
{
    /// <summary>RESP for <paramref name="count"/> commands, the i-th made by <paramref name="command"/>.</summary>
    public static byte[] Build(int count, Func<int, string[]> command)
    {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            var args = command(i);
            text.Append('*').Append(args.Length).Append("\r\n");
            foreach (var arg in args)
            {
                text.Append('$').Append(arg.Length).Append("\r\n").Append(arg).Append("\r\n");
            }
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}

/// <summary>A pipe writer over one reusable buffer, emptied by <see cref="Reset"/>: replies cost what writing them costs.</summary>
internal sealed class DiscardingPipeWriter : PipeWriter
{
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _written;

    public void Reset() => _written = 0;

    public override void Advance(int bytes) => _written += bytes;

    public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(_written);

    public override Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(_written);

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        _written = 0;
        return ValueTask.FromResult(new FlushResult(false, false));
    }
}
