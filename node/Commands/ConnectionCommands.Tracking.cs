using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>CLIENT's client-side caching subcommands: TRACKING, CACHING, GETREDIR and TRACKINGINFO (Redis 7.0's texts).</summary>
internal static partial class ConnectionCommands
{
    private const CommandFlags ClientOwn = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    private static CommandSpec[] TrackingSubcommands =>
    [
        new("client|tracking", -3, ClientTracking)
        {
            Flags = ClientOwn, Acl = "@slow @connection", Since = "6.0.0", Summary = "Controls server-assisted client-side caching for the connection.",
            Complexity = "O(1). Some options may introduce additional complexity.",
            Syntax = "<ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
        },
        new("client|caching", 3, ClientCaching)
        {
            Flags = ClientOwn, Acl = "@slow @connection", Since = "6.0.0", Summary = "Instructs the server whether to track the keys in the next request.",
            Complexity = "O(1)", Syntax = "<YES | NO>",
        },
        new("client|getredir", 2, ClientGetRedir)
        {
            Flags = ClientOwn, Acl = "@slow @connection", Since = "6.0.0",
            Summary = "Returns the client ID to which the connection's tracking notifications are redirected.", Complexity = "O(1)",
        },
        new("client|trackinginfo", 2, ClientTrackingInfo)
        {
            Flags = ClientOwn, Acl = "@slow @connection", Since = "6.2.0",
            Summary = "Returns information about server-assisted client-side caching for the connection.", Complexity = "O(1)",
        },
    ];

