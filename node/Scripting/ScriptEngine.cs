using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Scripting;

/// <summary>
/// The node's Lua 5.1 interpreter, as Redis's: one state for every script, compiled bodies kept by SHA1 until SCRIPT
/// FLUSH, redis.call running commands through the dispatcher as a client of its own, and the state of the script
/// running now (BUSY past busy-reply-threshold, SCRIPT KILL). Used under the keyspace lock, except the few members
/// other connections read while a script runs (<see cref="IsBusy"/>, <see cref="RequestKill"/>).
/// </summary>
public sealed unsafe class ScriptEngine
{
    private const string GlobalsKey = "cacheop.globals";
    private const string HandlerKey = "cacheop.handler";
    private const string RunKey = "cacheop.run";

    [ThreadStatic]
    private static ScriptEngine? t_running;

    private readonly NodeServer _server;
    private readonly Dictionary<string, ScriptBody> _scripts = new(StringComparer.Ordinal);
    private readonly ReplyBuffer _clientReplies = new();
    private nint _lua;
    // Functions live in an interpreter of their own, as Redis's function engine: SCRIPT FLUSH does not touch them.
    private nint _functionsLua;
    private long _functionKeys;
    private Session? _client;

    // The script running now; written by its thread, read by others (BUSY, SCRIPT KILL).
    private volatile bool _running;
    private volatile bool _busy;
    private volatile bool _killed;
    private volatile bool _wrote;
    private long _startedTicks;
    private Session? _caller;
    private bool _readOnly;
    private ScriptFlags _flags;
    private int _resp;
    private int _slot;
    private ulong _rand48;
    private volatile string? _runningFunction;
    // The caller's command as parsed: its batch stays untouched while the caller waits for the script, so no copy is needed.
    private ArgList _callerArgs;
    private long _loadStartedTicks;
    private long _loadTimeoutMs;

    internal ScriptEngine(NodeServer server) => _server = server;

    /// <summary>The scripts SCRIPT LOAD or EVAL compiled, by lower-case SHA1.</summary>
    public int Count => _scripts.Count;

    /// <summary>Bytes of the cached scripts' bodies with their entries (INFO used_memory_scripts_eval).</summary>
    public long BodyBytes { get; private set; }

    /// <summary>Bytes the interpreter holds (INFO used_memory_lua).</summary>
    public long MemoryBytes => _lua == 0 ? 32 * 1024 : Lua51.Gc(_lua, Lua51.GcCount, 0) * 1024L;

    /// <summary>True while a script runs past busy-reply-threshold: other clients get -BUSY (read without the lock).</summary>
    public bool IsBusy => _busy;

    /// <summary>True while a script runs (read without the lock).</summary>
    public bool IsRunning => _running;

    /// <summary>Called by busy connections each time they look: marks the script busy once past the threshold.</summary>
    internal bool CheckBusy()
    {
        if (!_running)
        {
            return false;
        }
        if (!_busy)
        {
            long threshold = _server.Config.BusyReplyThreshold.Number;
            if (threshold > 0 && Stopwatch.GetElapsedTime(Interlocked.Read(ref _startedTicks)).TotalMilliseconds >= threshold)
            {
                _busy = true;
            }
        }
        return _busy;
    }

    /// <summary>
    /// SCRIPT KILL (<paramref name="function"/> false) or FUNCTION KILL from another client while a script is busy:
    /// the reply Redis's scriptKill gives, null when the script will stop.
    /// </summary>
    public string? RequestKill(bool function = false)
    {
        if (!_busy)
        {
            return "NOTBUSY No scripts in execution right now.";
        }
        if (_wrote)
        {
            return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
        }
        if (function != (_runningFunction is not null))
        {
            return BusyError;
        }
        _killed = true;
        return null;
    }

    /// <summary>The -BUSY other clients get, which names the KILL that applies (Redis's slowevalerr, slowscripterr).</summary>
    public string BusyError => _runningFunction is null
        ? "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        : "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

    /// <summary>The function running now (FUNCTION STATS), null for none or for an EVAL script.</summary>
    public string? RunningFunction => _running ? _runningFunction : null;

