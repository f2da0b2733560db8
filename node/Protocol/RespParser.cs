namespace CacheOperator.Node.Protocol;

/// <summary>
/// Reads RESP multibulk and inline requests from a pipe's buffer into a <see cref="CommandBatch"/>.
/// The parser resumes where the previous read stopped: finished arguments are consumed at once, so a
/// huge command arriving over many reads is never scanned twice.
/// </summary>
public static class RespParser
{
    /// <summary>Longest inline request or count line Redis accepts without a newline.</summary>
    public const int InlineMaxSize = 64 * 1024;

    private const int MaxLineDigits = 32;

    /// <summary>
    /// Parses as many requests as <paramref name="buffer"/> holds. Returns the position up to which the
    /// bytes are consumed; throws <see cref="ProtocolException"/> after recording the good commands before it.
    /// </summary>
    public static SequencePosition Parse(ReadOnlySequence<byte> buffer, CommandBatch batch, long maxBulkLength)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (!reader.End)
        {
            if (batch.LargeBulk is not null)
            {
                if (!ContinueLargeBulk(ref reader, batch))
                {
                    break;
                }
                continue;
            }

            if (batch.PendingArgs == 0)
            {
                byte first = reader.UnreadSpan[0];
                if (first == (byte)'*')
                {
                    long lineStart = reader.Consumed;
                    reader.Advance(1);
                    if (!TryReadLine(ref reader, out var line))
                    {
                        if (reader.Remaining > InlineMaxSize)
                        {
                            throw new ProtocolException("Protocol error: too big mbulk count string");
                        }
                        reader.Rewind(reader.Consumed - lineStart);
                        break;
                    }
                    if (!TryParseInt64(line, out long count) || count > int.MaxValue)
                    {
                        throw new ProtocolException("Protocol error: invalid multibulk length");
                    }
                    if (count <= 0)
                    {
                        continue;
                    }
                    batch.BeginMultiBulk((int)count);
                }
                else
                {
                    if (!reader.TryReadTo(out ReadOnlySequence<byte> inline, (byte)'\n'))
                    {
                        if (reader.Remaining > InlineMaxSize)
                        {
                            throw new ProtocolException("Protocol error: too big inline request");
                        }
                        break;
                    }
                    var args = InlineSplitter.Split(inline);
                    if (args is null)
                    {
                        throw new ProtocolException("Protocol error: unbalanced quotes in request");
                    }
                    if (args.Count > 0)
                    {
                        batch.AddInlineCommand(args);
                    }
                    continue;
                }
            }

            if (!ReadBulkArgs(ref reader, batch, maxBulkLength))
            {
                break;
            }
        }
        return reader.Position;
    }

    /// <summary>Reads bulk arguments of the current multibulk; false when the buffer ran out mid-argument.</summary>
    private static bool ReadBulkArgs(ref SequenceReader<byte> reader, CommandBatch batch, long maxBulkLength)
    {
        while (batch.PendingArgs > 0)
        {
            if (reader.End)
            {
                return false;
            }
            long headerStart = reader.Consumed;
            byte marker = reader.UnreadSpan[0];
            if (marker != (byte)'$')
            {
                throw new ProtocolException($"Protocol error: expected '$', got '{(char)marker}'");
            }
            reader.Advance(1);
            if (!TryReadLine(ref reader, out var line))
            {
                if (reader.Remaining > InlineMaxSize)
                {
                    throw new ProtocolException("Protocol error: too big bulk count string");
                }
                reader.Rewind(reader.Consumed - headerStart);
                return false;
            }
            if (!TryParseInt64(line, out long length) || length < 0 || length > maxBulkLength || length > Array.MaxLength)
            {
                throw new ProtocolException("Protocol error: invalid bulk length");
            }
            if (length >= CommandBatch.LargeBulkThreshold)
            {
                batch.BeginLargeBulk((int)length);
                if (!ContinueLargeBulk(ref reader, batch))
                {
                    return false;
                }
                continue;
            }
            if (reader.Remaining < length + 2)
            {
                reader.Rewind(reader.Consumed - headerStart);
                return false;
            }
            var unread = reader.UnreadSpan;
            if (unread.Length >= length)
            {
                batch.AddArg(unread[..(int)length]);
            }
            else
            {
                batch.AddArg(reader.UnreadSequence.Slice(0, length));
            }
            // Like Redis, the two bytes after the payload are skipped without inspection.
            reader.Advance(length + 2);
        }
        return true;
    }

    /// <summary>Copies what has arrived of a large bulk; true once it and its CRLF are complete.</summary>
    private static bool ContinueLargeBulk(ref SequenceReader<byte> reader, CommandBatch batch)
    {
        int missing = batch.LargeBulk!.Length - batch.LargeBulkFilled;
        if (missing > 0)
        {
            int taken = batch.FillLargeBulk(reader.UnreadSequence);
            reader.Advance(taken);
            if (taken < missing)
            {
                return false;
            }
        }
        if (reader.Remaining < 2)
        {
            return false;
        }
        reader.Advance(2);
        batch.EndLargeBulk();
        return true;
    }

    /// <summary>Reads up to CR and skips the byte after it, as Redis does; false when the line is not complete.</summary>
    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        var span = reader.UnreadSpan;
        int cr = span.IndexOf((byte)'\r');
        if (cr >= 0 && cr + 1 < span.Length)
        {
            line = span[..cr];
            reader.Advance(cr + 2);
            return true;
        }
        // Slow path: the line crosses buffer segments.
        long start = reader.Consumed;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> seq, (byte)'\r') || reader.End)
        {
            reader.Rewind(reader.Consumed - start);
            line = default;
            return false;
        }
        reader.Advance(1);
        // A count line longer than any number can only fail to parse; "x" makes it do so.
        line = seq.Length <= MaxLineDigits ? seq.ToArray() : "x"u8;
        return true;
    }

    /// <summary>Strict decimal parse as Redis's string2ll: optional minus, no leading zeros or plus, no overflow.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 20)
        {
            return false;
        }
        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }
        bool negative = text[0] == (byte)'-';
        int i = negative ? 1 : 0;
        if (i == text.Length || text[i] < (byte)'1' || text[i] > (byte)'9')
        {
            return false;
        }
        ulong acc = 0;
        for (; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit > 9 || acc > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }
            acc = acc * 10 + digit;
        }
        if (negative)
        {
            if (acc > (ulong)long.MaxValue + 1)
            {
                return false;
            }
            value = (long)(0 - acc);
            return true;
        }
        if (acc > long.MaxValue)
        {
            return false;
        }
        value = (long)acc;
        return true;
    }
}
