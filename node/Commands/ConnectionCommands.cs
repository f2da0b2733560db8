using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The connection family: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and CLIENT.</summary>
internal static partial class ConnectionCommands
{
    private const CommandFlags Conn = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandSpec> All =>
    [
        new("ping", -1, Ping)
        {
            Flags = CommandFlags.Fast | CommandFlags.SubscriberContext, Acl = "@fast @connection", Tips = "request_policy:all_shards response_policy:all_succeeded",
            Summary = "Returns the server's liveliness response.", Complexity = "O(1)", Syntax = "[message]",
        },
        new("echo", 2, Echo) { Flags = Conn, Acl = "@fast @connection", Summary = "Returns the given string.", Complexity = "O(1)", Syntax = "message" },
        new("hello", -1, Hello)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript | CommandFlags.AllowBusy, Acl = "@fast @connection", Since = "6.0.0", Complexity = "O(1)",
            Summary = "Handshakes with the Redis server.", Syntax = "[protover [AUTH username password] [SETNAME clientname]]",
        },
        new("auth", -2, Auth)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript | CommandFlags.AllowBusy, Acl = "@fast @connection", Complexity = "O(N) where N is the number of passwords defined for the user",
            Summary = "Authenticates the connection.", Syntax = "[username] password",
        },
        new("select", 2, Select) { Flags = Conn, Acl = "@fast @connection", Summary = "Changes the selected database.", Complexity = "O(1)", Syntax = "index" },
        new("quit", -1, Quit)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript | CommandFlags.AllowBusy | CommandFlags.TransactionControl | CommandFlags.SubscriberContext,
            Acl = "@fast @connection", Summary = "Closes the connection.", Complexity = "O(1)",
        },
        new("reset", 1, Reset)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript | CommandFlags.AllowBusy | CommandFlags.TransactionControl | CommandFlags.SubscriberContext,
            Acl = "@fast @connection", Since = "6.2.0", Summary = "Resets the connection.", Complexity = "O(1)",
        },
        new("client", -2, null)
        {
            Acl = "@slow", Summary = "A container for client connection commands.", Since = "2.4.0", Complexity = "Depends on subcommand.",
            Subcommands = ClientSubcommands,
        },
    ];

    private const CommandFlags ClientAdmin = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    private static CommandSpec[] ClientSubcommands =>
    [
        new("client|id", 2, ClientId) { Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "5.0.0", Summary = "Returns the unique client ID of the connection.", Complexity = "O(1)" },
        new("client|info", 2, ClientInfo)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "6.2.0",
            Summary = "Returns information about the connection.", Complexity = "O(1)", Tips = "nondeterministic_output",
        },
        new("client|list", -2, ClientListCommand)
        {
            Flags = ClientAdmin, Acl = "@admin @slow @dangerous @connection", Since = "2.4.0", Summary = "Lists open connections.", Tips = "nondeterministic_output",
            Complexity = "O(N) where N is the number of client connections", Syntax = "[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]",
        },
        new("client|kill", -3, ClientKill)
        {
            Flags = ClientAdmin, Acl = "@admin @slow @dangerous @connection", Since = "2.4.0", Summary = "Terminates open connections.",
            Complexity = "O(N) where N is the number of client connections",
            Syntax = "<ip:port | [ID client-id] [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME <YES | NO>]>",
        },
        new("client|setname", 3, ClientSetName)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "2.6.9",
            Summary = "Sets the connection name.", Complexity = "O(1)", Syntax = "connection-name",
        },
        new("client|getname", 2, ClientGetName)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "2.6.9",
            Summary = "Returns the name of the connection.", Complexity = "O(1)",
        },
        new("client|no-evict", 3, ClientNoEvict)
        {
            Flags = ClientAdmin, Acl = "@admin @slow @dangerous @connection", Since = "7.0.0",
            Summary = "Sets the client eviction mode of the connection.", Complexity = "O(1)", Syntax = "<ON | OFF>",
        },
        new("client|setinfo", 4, ClientSetInfo)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "7.2.0",
            Summary = "Sets information specific to the client or connection.", Complexity = "O(1)", Syntax = "<LIB-NAME libname | LIB-VER libver>",
        },
        new("client|pause", -3, ClientPauseCommand)
        {
            Flags = ClientAdmin, Acl = "@admin @slow @dangerous @connection", Since = "3.0.0",
            Summary = "Suspends commands processing.", Complexity = "O(1)", Syntax = "timeout [WRITE | ALL]",
        },
        new("client|unpause", 2, ClientUnpause)
        {
            Flags = ClientAdmin, Acl = "@admin @slow @dangerous @connection", Since = "6.2.0",
            Summary = "Resumes processing commands from paused clients.", Complexity = "O(N) Where N is the number of paused clients",
        },
        new("client|unblock", -3, ClientUnblock)
        {
            Flags = ClientAdmin, Acl = "@admin @slow @dangerous @connection", Since = "5.0.0",
            Summary = "Unblocks a client blocked by a blocking command from a different connection.",
            Complexity = "O(log N) where N is the number of client connections", Syntax = "client-id [TIMEOUT | ERROR]",
        },
        new("client|reply", 3, ClientReply)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "3.2.0",
            Summary = "Instructs the server whether to reply to commands.", Complexity = "O(1)", Syntax = "<ON | OFF | SKIP>",
        },
        new("client|no-touch", 3, ClientNoTouch)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "7.2.0",
            Summary = "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Complexity = "O(1)", Syntax = "<ON | OFF>",
        },
        .. TrackingSubcommands,
        new("client|help", 2, ClientHelp)
        {
            Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @connection", Since = "5.0.0", Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)",
        },
    ];

    private static void Ping(Session s, ArgList a)
    {
        if (a.Count > 2)
        {
            s.Reply.WriteError(Errors.WrongArgs("ping"));
        }
        else if (s.IsPubSub && s.Reply.Protocol == 2)
        {
            // In RESP2 subscriber mode a reply must look like a message: ["pong", message or ""].
            s.Reply.WriteArrayHeader(2);
            s.Reply.WriteBulk("pong"u8);
            s.Reply.WriteBulk(a.Count == 2 ? a[1] : default);
        }
        else if (a.Count == 2)
        {
            s.Reply.WriteBulk(a[1]);
        }
        else
        {
            s.Reply.WriteRaw("+PONG\r\n"u8);
        }
    }

    private static void Echo(Session s, ArgList a) => s.Reply.WriteBulk(a[1]);

    private static void Hello(Session s, ArgList a)
    {
        int protocol = s.Reply.Protocol;
        if (a.Count >= 2)
        {
            if (!NumberFormat.TryParseInt64(a[1], out long version))
            {
                s.Reply.WriteError("ERR Protocol version is not an integer or out of range");
                return;
            }
            if (version is < 2 or > 3)
            {
                s.Reply.WriteError("NOPROTO unsupported protocol version");
                return;
            }
            protocol = (int)version;
        }
        string? name = null;
        for (int i = 2; i < a.Count; i++)
        {
            bool more = i + 1 < a.Count;
            if (a.Is(i, "AUTH"u8) && i + 2 < a.Count)
            {
                s.Redact(i + 1);
                s.Redact(i + 2);
                if (!CheckPassword(s, a[i + 1], a[i + 2]))
                {
                    return;
                }
                i += 2;
            }
            else if (a.Is(i, "SETNAME"u8) && more)
            {
                name = a.GetString(++i);
                if (!ClientName.IsValid(name))
                {
                    s.Reply.WriteError(ClientName.InvalidError);
                    return;
                }
            }
            else
            {
                s.Reply.WriteError($"ERR Syntax error in HELLO option '{a.GetString(i)}'");
                return;
            }
        }
        if (!s.Authenticated)
        {
            s.Reply.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (name is not null)
        {
            s.Name = name.Length == 0 ? null : name;
        }
        s.Reply.Protocol = protocol;
        var r = s.Reply;
        r.WriteMapHeader(7);
        r.WriteBulk("server"u8);
        r.WriteBulk("redis"u8);
        r.WriteBulk("version"u8);
        r.WriteBulk(ServerInfo.RedisVersion);
        r.WriteBulk("proto"u8);
        r.WriteInteger(protocol);
        r.WriteBulk("id"u8);
        r.WriteInteger(s.Id);
        r.WriteBulk("mode"u8);
        r.WriteBulk("standalone"u8);
        r.WriteBulk("role"u8);
        r.WriteBulk("master"u8);
        r.WriteBulk("modules"u8);
        r.WriteArrayHeader(0);
    }

    private static void Auth(Session s, ArgList a)
    {
        if (a.Count > 3)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        // Redis 7.0 hides the arguments from MONITOR once the form is valid, whatever the outcome.
        s.Redact(1);
        if (a.Count == 3)
        {
            s.Redact(2);
        }
        if (a.Count == 2 && s.Server.Config.RequirePass.Text.Length == 0)
        {
            s.Reply.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        if (CheckPassword(s, a.Count == 3 ? a[1] : "default"u8, a[^1]))
        {
            s.Reply.WriteOk();
        }
    }

    /// <summary>Checks the default user's password; writes WRONGPASS and returns false on a mismatch.</summary>
    private static bool CheckPassword(Session s, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        var expected = Encoding.UTF8.GetBytes(s.Server.Config.RequirePass.Text);
        // With no password set, the default user accepts any password, as in Redis.
        bool ok = Ascii.Equals(user, "default"u8)
            && (expected.Length == 0 || System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(password, expected));
        if (!ok)
        {
            s.Reply.WriteError("WRONGPASS invalid username-password pair or user is disabled.");
            return false;
        }
        s.Authenticated = true;
        return true;
    }

    private static void Select(Session s, ArgList a)
    {
        if (s.Server.Cluster is not null)
        {
            // As Redis: the number is read first, then cluster mode allows database 0 only.
            if (!NumberFormat.TryParseInt64(a[1], out long id) || id is < int.MinValue or > int.MaxValue)
            {
                s.Reply.WriteError(Errors.NotInteger);
                return;
            }
            if (id != 0)
            {
                s.Reply.WriteError("ERR SELECT is not allowed in cluster mode");
                return;
            }
        }
        if (DatabaseCommands.TryGetDatabase(s, a[1], out var db))
        {
            s.Db = db;
            s.Reply.WriteOk();
        }
    }

    private static void Quit(Session s, ArgList a)
    {
        s.Reply.WriteOk();
        s.CloseAfterReply = true;
    }

    /// <summary>
    /// Back to a fresh connection's state: no transaction and no watched keys, RESP2, database 0, no name,
    /// unauthenticated if a password is set.
    /// </summary>
    private static void Reset(Session s, ArgList a)
    {
        TransactionCommands.DiscardState(s);
        s.Server.Monitors.Remove(s);
        s.Server.PubSub.UnsubscribeAll(s);
        s.Server.Tracking.Disable(s);
        s.ReplyOff = s.ReplySkip = s.ReplySkipNext = false;
        s.Reply.Muted = false;
        s.NoTouch = false;
        s.Reply.Protocol = 2;
        s.Db = s.Keyspace[0];
        s.Name = null;
        s.NoEvict = false;
        s.Authenticated = s.Server.Config.RequirePass.Text.Length == 0;
        s.Reply.WriteSimple("RESET"u8);
    }

    private static void ClientId(Session s, ArgList a) => s.Reply.WriteInteger(s.Id);

    private static void ClientInfo(Session s, ArgList a) => s.Reply.WriteVerbatim(ClientDescription.Describe(s) + "\n");

    private static void ClientListCommand(Session s, ArgList a)
    {
        HashSet<long>? ids = null;
        string? type = null;
        if (a.Count == 4 && a.Is(2, "TYPE"u8))
        {
            if (!TryParseClientType(s, a, 3, out type))
            {
                return;
            }
        }
        else if (a.Count >= 4 && a.Is(2, "ID"u8))
        {
            ids = [];
            for (int i = 3; i < a.Count; i++)
            {
                if (!NumberFormat.TryParseInt64(a[i], out long id))
                {
                    s.Reply.WriteError("ERR Invalid client ID");
                    return;
                }
                ids.Add(id);
            }
        }
        else if (a.Count != 2)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        var text = new StringBuilder();
        foreach (var client in s.Server.Clients)
        {
            if ((type is not null && TypeOf(client) != type) || (ids is not null && !ids.Contains(client.Id)))
            {
                continue;
            }
            text.Append(ClientDescription.Describe(client)).Append('\n');
        }
        s.Reply.WriteVerbatim(text.ToString());
    }

    /// <summary>Reads a client type name as <see cref="TypeOf"/> names it (slave is replica).</summary>
    private static bool TryParseClientType(Session s, ArgList a, int index, out string? type)
    {
        type = a.Is(index, "NORMAL"u8) ? "normal" : a.Is(index, "MASTER"u8) ? "master" : a.Is(index, "REPLICA"u8) || a.Is(index, "SLAVE"u8) ? "replica"
            : a.Is(index, "PUBSUB"u8) ? "pubsub" : null;
        if (type is not null)
        {
            return true;
        }
        s.Reply.WriteError($"ERR Unknown client type '{a.GetString(index)}'");
        return false;
    }

    /// <summary>Redis's getClientType: the master's link, a replica (not a monitor), a pub/sub subscriber, or normal.</summary>
    private static string TypeOf(Session c) => c.IsMaster ? "master" : c.IsReplica && !c.IsMonitor ? "replica" : c.IsPubSub ? "pubsub" : "normal";

    private static void ClientKill(Session s, ArgList a)
    {
        if (a.Count == 3)
        {
            // The old form: CLIENT KILL ip:port, answering OK or an error.
            string address = a.GetString(2);
            var target = s.Server.Clients.FirstOrDefault(c => c.RemoteAddress == address);
            if (target is null)
            {
                s.Reply.WriteError("ERR No such client");
                return;
            }
            s.Reply.WriteOk();
            Kill(s, target);
            return;
        }
        long? id = null;
        string? type = null;
        string? address2 = null, localAddress = null, user = null;
        bool skipMe = true;
        for (int i = 2; i < a.Count; i += 2)
        {
            if (i + 1 >= a.Count)
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
            if (a.Is(i, "ID"u8))
            {
                if (!NumberFormat.TryParseInt64(a[i + 1], out long parsed) || parsed <= 0)
                {
                    s.Reply.WriteError("ERR client-id should be greater than 0");
                    return;
                }
                id = parsed;
            }
            else if (a.Is(i, "TYPE"u8))
            {
                if (!TryParseClientType(s, a, i + 1, out type))
                {
                    return;
                }
            }
            else if (a.Is(i, "ADDR"u8))
            {
                address2 = a.GetString(i + 1);
            }
            else if (a.Is(i, "LADDR"u8))
            {
                localAddress = a.GetString(i + 1);
            }
            else if (a.Is(i, "USER"u8))
            {
                user = a.GetString(i + 1);
                if (user != "default")
                {
                    s.Reply.WriteError($"ERR No such user '{user}'");
                    return;
                }
            }
            else if (a.Is(i, "SKIPME"u8))
            {
                if (a.Is(i + 1, "YES"u8))
                {
                    skipMe = true;
                }
                else if (a.Is(i + 1, "NO"u8))
                {
                    skipMe = false;
                }
                else
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        var victims = s.Server.Clients.Where(c =>
            (id is null || c.Id == id)
            && (type is null || TypeOf(c) == type)
            && (address2 is null || c.RemoteAddress == address2)
            && (localAddress is null || c.LocalAddress == localAddress)
            && !(skipMe && c == s)).ToList();
        // The master's link is no connection of the listeners: killing it drops the link, which reconnects (as Redis).
        bool master = type == "master" && id is null && address2 is null && localAddress is null && s.Server.Replicator.Link is { IsUp: true };
        s.Reply.WriteInteger(victims.Count + (master ? 1 : 0));
        if (master)
        {
            s.Server.Replicator.Link!.Disconnect();
        }
        foreach (var victim in victims)
        {
            Kill(s, victim);
        }
    }

    /// <summary>Closes a client; the caller itself closes only after its reply is written.</summary>
    private static void Kill(Session s, Session victim)
    {
        if (victim == s)
        {
            s.CloseAfterReply = true;
        }
        else
        {
            s.Server.KillClient(victim.Id);
        }
    }

    private static void ClientSetName(Session s, ArgList a)
    {
        string name = a.GetString(2);
        if (!ClientName.IsValid(name))
        {
            s.Reply.WriteError(ClientName.InvalidError);
            return;
        }
        s.Name = name.Length == 0 ? null : name;
        s.Reply.WriteOk();
    }

    private static void ClientGetName(Session s, ArgList a)
    {
        if (s.Name is null)
        {
            s.Reply.WriteNullBulk();
        }
        else
        {
            s.Reply.WriteBulk(s.Name);
        }
    }

    private static void ClientNoEvict(Session s, ArgList a)
    {
        if (a.Is(2, "ON"u8))
        {
            s.NoEvict = true;
        }
        else if (a.Is(2, "OFF"u8))
        {
            s.NoEvict = false;
        }
        else
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        s.Reply.WriteOk();
    }

    /// <summary>Redis 7.2's CLIENT SETINFO, which clients such as StackExchange.Redis send during their handshake.</summary>
    private static void ClientSetInfo(Session s, ArgList a)
    {
        bool isName = a.Is(2, "LIB-NAME"u8);
        if (!isName && !a.Is(2, "LIB-VER"u8))
        {
            s.Reply.WriteError($"ERR Unrecognized option '{a.GetString(2)}'");
            return;
        }
        string value = a.GetString(3);
        if (!ClientName.IsValid(value))
        {
            s.Reply.WriteError($"ERR {a.GetString(2)} cannot contain spaces, newlines or special characters.");
            return;
        }
        if (isName)
        {
            s.LibName = value.Length == 0 ? null : value;
        }
        else
        {
            s.LibVersion = value.Length == 0 ? null : value;
        }
        s.Reply.WriteOk();
    }

    private static void ClientPauseCommand(Session s, ArgList a)
    {
        if (a.Count > 4)
        {
            s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{a.GetString(1)}'. Try CLIENT HELP.");
            return;
        }
        var kind = PauseKind.All;
        if (a.Count == 4)
        {
            if (a.Is(3, "WRITE"u8))
            {
                kind = PauseKind.Write;
            }
            else if (!a.Is(3, "ALL"u8))
            {
                s.Reply.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        if (!NumberFormat.TryParseInt64(a[2], out long timeout))
        {
            s.Reply.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (timeout < 0)
        {
            s.Reply.WriteError("ERR timeout is negative");
            return;
        }
        s.Server.Pause.Pause(timeout, kind);
        s.Reply.WriteOk();
    }

    private static void ClientUnpause(Session s, ArgList a)
    {
        s.Server.Pause.Unpause();
        s.Reply.WriteOk();
    }

    private static void ClientUnblock(Session s, ArgList a)
    {
        if (a.Count > 4)
        {
            s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{a.GetString(1)}'. Try CLIENT HELP.");
            return;
        }
        if (!s.TryParseLong(a[2], out long id))
        {
            return;
        }
        bool error = false;
        if (a.Count == 4)
        {
            error = a.Is(3, "ERROR"u8);
            if (!error && !a.Is(3, "TIMEOUT"u8))
            {
                s.Reply.WriteError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        bool unblocked = s.Server.FindClient(id) is { } target && s.Server.Blocking.Interrupt(target, error);
        s.Reply.WriteInteger(unblocked ? 1 : 0);
    }

    /// <summary>CLIENT REPLY: the dispatcher mutes the replies; ON answers OK, OFF and SKIP answer nothing.</summary>
    private static void ClientReply(Session s, ArgList a)
    {
        if (a.Is(2, "ON"u8))
        {
            s.ReplyOff = s.ReplySkip = false;
            s.Reply.Muted = false;
            s.Reply.WriteOk();
        }
        else if (a.Is(2, "OFF"u8))
        {
            s.ReplyOff = true;
        }
        else if (a.Is(2, "SKIP"u8))
        {
            s.ReplySkipNext |= !s.ReplyOff;
        }
        else
        {
            s.Reply.WriteError(Errors.Syntax);
        }
    }

    private static void ClientNoTouch(Session s, ArgList a)
    {
        if (a.Is(2, "ON"u8))
        {
            s.NoTouch = true;
        }
        else if (a.Is(2, "OFF"u8))
        {
            s.NoTouch = false;
        }
        else
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        s.Reply.WriteOk();
    }

    private static void ClientHelp(Session s, ArgList a) => HelpReply.Write(s, "CLIENT",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.");
}

/// <summary>CLIENT LIST and CLIENT INFO lines, with Redis 7.0's fields in order and 7.2's lib-name and lib-ver at the end.</summary>
internal static class ClientDescription
{
    /// <summary>One client's line, without the trailing newline.</summary>
    public static string Describe(Session c)
    {
        long now = Environment.TickCount64;
        var flags = new StringBuilder();
        if (c.IsMonitor)
        {
            flags.Append('O');
        }
        else if (c.IsReplica)
        {
            flags.Append('S');
        }
        if (c.IsPubSub)
        {
            flags.Append('P');
        }
        if (c.Multi is not null)
        {
            flags.Append('x');
        }
        if (c.IsBlocked)
        {
            flags.Append('b');
        }
        if (c.Tracking is { } tracking)
        {
            flags.Append('t');
            if (tracking.BrokenRedirect)
            {
                flags.Append('R');
            }
            if (tracking.Broadcast)
            {
                flags.Append('B');
            }
        }
        if (c.CloseAfterReply)
        {
            flags.Append('c');
        }
        if (c.Outbound.Closing)
        {
            flags.Append('A');
        }
        if (c.NoEvict)
        {
            flags.Append('e');
        }
        if (c.NoTouch)
        {
            flags.Append('T');
        }
        if (flags.Length == 0)
        {
            flags.Append('N');
        }
        // Replies go straight into the connection's pipe, so omem and oll count what waits in the outbound queue
        // (pushes, monitor lines) and tot-mem adds the unparsed input; obl (Redis's static reply buffer) stays 0.
        long omem = c.Outbound.PendingBytes;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"id={c.Id} addr={c.RemoteAddress} laddr={c.LocalAddress} fd={c.Fd} name={c.Name} age={(now - c.CreatedMs) / 1000} idle={(now - c.LastInteractionMs) / 1000} "
            + $"flags={flags} db={c.Db.Id} sub={c.Subscriptions?.Channels.Count ?? 0} psub={c.Subscriptions?.Patterns.Count ?? 0} ssub={c.Subscriptions?.ShardChannels.Count ?? 0} multi={c.Multi?.Commands.Count ?? -1} qbuf={c.QueryBufferBytes} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll={c.Outbound.PendingMessages} omem={omem} tot-mem={omem + c.QueryBufferBytes} "
            + $"events=r cmd={c.LastCommand?.Name ?? "NULL"} user=default redir={c.Tracking?.Redirect ?? -1} resp={c.Reply.Protocol} lib-name={c.LibName} lib-ver={c.LibVersion}");
    }
}

/// <summary>Rules for CLIENT SETNAME and HELLO SETNAME names.</summary>
internal static class ClientName
{
    public const string InvalidError = "ERR Client names cannot contain spaces, newlines or special characters.";

    /// <summary>Printable ASCII without spaces, as Redis requires.</summary>
    public static bool IsValid(string name) => name.All(c => c > ' ' && c <= '~');
}