    /// <summary>The command that runs the function running now (FUNCTION STATS); empty when none runs.</summary>
    public ArgList RunningCommand => _callerArgs;

    /// <summary>Milliseconds the running script has run.</summary>
    public long RunningMilliseconds => (long)Stopwatch.GetElapsedTime(Interlocked.Read(ref _startedTicks)).TotalMilliseconds;

    /// <summary>SHUTDOWN NOSAVE while busy: the script stops at its next hook, writes or not.</summary>
    internal void Abort() => _killed = true;

    /// <summary>SHA1 of a body, lower-case hex.</summary>
    public static string Sha1Hex(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA1.HashData(body));

    /// <summary>True when <paramref name="sha"/> (any case) names a compiled script.</summary>
    public bool Exists(ReadOnlySpan<byte> sha) => sha.Length == 40 && _scripts.ContainsKey(Encoding.ASCII.GetString(sha).ToLowerInvariant());

    /// <summary>Forgets every script (SCRIPT FLUSH): a new interpreter, as Redis's scriptingReset.</summary>
    public void Flush()
    {
        _scripts.Clear();
        BodyBytes = 0;
        if (_lua != 0)
        {
            Lua51.Close(_lua);
            _lua = 0;
        }
    }

    /// <summary>
    /// Compiles <paramref name="body"/> unless known (SCRIPT LOAD, EVAL); returns its SHA1, or null after writing the
    /// error to <paramref name="reply"/>.
    /// </summary>
    public string? Load(ReadOnlySpan<byte> body, ReplyWriter reply)
    {
        string sha = Sha1Hex(body);
        if (_scripts.ContainsKey(sha))
        {
            return sha;
        }
        if (!ScriptFlags.TryParse(body, out var flags, out int shebangLength, out string? shebangError))
        {
            reply.WriteError(shebangError!);
            return null;
        }
        if (!EnsureState(reply))
        {
            return null;
        }
        var l = _lua;
        // The shebang line is left out of the compiled code, as Redis does.
        if (Lua51.Load(l, body[shebangLength..], "@user_script") != 0)
        {
            string message = Encoding.UTF8.GetString(Lua51.ToBytes(l, -1));
            Lua51.Pop(l, 1);
            reply.WriteError($"ERR Error compiling script (new function): {message}");
            return null;
        }
        Lua51.RawSetField(l, Lua51.RegistryIndex, "f_" + sha);
        _scripts[sha] = new ScriptBody(body.ToArray(), flags);
        BodyBytes += body.Length + 104;
        return sha;
    }

    /// <summary>The flags of the compiled script <paramref name="sha"/> (any case), false when there is none.</summary>
    public bool TryGetFlags(ReadOnlySpan<byte> sha, out ScriptFlags flags)
    {
        flags = default;
        if (sha.Length != 40 || !_scripts.TryGetValue(Encoding.ASCII.GetString(sha).ToLowerInvariant(), out var script))
        {
            return false;
        }
        flags = script.Flags;
        return true;
    }

    /// <summary>The flags of a compiled script.</summary>
    public ScriptFlags FlagsOf(string sha) => _scripts[sha].Flags;

    /// <summary>
    /// Runs the compiled script <paramref name="sha"/> for <paramref name="caller"/> with KEYS and ARGV from
    /// <paramref name="args"/> and writes its reply (EVAL, EVALSHA and their _RO forms, after the caller's checks).
    /// </summary>
    public void Run(Session caller, string sha, ArgList args, int firstKey, int keyCount, bool readOnlyCommand, int declaredSlot)
    {
        var script = _scripts[sha];
        Execute(_lua, caller, Encoding.ASCII.GetBytes("f_" + sha), null, sha, script.Flags, args, firstKey, keyCount, readOnlyCommand, declaredSlot);
    }

    /// <summary>
    /// Runs the function registered under <paramref name="registryKey"/> as <paramref name="name"/> for
    /// <paramref name="caller"/>, with its keys and arguments as its two parameters (FCALL, FCALL_RO, after the checks).
    /// </summary>
    public void RunFunction(Session caller, string registryKey, string name, ScriptFlag flags, ArgList args, int firstKey, int keyCount, bool readOnlyCommand, int declaredSlot) =>
        Execute(_functionsLua, caller, Encoding.ASCII.GetBytes(registryKey), name, name, new ScriptFlags(true, flags), args, firstKey, keyCount, readOnlyCommand, declaredSlot);

