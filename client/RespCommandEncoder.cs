using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace CacheOperator.Client;

/// <summary>Writes commands as RESP multibulks straight into a buffer writer, strings encoded in place as UTF-8.</summary>
public static class RespCommandEncoder
{
    /// <summary>Writes a command of UTF-8 strings.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<string> arguments)
    {
        foreach (var argument in arguments)
        {
            ArgumentNullException.ThrowIfNull(argument, nameof(arguments));
        }
        WriteHeader(output, (byte)'*', arguments.Length);
        foreach (var argument in arguments)
        {
            int length = Encoding.UTF8.GetByteCount(argument);
            WriteHeader(output, (byte)'$', length);
            var span = output.GetSpan(length + 2);
            Encoding.UTF8.GetBytes(argument, span);
            span[length] = (byte)'\r';
            span[length + 1] = (byte)'\n';
            output.Advance(length + 2);
        }
    }

    /// <summary>Writes a command of binary arguments.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte[]> arguments)
    {
        foreach (var argument in arguments)
        {
            ArgumentNullException.ThrowIfNull(argument, nameof(arguments));
        }
        WriteHeader(output, (byte)'*', arguments.Length);
        foreach (var argument in arguments)
        {
            WriteBulk(output, argument);
        }
    }

    /// <summary>Writes a command of binary arguments.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<ReadOnlyMemory<byte>> arguments)
    {
        WriteHeader(output, (byte)'*', arguments.Length);
        foreach (var argument in arguments)
        {
            WriteBulk(output, argument.Span);
        }
    }

    /// <summary>A command of UTF-8 strings as a new array.</summary>
    public static byte[] Encode(params ReadOnlySpan<string> arguments)
    {
        var output = new ArrayBufferWriter<byte>();
        Write(output, arguments);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A command of binary arguments as a new array.</summary>
    public static byte[] Encode(params ReadOnlySpan<byte[]> arguments)
    {
        var output = new ArrayBufferWriter<byte>();
        Write(output, arguments);
        return output.WrittenSpan.ToArray();
    }

    private static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> argument)
    {
        WriteHeader(output, (byte)'$', argument.Length);
        var span = output.GetSpan(argument.Length + 2);
        argument.CopyTo(span);
        span[argument.Length] = (byte)'\r';
        span[argument.Length + 1] = (byte)'\n';
        output.Advance(argument.Length + 2);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte type, int value)
    {
        var span = output.GetSpan(16);
        span[0] = type;
        Utf8Formatter.TryFormat(value, span[1..], out int written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        output.Advance(3 + written);
    }
}
