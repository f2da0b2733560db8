namespace CacheOperator.Node.Protocol;

/// <summary>Splits an inline request line into arguments with the quoting rules of Redis's sdssplitargs.</summary>
public static class InlineSplitter
{
    /// <summary>The arguments of the line (without its newline), or null when quotes are unbalanced.</summary>
    public static List<byte[]>? Split(ReadOnlySequence<byte> lineWithoutNewline)
    {
        ReadOnlySpan<byte> line = lineWithoutNewline.IsSingleSegment ? lineWithoutNewline.FirstSpan : lineWithoutNewline.ToArray();
        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }
        return Split(line);
    }

    /// <summary>The arguments of <paramref name="line"/>, or null when quotes are unbalanced.</summary>
    public static List<byte[]>? Split(ReadOnlySpan<byte> line)
    {
        var args = new List<byte[]>();
        var current = new List<byte>();
        int i = 0;
        while (true)
        {
            while (i < line.Length && IsSpace(line[i]))
            {
                i++;
            }
            if (i >= line.Length)
            {
                return args;
            }
            current.Clear();
            bool inDouble = false, inSingle = false, done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (i >= line.Length)
                    {
                        return null;
                    }
                    byte c = line[i];
                    if (c == (byte)'\\' && i + 3 < line.Length && line[i + 1] == (byte)'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        current.Add((byte)(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
                        i += 3;
                    }
                    else if (c == (byte)'\\' && i + 1 < line.Length)
                    {
                        i++;
                        current.Add(line[i] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        });
                    }
                    else if (c == (byte)'"')
                    {
                        // The closing quote must be followed by a space or the end of the line.
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return null;
                        }
                        done = true;
                    }
                    else
                    {
                        current.Add(c);
                    }
                }
                else if (inSingle)
                {
                    if (i >= line.Length)
                    {
                        return null;
                    }
                    byte c = line[i];
                    if (c == (byte)'\\' && i + 1 < line.Length && line[i + 1] == (byte)'\'')
                    {
                        i++;
                        current.Add((byte)'\'');
                    }
                    else if (c == (byte)'\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return null;
                        }
                        done = true;
                    }
                    else
                    {
                        current.Add(c);
                    }
                }
                else
                {
                    if (i >= line.Length)
                    {
                        done = true;
                        break;
                    }
                    byte c = line[i];
                    switch (c)
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDouble = true;
                            break;
                        case (byte)'\'':
                            inSingle = true;
                            break;
                        default:
                            current.Add(c);
                            break;
                    }
                }
                if (i < line.Length)
                {
                    i++;
                }
            }
            args.Add(current.ToArray());
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte c) => char.IsAsciiHexDigit((char)c);

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