    /// <summary>CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], checked in Redis's order.</summary>
    private static void ClientTracking(Session s, ArgList a)
    {
        long redirect = 0;
        bool broadcast = false, optIn = false, optOut = false, noLoop = false;
        var prefixes = new List<byte[]>();
        for (int j = 3; j < a.Count; j++)
        {
            bool moreArgs = j < a.Count - 1;
            var option = a[j];
            if (Ascii.EqualsIgnoreCase(option, "redirect"u8) && moreArgs)
            {
                j++;
                if (redirect != 0)
                {
                    s.Reply.WriteError("ERR A client can only redirect to a single other client");
                    return;
                }
                if (!s.TryParseLong(a[j], out redirect))
                {
                    return;
                }
                // The client must exist now, even if it may go later (Redis's sanity check).
                if (s.Server.FindClient(redirect) is null)
                {
                    s.Reply.WriteError("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (Ascii.EqualsIgnoreCase(option, "bcast"u8))
            {
                broadcast = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "optin"u8))
            {
                optIn = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "optout"u8))
            {
                optOut = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "noloop"u8))
            {
                noLoop = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "prefix"u8) && moreArgs)
            {
                prefixes.Add(a[++j].ToArray());
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (Ascii.EqualsIgnoreCase(a[2], "off"u8))
        {
            s.Server.Tracking.Disable(s);
            s.Reply.WriteOk();
            return;
        }
        if (!Ascii.EqualsIgnoreCase(a[2], "on"u8))
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        var current = s.Tracking;
        string? error = null;
        if (!broadcast && prefixes.Count > 0)
        {
            error = "ERR PREFIX option requires BCAST mode to be enabled";
        }
        else if (current is not null && current.Broadcast != broadcast)
        {
            error = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
        }
        else if (broadcast && (optIn || optOut))
        {
            error = "ERR OPTIN and OPTOUT are not compatible with BCAST";
        }
        else if (optIn && optOut)
        {
            error = "ERR You can't specify both OPTIN mode and OPTOUT mode";
        }
        else if ((optIn && current is { OptOut: true }) || (optOut && current is { OptIn: true }))
        {
            error = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
        }
        else if (broadcast)
        {
            error = PrefixCollision(current?.Prefixes, prefixes);
        }
        if (error is not null)
        {
            s.Reply.WriteError(error);
            return;
        }
        s.Server.Tracking.Enable(s, redirect, broadcast, optIn, optOut, noLoop, prefixes);
        s.Reply.WriteOk();
    }

    /// <summary>Redis's checkPrefixCollisionsOrReply: two prefixes of one client must not be prefixes of each other.</summary>
    private static string? PrefixCollision(SortedSet<byte[]>? existing, List<byte[]> prefixes)
    {
        static bool Overlap(byte[] x, byte[] y) => x.AsSpan(0, Math.Min(x.Length, y.Length)).SequenceEqual(y.AsSpan(0, Math.Min(x.Length, y.Length)));
        static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
        for (int i = 0; i < prefixes.Count; i++)
        {
            if (existing is not null)
            {
                foreach (var held in existing)
                {
                    if (Overlap(held, prefixes[i]))
                    {
                        return $"ERR Prefix '{Text(prefixes[i])}' overlaps with an existing prefix '{Text(held)}'. Prefixes for a single client must not overlap.";
                    }
                }
            }
            for (int j = i + 1; j < prefixes.Count; j++)
            {
                if (Overlap(prefixes[i], prefixes[j]))
                {
                    return $"ERR Prefix '{Text(prefixes[i])}' overlaps with another provided prefix '{Text(prefixes[j])}'. Prefixes for a single client must not overlap.";
                }
            }
        }
        return null;
    }

    /// <summary>CLIENT CACHING YES|NO: whether the next command's keys are tracked (OPTIN / OPTOUT).</summary>
    private static void ClientCaching(Session s, ArgList a)
    {
        if (s.Tracking is not { } tracking)
        {
            s.Reply.WriteError("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        if (Ascii.EqualsIgnoreCase(a[2], "yes"u8))
        {
            if (!tracking.OptIn)
            {
                s.Reply.WriteError("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
                return;
            }
        }
        else if (Ascii.EqualsIgnoreCase(a[2], "no"u8))
        {
            if (!tracking.OptOut)
            {
                s.Reply.WriteError("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
                return;
            }
        }
        else
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        tracking.CachingGiven = true;
        s.Reply.WriteOk();
    }

    private static void ClientGetRedir(Session s, ArgList a) => s.Reply.WriteInteger(s.Tracking?.Redirect ?? -1);

    /// <summary>CLIENT TRACKINGINFO: flags (a set), redirect and prefixes, as Redis 7.0 lists them.</summary>
    private static void ClientTrackingInfo(Session s, ArgList a)
    {
        var tracking = s.Tracking;
        var flags = new List<string> { tracking is null ? "off" : "on" };
        if (tracking is not null)
        {
            if (tracking.Broadcast)
            {
                flags.Add("bcast");
            }
            if (tracking.OptIn)
            {
                flags.Add("optin");
                if (tracking.CachingGiven)
                {
                    flags.Add("caching-yes");
                }
            }
            if (tracking.OptOut)
            {
                flags.Add("optout");
                if (tracking.CachingGiven)
                {
                    flags.Add("caching-no");
                }
            }
            if (tracking.NoLoop)
            {
                flags.Add("noloop");
            }
            if (tracking.BrokenRedirect)
            {
                flags.Add("broken_redirect");
            }
        }
        var reply = s.Reply;
        reply.WriteMapHeader(3);
        reply.WriteBulk("flags"u8);
        reply.WriteSetHeader(flags.Count);
        foreach (var flag in flags)
        {
            reply.WriteBulk(flag);
        }
        reply.WriteBulk("redirect"u8);
        reply.WriteInteger(tracking?.Redirect ?? -1);
        reply.WriteBulk("prefixes"u8);
        var prefixes = tracking?.Prefixes;
        reply.WriteArrayHeader(prefixes?.Count ?? 0);
        if (prefixes is not null)
        {
            foreach (var prefix in prefixes)
            {
                reply.WriteBulk(prefix);
            }
        }
    }
}
