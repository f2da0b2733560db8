using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The connection family: PING, ECHO, HELLO, AUTH, SELECT, QUIT and friends.</summary>
internal static class ConnectionCommands
{
    private const CommandFlags Conn = CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandSpec> All =>
    [
        new("ping", -1, Ping) { Flags = Conn, Acl = "@fast @connection", Summary = "Returns the server's liveliness response.", Complexity = "O(1)", Syntax = "[message]" },
        new("echo", 2, Echo) { Flags = Conn, Acl = "@fast @connection", Summary = "Returns the given string.", Complexity = "O(1)", Syntax = "message" },
        new("hello", -1, Hello)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript, Acl = "@fast @connection", Since = "6.0.0", Complexity = "O(1)",
            Summary = "Handshakes with the Redis server.", Syntax = "[protover [AUTH username password] [SETNAME clientname]]",
        },
        new("auth", -2, Auth)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript, Acl = "@fast @connection", Complexity = "O(N) where N is the number of passwords defined for the user",
            Summary = "Authenticates the connection.", Syntax = "[username] password",
        },
        new("select", 2, Select) { Flags = Conn, Acl = "@fast @connection", Summary = "Changes the selected database.", Complexity = "O(1)", Syntax = "index" },
        new("quit", -1, Quit)
        {
            Flags = Conn | CommandFlags.NoAuth | CommandFlags.NoScript | CommandFlags.NoMulti, Acl = "@fast @connection",
            Summary = "Closes the connection.", Complexity = "O(1)",
        },
    ];

    private static void Ping(Session s, ArgList a)
    {
        if (a.Count > 2)
        {
            s.Reply.WriteError(Errors.WrongArgs("ping"));
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
        if (!s.TryParseLong(a[1], out long index))
        {
            return;
        }
        if (index < 0 || index >= s.Keyspace.DatabaseCount)
        {
            s.Reply.WriteError(Errors.DbIndexOutOfRange);
            return;
        }
        s.Db = s.Keyspace[(int)index];
        s.Reply.WriteOk();
    }

    private static void Quit(Session s, ArgList a)
    {
        s.Reply.WriteOk();
        s.CloseAfterReply = true;
    }
}

/// <summary>Rules for CLIENT SETNAME and HELLO SETNAME names.</summary>
internal static class ClientName
{
    public const string InvalidError = "ERR Client names cannot contain spaces, newlines or special characters.";

    /// <summary>Printable ASCII without spaces, as Redis requires.</summary>
    public static bool IsValid(string name) => name.All(c => c > ' ' && c <= '~');
}
