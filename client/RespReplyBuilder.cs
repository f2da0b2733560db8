using System.Buffers.Text;

namespace CacheOperator.Client;

/// <summary>Builds the reply tree of a frame the scanner has found complete and valid.</summary>
internal static class RespReplyBuilder
{
    /// <summary>The reply whose frame starts at <paramref name="position"/> of <paramref name="frame"/>.</summary>
    public static RespReply Build(byte[] frame, int position)
    {
        return Build(frame, ref position);
    }

    private static RespReply Build(byte[] frame, ref int position)
    {
        int start = position;
        byte type = frame[position];
        int lineStart = position + 1;
        int lineEnd = Array.IndexOf(frame, (byte)'\r', lineStart);
        int lineLength = lineEnd - lineStart;
        position = lineEnd + 2;
        RespReply reply;
        switch (type)
        {
            case (byte)'+':
                reply = Line(RespReplyKind.SimpleString, 0);
                break;
            case (byte)'-':
                reply = Line(RespReplyKind.Error, 0);
                break;
            case (byte)',':
                reply = Line(RespReplyKind.Double, 0);
                break;
            case (byte)'(':
                reply = Line(RespReplyKind.BigNumber, 0);
                break;
            case (byte)':':
                reply = Line(RespReplyKind.Integer, Number(frame, lineStart, lineLength));
                break;
            case (byte)'#':
                reply = Line(RespReplyKind.Boolean, frame[lineStart] == (byte)'t' ? 1 : 0);
                break;
            case (byte)'_':
                reply = Line(RespReplyKind.Null, 0);
                break;
            case (byte)'$' or (byte)'=' or (byte)'!':
                int length = (int)Number(frame, lineStart, lineLength);
                if (length < 0)
                {
                    reply = new RespReply(RespReplyKind.Null, type, frame, start, position, 0, 0, null);
                    break;
                }
                var kind = type switch { (byte)'$' => RespReplyKind.BulkString, (byte)'=' => RespReplyKind.VerbatimString, _ => RespReplyKind.Error };
                reply = new RespReply(kind, type, frame, start, position, length, 0, null);
                position += length + 2;
                break;
            case (byte)'|':
                var attributes = Aggregate(RespReplyKind.Attribute, frame, ref position, start, (int)Number(frame, lineStart, lineLength) * 2);
                reply = Build(frame, ref position);
                reply.AttachAttributes(attributes, start);
                return reply;
            default:
                int count = (int)Number(frame, lineStart, lineLength);
                if (count < 0)
                {
                    reply = new RespReply(RespReplyKind.Null, type, frame, start, position, 0, 0, null);
                    break;
                }
                var aggregate = type switch { (byte)'*' => RespReplyKind.Array, (byte)'~' => RespReplyKind.Set, (byte)'>' => RespReplyKind.Push, _ => RespReplyKind.Map };
                return Aggregate(aggregate, frame, ref position, start, type == (byte)'%' ? count * 2 : count);
        }
        reply.Finish(position);
        return reply;

        RespReply Line(RespReplyKind kind, long integer) => new(kind, type, frame, start, lineStart, lineLength, integer, null);
    }

    private static RespReply Aggregate(RespReplyKind kind, byte[] frame, ref int position, int start, int count)
    {
        var children = count == 0 ? null : new RespReply[count];
        for (int i = 0; i < count; i++)
        {
            children![i] = Build(frame, ref position);
        }
        var reply = new RespReply(kind, frame[start], frame, start, position, 0, 0, children);
        reply.Finish(position);
        return reply;
    }

    private static long Number(byte[] frame, int start, int length)
    {
        Utf8Parser.TryParse(frame.AsSpan(start, length), out long value, out _);
        return value;
    }
}
