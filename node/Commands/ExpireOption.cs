using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>Expiry arguments shared by SET, GETEX and the EXPIRE family: units and conversion to an absolute time.</summary>
internal static class ExpireOption
{
    /// <summary>How an expiry argument is expressed.</summary>
    public enum Unit
    {
        /// <summary>EX: seconds from now.</summary>
        Seconds,

        /// <summary>PX: milliseconds from now.</summary>
        Milliseconds,

        /// <summary>EXAT: unix time in seconds.</summary>
        UnixSeconds,

        /// <summary>PXAT: unix time in milliseconds.</summary>
        UnixMilliseconds,
    }

    /// <summary>Recognises EX, PX, EXAT and PXAT.</summary>
    public static bool TryParseUnit(ReadOnlySpan<byte> word, out Unit unit)
    {
        if (Ascii.EqualsIgnoreCase(word, "EX"u8))
        {
            unit = Unit.Seconds;
        }
        else if (Ascii.EqualsIgnoreCase(word, "PX"u8))
        {
            unit = Unit.Milliseconds;
        }
        else if (Ascii.EqualsIgnoreCase(word, "EXAT"u8))
        {
            unit = Unit.UnixSeconds;
        }
        else if (Ascii.EqualsIgnoreCase(word, "PXAT"u8))
        {
            unit = Unit.UnixMilliseconds;
        }
        else
        {
            unit = default;
            return false;
        }
        return true;
    }

    /// <summary>
    /// Turns an expiry argument into unix milliseconds with SET's rules: the number must be a positive
    /// integer whose absolute time fits 64 bits, else "invalid expire time".
    /// </summary>
    public static bool TryResolve(Session s, ReadOnlySpan<byte> text, Unit unit, string command, out long unixMs)
    {
        unixMs = 0;
        if (!s.TryParseLong(text, out long amount))
        {
            return false;
        }
        bool seconds = unit is Unit.Seconds or Unit.UnixSeconds;
        if (amount <= 0 || (seconds && amount > long.MaxValue / 1000))
        {
            s.Reply.WriteError(Errors.InvalidExpire(command));
            return false;
        }
        long ms = seconds ? amount * 1000 : amount;
        if (unit is Unit.Seconds or Unit.Milliseconds)
        {
            if (ms > long.MaxValue - s.Keyspace.NowMs)
            {
                s.Reply.WriteError(Errors.InvalidExpire(command));
                return false;
            }
            ms += s.Keyspace.NowMs;
        }
        unixMs = ms;
        return true;
    }
}
