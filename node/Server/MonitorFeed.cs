using System.Buffers;
using System.Globalization;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>
/// The MONITOR clients and the line each gets per command, Redis 7.0's
/// <c>+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"</c>, arguments quoted as sdscatrepr does and
/// AUTH/HELLO secrets shown as "(redacted)". Lines go through each monitor's <see cref="OutboundQueue"/>.
/// Under the keyspace lock.
/// </summary>
public sealed class MonitorFeed
{
    private static readonly byte[] Redacted = "\"(redacted)\""u8.ToArray();
    private readonly List<Session> _monitors = [];
    private readonly ArrayBufferWriter<byte> _line = new(256);

    /// <summary>Clients in MONITOR mode.</summary>
    public int Count => _monitors.Count;

    /// <summary>Puts <paramref name="session"/> in MONITOR mode (Redis ignores a second MONITOR).</summary>
    public void Add(Session session)
    {
        if (!session.IsMonitor)
        {
            session.IsMonitor = true;
            _monitors.Add(session);
        }
    }

    /// <summary>Takes <paramref name="session"/> out of MONITOR mode (RESET, disconnect).</summary>
    public void Remove(Session session)
    {
        if (session.IsMonitor)
        {
            session.IsMonitor = false;
            _monitors.Remove(session);
        }
    }

    /// <summary>Sends every monitor the line for <paramref name="args"/>, run by <paramref name="session"/> in its current database.</summary>
    public void Feed(Session session, ArgList args)
    {
        var line = _line;
        line.ResetWrittenCount();
        long micros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        Append(line, string.Create(CultureInfo.InvariantCulture, $"+{micros / 1_000_000}.{micros % 1_000_000:D6} [{session.Db.Id} {session.RemoteAddress}] "));
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0)
            {
                line.Write(" "u8);
            }
            if (i < 64 && (session.RedactedArgs & (1UL << i)) != 0)
            {
                line.Write(Redacted);
            }
            else
            {
                AppendRepr(line, args[i]);
            }
        }
        line.Write("\r\n"u8);
        foreach (var monitor in _monitors)
        {
            monitor.Outbound.Writer.WriteRaw(line.WrittenSpan);
            monitor.Outbound.Send();
        }
    }

    /// <summary>Redis's sdscatrepr: quoted, with \\ \" \n \r \t \a \b escaped and other non-printable bytes as \xNN.</summary>
    public static void AppendRepr(IBufferWriter<byte> line, ReadOnlySpan<byte> arg)
    {
        var span = line.GetSpan((arg.Length * 4) + 2);
        int n = 0;
        span[n++] = (byte)'"';
        foreach (byte b in arg)
        {
            switch (b)
            {
                case (byte)'\\' or (byte)'"':
                    span[n++] = (byte)'\\';
                    span[n++] = b;
                    break;
                case (byte)'\n': n += Escape(span[n..], 'n'); break;
                case (byte)'\r': n += Escape(span[n..], 'r'); break;
                case (byte)'\t': n += Escape(span[n..], 't'); break;
                case 7: n += Escape(span[n..], 'a'); break;
                case 8: n += Escape(span[n..], 'b'); break;
                default:
                    if (b is >= 0x20 and <= 0x7e)
                    {
                        span[n++] = b;
                    }
                    else
                    {
                        span[n++] = (byte)'\\';
                        span[n++] = (byte)'x';
                        span[n++] = (byte)"0123456789abcdef"[b >> 4];
                        span[n++] = (byte)"0123456789abcdef"[b & 15];
                    }
                    break;
            }
        }
        span[n++] = (byte)'"';
        line.Advance(n);
    }

    private static int Escape(Span<byte> span, char c)
    {
        span[0] = (byte)'\\';
        span[1] = (byte)c;
        return 2;
    }

    private static void Append(ArrayBufferWriter<byte> line, string text)
    {
        var span = line.GetSpan(text.Length);
        int n = System.Text.Encoding.ASCII.GetBytes(text, span);
        line.Advance(n);
    }
}