    /// <summary>The one way scripts and functions run: the caller's state, the busy/kill bookkeeping, the reply or error.</summary>
    private void Execute(nint l, Session caller, byte[] registryKey, string? function, string errorName, ScriptFlags flags, ArgList args, int firstKey, int keyCount, bool readOnlyCommand, int declaredSlot)
    {
        var client = _client!;
        client.Db = caller.Db;
        client.Reply.Protocol = 2;
        client.Asking = caller.Asking;
        client.ReadOnlyReplica = caller.ReadOnlyReplica;
        _caller = caller;
        _flags = flags;
        _readOnly = readOnlyCommand || (flags.Declared && (flags.Value & ScriptFlag.NoWrites) != 0);
        _resp = 2;
        _slot = declaredSlot;
        _wrote = false;
        _killed = false;
        _busy = false;
        _runningFunction = function;
        _callerArgs = function is null ? default : args;
        Interlocked.Exchange(ref _startedTicks, Stopwatch.GetTimestamp());
        _server.Propagator.ScriptReplication = 3;
        var previous = t_running;
        t_running = this;
        _running = true;
        int top = Lua51.GetTop(l);
        try
        {
            Lua51.CheckStack(l, 8);
            Lua51.RawGetField(l, Lua51.RegistryIndex, "cacheop.handler"u8);
            int handler = Lua51.GetTop(l);
            Lua51.RawGetField(l, Lua51.RegistryIndex, "cacheop.run"u8);
            Lua51.RawGetField(l, Lua51.RegistryIndex, registryKey);
            int status;
            if (function is null)
            {
                Lua51.RawGetField(l, Lua51.RegistryIndex, "cacheop.globals"u8);
                int globals = Lua51.GetTop(l);
                PushArray(l, args, firstKey, keyCount);
                Lua51.RawSetField(l, globals, "KEYS");
                PushArray(l, args, firstKey + keyCount, args.Count - firstKey - keyCount);
                Lua51.RawSetField(l, globals, "ARGV");
                Lua51.Pop(l, 1);
                status = Lua51.PCall(l, 1, 1, handler);
            }
            else
            {
                PushArray(l, args, firstKey, keyCount);
                PushArray(l, args, firstKey + keyCount, args.Count - firstKey - keyCount);
                status = Lua51.PCall(l, 3, 1, handler);
            }
            if (status != 0)
            {
                WriteError(caller.Reply, l, errorName, function ?? "f_" + errorName);
            }
            else
            {
                LuaReplies.Write(caller.Reply, l, _resp, caller.Reply.Protocol);
            }
        }
        finally
        {
            Lua51.SetTop(l, top);
            _running = false;
            _busy = false;
            _killed = false;
            _runningFunction = null;
            _callerArgs = default;
            t_running = previous;
            _caller = null;
            _server.Propagator.ScriptReplication = 3;
        }
        // Redis's LUA_GC_CYCLE_PERIOD: a small incremental step now and then instead of a full cycle at random.
        if (++_gcCount == 50)
        {
            _gcCount = 0;
            Lua51.Gc(l, Lua51.GcStep, 50);
        }
    }

    private int _gcCount;

    /// <summary>An error the script raised, as Redis 7.0 formats it: the message, then where (the script's SHA1 or the function's name).</summary>
    private static void WriteError(ReplyWriter reply, nint l, string sha, string runName)
    {
        int error = Lua51.GetTop(l);
        if (Lua51.Type(l, error) != Lua51.TypeTable)
        {
            string text = Lua51.Type(l, error) is Lua51.TypeString or Lua51.TypeNumber ? Encoding.UTF8.GetString(Lua51.ToBytes(l, error)) : "execution failure";
            reply.WriteError($"ERR Error running script {runName}, {(text.Length > 100 ? text[..100] : text)}");
            return;
        }
        string? message = FieldText(l, error, "err"u8);
        string? source = FieldText(l, error, "source"u8);
        string? line = FieldText(l, error, "line"u8);
        var text2 = new StringBuilder(message ?? "(null)");
        if (source is not null && line is not null)
        {
            text2.Append(" script: ").Append(sha).Append(", on ").Append(source).Append(':').Append(line).Append('.');
        }
        LuaReplies.WriteErrorText(reply, text2.ToString());
    }

