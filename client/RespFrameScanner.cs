using System.Buffers.Text;

namespace CacheOperator.Client;

/// <summary>
/// Finds where the next complete RESP frame ends in a buffer that grows as bytes arrive, resuming where the
/// previous call stopped, so a frame arriving in many reads (a large array, a byte at a time) is scanned once.
/// It validates the grammar, so the builder that follows can trust it.
/// </summary>
internal struct RespFrameScanner
{
    /// <summary>Aggregates nested deeper than this are refused (the builder recurses).</summary>
    public const int MaxDepth = 256;

    private int[]? _remaining;
    private int _depth;
    private int _offset;
    private long _needed;

    /// <summary>Bytes from the frame's start that must be buffered before scanning can progress.</summary>
    public readonly long Needed => _needed;

    /// <summary>Length of the complete frame at the start of <paramref name="data"/>, or -1 while incomplete.</summary>
    public int Scan(ReadOnlySpan<byte> data)
    {
        if (data.Length < _needed)
        {
            return -1;
        }
        while (true)
        {
            var rest = data[_offset..];
            int newline = rest.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _needed = data.Length + 1L;
                return -1;
            }
            if (newline < 2 || rest[newline - 1] != (byte)'\r')
            {
                throw new RespProtocolException($"Malformed RESP line starting with '{Printable(rest[0])}'");
            }
            byte type = rest[0];
            var line = rest[1..(newline - 1)];
            if (line.Contains((byte)'\r'))
            {
                throw new RespProtocolException($"Malformed RESP line starting with '{Printable(type)}'");
            }
            long elementLength = newline + 1;
            int children = 0;
            switch (type)
            {
                case (byte)'+' or (byte)'-' or (byte)',' or (byte)'(':
                    break;
                case (byte)':':
                    ParseNumber(line, type);
                    break;
                case (byte)'#':
                    if (line.Length != 1 || (line[0] != (byte)'t' && line[0] != (byte)'f'))
                    {
                        throw new RespProtocolException("Malformed RESP boolean");
                    }
                    break;
                case (byte)'_':
                    if (!line.IsEmpty)
                    {
                        throw new RespProtocolException("Malformed RESP null");
                    }
                    break;
                case (byte)'$' or (byte)'=' or (byte)'!':
                    long length = ParseNumber(line, type);
                    if (length >= 0)
                    {
                        elementLength += length + 2;
                        long end = _offset + elementLength;
                        if (end > Array.MaxLength)
                        {
                            throw new RespProtocolException($"RESP bulk of {length} bytes is larger than a frame can be");
                        }
                        if (end > data.Length)
                        {
                            _needed = end;
                            return -1;
                        }
                        if (data[(int)end - 2] != (byte)'\r' || data[(int)end - 1] != (byte)'\n')
                        {
                            throw new RespProtocolException("RESP bulk not terminated by CRLF");
                        }
                    }
                    else if (length != -1 || type != (byte)'$')
                    {
                        throw new RespProtocolException($"Invalid RESP length {length} for '{Printable(type)}'");
                    }
                    break;
                case (byte)'*' or (byte)'~' or (byte)'>' or (byte)'%' or (byte)'|':
                    long count = ParseNumber(line, type);
                    if (count < -1 || count > int.MaxValue / 2 - 1 || (count == -1 && type != (byte)'*'))
                    {
                        throw new RespProtocolException($"Invalid RESP element count {count} for '{Printable(type)}'");
                    }
                    // A map holds key and value per entry; an attribute also carries the reply it describes.
                    children = type switch
                    {
                        (byte)'%' => (int)count * 2,
                        (byte)'|' => (int)count * 2 + 1,
                        _ => (int)Math.Max(count, 0),
                    };
                    break;
                default:
                    throw new RespProtocolException($"Unknown RESP type byte '{Printable(type)}'");
            }
            _offset += (int)elementLength;
            if (children > 0)
            {
                Push(children);
                continue;
            }
            // One element is complete: it may complete its parents, and the outermost completes the frame.
            while (true)
            {
                if (_depth == 0)
                {
                    int frameLength = _offset;
                    _offset = 0;
                    _needed = 0;
                    return frameLength;
                }
                if (--_remaining![_depth - 1] > 0)
                {
                    break;
                }
                _depth--;
            }
        }
    }

    private void Push(int children)
    {
        if (_depth == MaxDepth)
        {
            throw new RespProtocolException($"RESP aggregates nested deeper than {MaxDepth}");
        }
        _remaining ??= new int[8];
        if (_depth == _remaining.Length)
        {
            Array.Resize(ref _remaining, _remaining.Length * 2);
        }
        _remaining[_depth++] = children;
    }

    private static long ParseNumber(ReadOnlySpan<byte> line, byte type)
    {
        if (!Utf8Parser.TryParse(line, out long value, out int consumed) || consumed != line.Length)
        {
            throw new RespProtocolException($"Malformed RESP number after '{Printable(type)}'");
        }
        return value;
    }

    private static string Printable(byte b) => b is >= 32 and < 127 ? ((char)b).ToString() : $"\\x{b:x2}";
}