    private static string? FieldText(nint l, int table, ReadOnlySpan<byte> key)
    {
        int type = Lua51.RawGetField(l, table, key);
        string? text = type is Lua51.TypeString or Lua51.TypeNumber ? Encoding.UTF8.GetString(Lua51.ToBytes(l, -1)) : null;
        Lua51.Pop(l, 1);
        return text;
    }

    private static void PushArray(nint l, ArgList args, int start, int count)
    {
        Lua51.CreateTable(l, count, 0);
        for (int i = 0; i < count; i++)
        {
            Lua51.PushBytes(l, args[start + i]);
            Lua51.RawSetI(l, -2, i + 1);
        }
    }

    /// <summary>Starts the interpreter on first use (and after SCRIPT FLUSH); false after writing why it cannot.</summary>
    private bool EnsureState(ReplyWriter reply)
    {
        if (EnsureState(ref _lua) is { } error)
        {
            reply.WriteError(error);
            return false;
        }
        return true;
    }

    /// <summary>Starts <paramref name="state"/> unless running; null, or the error text when Lua is missing.</summary>
    private string? EnsureState(ref nint state)
    {
        if (state != 0)
        {
            return null;
        }
        try
        {
            state = LuaState.Create();
            if (_rand48 == 0)
            {
                // Redis 7 seeds math.random once, not before each script: the sequence goes on across scripts.
                Srand48(Random.Shared.Next());
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            _server.Log.Warning($"Lua scripting is unavailable: {e.Message}");
            return "ERR Lua scripting is unavailable on this node (liblua5.1 not found)";
        }
        if (_client is null)
        {
            // "lua" is what MONITOR shows for scripts' commands, as Redis.
            _client = new Session(_server, -1, new ReplyWriter(_clientReplies), "lua", "lua")
            {
                Authenticated = true,
                DenyBlocking = true,
                IsScript = true,
            };
        }
        return null;
    }

    // ---- Function libraries (FUNCTION LOAD), in the functions' interpreter ----

    /// <summary>
    /// Compiles and runs a library's code (without its shebang line, which stays a blank line so that line numbers are
    /// the user's) with Redis's load-time API; on success each registered function is kept in the registry under a
    /// key of its own. <paramref name="timeoutMs"/> 0 lets the code run as long as it takes (a master's stream).
    /// </summary>
    public List<RegisteredFunction>? CompileLibrary(ReadOnlySpan<byte> code, long timeoutMs, out string? error)
    {
        if (EnsureState(ref _functionsLua) is { } unavailable)
        {
            error = unavailable;
            return null;
        }
        var l = _functionsLua;
        int top = Lua51.GetTop(l);
        var previous = t_running;
        try
        {
            Lua51.CheckStack(l, 8);
            Lua51.RawGetField(l, Lua51.RegistryIndex, "cacheop.load"u8);
            if (Lua51.Load(l, code, "@user_function") != 0)
            {
                error = $"ERR Error compiling function: {Encoding.UTF8.GetString(Lua51.ToBytes(l, -1))}";
                return null;
            }
            t_running = this;
            _loadTimeoutMs = timeoutMs;
            Interlocked.Exchange(ref _loadStartedTicks, Stopwatch.GetTimestamp());
            if (Lua51.PCall(l, 1, 2, 0) != 0 || Lua51.ToBoolean(l, -2) == 0)
            {
                string message = Lua51.Type(l, -1) is Lua51.TypeString ? Encoding.UTF8.GetString(Lua51.ToBytes(l, -1)) : "ERR execution failure";
                error = $"ERR Error registering functions: {message}";
                return null;
            }
            int list = Lua51.GetTop(l);
            int count = (int)Lua51.ObjLen(l, list);
            var functions = new List<RegisteredFunction>(count);
            for (int i = 1; i <= count; i++)
            {
                Lua51.RawGetI(l, list, i);
                int entry = Lua51.GetTop(l);
                Lua51.RawGetI(l, entry, 1);
                string name = Encoding.UTF8.GetString(Lua51.ToBytes(l, -1));
                Lua51.RawGetI(l, entry, 3);
                var flags = (ScriptFlag)(int)Lua51.ToNumber(l, -1);
                Lua51.RawGetI(l, entry, 4);
                byte[]? description = Lua51.Type(l, -1) == Lua51.TypeNil ? null : Lua51.ToBytes(l, -1).ToArray();
                string key = "fn_" + (++_functionKeys).ToString(CultureInfo.InvariantCulture);
                Lua51.RawGetI(l, entry, 2);
                Lua51.RawSetField(l, Lua51.RegistryIndex, key);
                functions.Add(new RegisteredFunction(name, description, flags, key));
                Lua51.SetTop(l, list);
            }
            error = null;
            return functions;
        }
        finally
        {
            t_running = previous;
            Lua51.SetTop(l, top);
        }
    }

    /// <summary>Drops a function's compiled code (its library was deleted or replaced, or a load failed after it).</summary>
    public void ReleaseFunction(string registryKey)
    {
        if (_functionsLua != 0)
        {
            Lua51.PushNil(_functionsLua);
            Lua51.RawSetField(_functionsLua, Lua51.RegistryIndex, registryKey);
        }
    }

    /// <summary>FUNCTION FLUSH: a new functions interpreter, as Redis's functionsLibCtxClearCurrent.</summary>
    public void ResetFunctions()
    {
        if (_functionsLua != 0)
        {
            Lua51.Close(_functionsLua);
            _functionsLua = 0;
        }
    }

    /// <summary>Bytes the functions' interpreter holds (INFO used_memory_vm_functions).</summary>
    public long FunctionsMemoryBytes => _functionsLua == 0 ? 32 * 1024 : Lua51.Gc(_functionsLua, Lua51.GcCount, 0) * 1024L;

    // ---- Native functions called from Lua (never raising: see Lua51) ----

    /// <summary>redis.call / redis.pcall: returns the reply as a Lua value and true when it is an error table.</summary>
    private int Call(nint l)
    {
        int argc = Lua51.GetTop(l);
        if (argc == 0)
        {
            return PushError(l, "Please specify at least one argument for this redis lib call");
        }
        var argv = new byte[argc][];
        Span<byte> number = stackalloc byte[40];
        for (int i = 0; i < argc; i++)
        {
            int type = Lua51.Type(l, i + 1);
            if (type == Lua51.TypeNumber)
            {
                int n = NumberFormat.FormatDoubleG17(Lua51.ToNumber(l, i + 1), number);
                argv[i] = number[..n].ToArray();
            }
            else if (type == Lua51.TypeString)
            {
                argv[i] = Lua51.ToBytes(l, i + 1).ToArray();
            }
            else
            {
                Lua51.SetTop(l, 0);
                return PushError(l, "Lua redis lib command arguments must be strings or integers");
            }
        }
        Lua51.SetTop(l, 0);
        var args = new ArgList(argv);
        var spec = _server.Commands.Find(argv[0]);
        if (spec is not null && spec.Subcommands.Count > 0 && argc >= 2)
        {
            spec = CommandTable.FindSubcommand(spec, argv[1]);
        }
        if (spec is null)
        {
            return PushError(l, "Unknown Redis command called from script");
        }
        if (spec.Arity > 0 ? argc != spec.Arity : argc < -spec.Arity)
        {
            return PushError(l, "Wrong number of args calling Redis command from script");
        }
        if ((spec.Flags & CommandFlags.NoScript) != 0)
        {
            return PushError(l, "This Redis command is not allowed from script");
        }
        bool write = (spec.Flags & CommandFlags.Write) != 0;
        if (write && _readOnly)
        {
            return PushError(l, "Write commands are not allowed from read-only scripts.");
        }
        if (write && !_wrote && !_caller!.IsMaster)
        {
            if (_server.Replicator.Link is not null && _server.Config.ReplicaReadOnly.IsOn)
            {
                return PushError(l, "-READONLY You can't write against a read only replica.");
            }
            if (_server.Replicator.TooFewReplicas)
            {
                return PushError(l, "-NOREPLICAS Not enough good replicas to write.");
            }
        }
        if (_server.Cluster is { } cluster && !_caller!.IsMaster && KeyExtractor.HasKeys(spec)
            && ScriptCluster.Check(cluster, _client!, spec, args, ref _slot, _flags) is { } clusterError)
        {
            return PushError(l, clusterError);
        }
        if (write)
        {
            _wrote = true;
        }
        _client!.Reply.Protocol = _resp;
        _clientReplies.Reset();
        CommandDispatcher.Execute(_client, args);
        var reply = _clientReplies.Written;
        LuaReplies.Push(l, reply);
        Lua51.PushBoolean(l, reply.Length > 0 && reply[0] == (byte)'-' ? 1 : 0);
        return 2;
    }

    /// <summary>Pushes Redis's error table for <paramref name="message"/> (luaPushError: "-CODE text" or "text" for ERR) and the failure flag.</summary>
    private static int PushError(nint l, string message)
    {
        LuaReplies.PushErrorTable(l, message.StartsWith('-') ? message[1..] : "ERR " + message);
        Lua51.PushBoolean(l, 1);
        return 2;
    }

    /// <summary>The count hook: notes BUSY, serves other clients' I/O while busy on the network thread, says whether SCRIPT KILL came.</summary>
    private int Check(nint l)
    {
        if (CheckBusy())
        {
            _server.ServeWhileBusy();
        }
        Lua51.PushBoolean(l, _killed ? 1 : 0);
        return 1;
    }

    private void Srand48(int seed) => _rand48 = ((ulong)(uint)seed << 16) | 0x330E;

    /// <summary>Redis's redisLrand48 (a 48-bit LCG, 31 bits out) scaled to [0, 1) as its math.random does.</summary>
    private double Rand48()
    {
        _rand48 = ((0x5DEECE66DUL * _rand48) + 0xB) & ((1UL << 48) - 1);
        int r = (int)(_rand48 >> 17);
        return (double)(r % int.MaxValue) / int.MaxValue;
    }

    [UnmanagedCallersOnly]
    private static int NativeCall(nint l)
    {
        try
        {
            return t_running is { } engine ? engine.Call(l) : PushError(l, "redis.call/pcall can only be called inside a script invocation");
        }
        catch (Exception e)
        {
            Lua51.SetTop(l, 0);
            return PushError(l, $"internal error: {e.GetType().Name}");
        }
    }

    /// <summary>The FUNCTION LOAD hook: true once the library's code has run past its time limit.</summary>
    [UnmanagedCallersOnly]
    private static int NativeLoadCheck(nint l)
    {
        bool over = t_running is { } engine && engine._loadTimeoutMs > 0
            && Stopwatch.GetElapsedTime(Interlocked.Read(ref engine._loadStartedTicks)).TotalMilliseconds > engine._loadTimeoutMs;
        Lua51.PushBoolean(l, over ? 1 : 0);
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int NativeCheck(nint l)
    {
        try
        {
            if (t_running is { } engine)
            {
                return engine.Check(l);
            }
        }
        catch (Exception)
        {
            // A failure to serve others must not stop the script.
        }
        Lua51.PushBoolean(l, 0);
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int NativeSha1Hex(nint l)
    {
        try
        {
            var bytes = Lua51.Type(l, 1) is Lua51.TypeString or Lua51.TypeNumber ? Lua51.ToBytes(l, 1) : default;
            Lua51.PushString(l, Sha1Hex(bytes));
        }
        catch (Exception)
        {
            Lua51.PushNil(l);
        }
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int NativeLog(nint l)
    {
        try
        {
            if (t_running is { } engine)
            {
                var level = (LogLevel)(int)Lua51.ToNumber(l, 1);
                if (level >= engine._server.Log.MinimumLevel)
                {
                    engine._server.Log.Write(level, Encoding.UTF8.GetString(Lua51.ToBytes(l, 2)));
                }
            }
        }
        catch (Exception)
        {
            // Logging never fails a script.
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int NativeSetResp(nint l)
    {
        if (t_running is { } engine)
        {
            engine._resp = (int)Lua51.ToNumber(l, 1);
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int NativeSetRepl(nint l)
    {
        if (t_running is { } engine)
        {
            engine._server.Propagator.ScriptReplication = (int)Lua51.ToNumber(l, 1);
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int NativeAclCheck(nint l)
    {
        try
        {
            int argc = Lua51.GetTop(l);
            if (argc == 0)
            {
                LuaReplies.PushErrorTable(l, "ERR Please specify at least one argument for this redis lib call");
                return 1;
            }
            var name = Lua51.Type(l, 1) == Lua51.TypeString ? Lua51.ToBytes(l, 1).ToArray() : [];
            var spec = t_running?._server.Commands.Find(name);
            if (spec is not null && spec.Subcommands.Count > 0 && argc >= 2 && Lua51.Type(l, 2) == Lua51.TypeString)
            {
                spec = CommandTable.FindSubcommand(spec, Lua51.ToBytes(l, 2));
            }
            if (spec is null)
            {
                LuaReplies.PushErrorTable(l, "ERR Invalid command passed to redis.acl_check_cmd()");
                return 1;
            }
            Lua51.PushBoolean(l, 1);
        }
        catch (Exception)
        {
            Lua51.PushBoolean(l, 0);
        }
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int NativeRand48(nint l)
    {
        Lua51.PushNumber(l, t_running?.Rand48() ?? 0);
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int NativeSrand48(nint l)
    {
        t_running?.Srand48((int)Lua51.ToNumber(l, 1));
        return 0;
    }

    /// <summary>The first upvalue of a C closure (the coroutine of a raising function), which Lua's debug library cannot read.</summary>
    [UnmanagedCallersOnly]
    private static int NativeGetUpvalue(nint l)
    {
        if (Lua51.Type(l, 1) != Lua51.TypeFunction || Lua51.GetUpvalue(l, 1, 1) == null)
        {
            Lua51.PushNil(l);
        }
        return 1;
    }

    /// <summary>Sets the first upvalue of a C closure to the second argument.</summary>
    [UnmanagedCallersOnly]
    private static int NativeSetUpvalue(nint l)
    {
        if (Lua51.Type(l, 1) == Lua51.TypeFunction)
        {
            Lua51.SetTop(l, 2);
            Lua51.SetUpvalue(l, 1, 1);
        }
        return 0;
    }

    /// <summary>The native functions handed to the prelude, by name.</summary>
    internal static IEnumerable<(string Name, nint Function)> NativeFunctions =>
    [
        ("call", (nint)(delegate* unmanaged<nint, int>)&NativeCall),
        ("check", (nint)(delegate* unmanaged<nint, int>)&NativeCheck),
        ("load_check", (nint)(delegate* unmanaged<nint, int>)&NativeLoadCheck),
        ("sha1hex", (nint)(delegate* unmanaged<nint, int>)&NativeSha1Hex),
        ("log", (nint)(delegate* unmanaged<nint, int>)&NativeLog),
        ("setresp", (nint)(delegate* unmanaged<nint, int>)&NativeSetResp),
        ("set_repl", (nint)(delegate* unmanaged<nint, int>)&NativeSetRepl),
        ("acl_check", (nint)(delegate* unmanaged<nint, int>)&NativeAclCheck),
        ("rand48", (nint)(delegate* unmanaged<nint, int>)&NativeRand48),
        ("srand48", (nint)(delegate* unmanaged<nint, int>)&NativeSrand48),
        ("getupvalue", (nint)(delegate* unmanaged<nint, int>)&NativeGetUpvalue),
        ("setupvalue", (nint)(delegate* unmanaged<nint, int>)&NativeSetUpvalue),
    ];

    private sealed record ScriptBody(byte[] Body, ScriptFlags Flags);
}

/// <summary>A function a library's code registered: its name, description, flags, and where its code is kept.</summary>
public sealed record RegisteredFunction(string Name, byte[]? Description, ScriptFlag Flags, string RegistryKey);
