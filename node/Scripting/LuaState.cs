using System.Runtime.InteropServices;

namespace CacheOperator.Node.Scripting;

/// <summary>
/// Builds the interpreter as Redis 7.0's scriptingInit does: base, table, string, math and debug, then cjson and bit
/// (Debian's lua-cjson and lua-bitop modules, the libraries Redis vendors), struct and cmsgpack (ours, in Lua), and
/// the prelude that adds the redis table and locks the sandbox.
/// </summary>
internal static unsafe partial class LuaState
{
    private const int RtldNow = 2;
    private const int RtldGlobal = 0x100;

    private static readonly Lazy<(nint Cjson, nint Bit)> Modules = new(LoadModules);

    /// <summary>A new state ready to run scripts; throws when liblua5.1 or a module is missing.</summary>
    public static nint Create()
    {
        var (cjson, bit) = Modules.Value;
        nint l = Lua51.NewState();
        if (l == 0)
        {
            throw new InvalidOperationException("luaL_newstate failed");
        }
        try
        {
            OpenLibrary(l, "", Lua51.LibraryFunction("luaopen_base"));
            OpenLibrary(l, "table", Lua51.LibraryFunction("luaopen_table"));
            OpenLibrary(l, "string", Lua51.LibraryFunction("luaopen_string"));
            OpenLibrary(l, "math", Lua51.LibraryFunction("luaopen_math"));
            OpenLibrary(l, "debug", Lua51.LibraryFunction("luaopen_debug"));
            OpenModule(l, "cjson", cjson);
            OpenModule(l, "bit", bit);
            RunChunk(l, LuaLibraries.StructSource, "=struct", "struct");
            RunChunk(l, LuaLibraries.CmsgpackSource, "=cmsgpack", "cmsgpack");
            // The prelude gets the native functions and returns the error handler, the runner and the hidden globals.
            Load(l, ScriptPrelude.Source, ScriptPrelude.ChunkName);
            Lua51.NewTable(l);
            foreach (var (name, function) in ScriptEngine.NativeFunctions)
            {
                Lua51.PushFunction(l, function);
                Lua51.RawSetField(l, -2, name);
            }
            Lua51.PushString(l, "7.0.15");
            Lua51.RawSetField(l, -2, "version");
            Lua51.PushNumber(l, 0x07000f);
            Lua51.RawSetField(l, -2, "version_num");
            Call(l, 1, 4);
            Lua51.RawSetField(l, Lua51.RegistryIndex, "cacheop.load");
            Lua51.RawSetField(l, Lua51.RegistryIndex, "cacheop.globals");
            Lua51.RawSetField(l, Lua51.RegistryIndex, "cacheop.run");
            Lua51.RawSetField(l, Lua51.RegistryIndex, "cacheop.handler");
            return l;
        }
        catch
        {
            Lua51.Close(l);
            throw;
        }
    }

    private static void OpenLibrary(nint l, string name, nint open)
    {
        Lua51.PushFunction(l, open);
        Lua51.PushString(l, name);
        Call(l, 1, 0);
    }

    /// <summary>A C module: its luaopen_ function's table becomes the global <paramref name="name"/>.</summary>
    private static void OpenModule(nint l, string name, nint open)
    {
        Lua51.PushFunction(l, open);
        Lua51.PushString(l, name);
        Call(l, 1, 1);
        Lua51.RawSetField(l, Lua51.GlobalsIndex, name);
    }

    /// <summary>A library written in Lua: the chunk returns its table, set as the global <paramref name="name"/>.</summary>
    private static void RunChunk(nint l, string source, string chunk, string name)
    {
        Load(l, source, chunk);
        Call(l, 0, 1);
        Lua51.RawSetField(l, Lua51.GlobalsIndex, name);
    }

    private static void Load(nint l, string source, string chunk)
    {
        if (Lua51.Load(l, Encoding.UTF8.GetBytes(source), chunk) != 0)
        {
            throw new InvalidOperationException($"Lua chunk {chunk} does not compile: {Encoding.UTF8.GetString(Lua51.ToBytes(l, -1))}");
        }
    }

    private static void Call(nint l, int args, int results)
    {
        if (Lua51.PCall(l, args, results, 0) != 0)
        {
            throw new InvalidOperationException($"Lua start-up failed: {Encoding.UTF8.GetString(Lua51.ToBytes(l, -1))}");
        }
    }

    /// <summary>
    /// liblua5.1 is opened with its symbols global first: Debian's modules do not link it, they expect the interpreter
    /// loaded (as the lua5.1 program has it).
    /// </summary>
    private static (nint Cjson, nint Bit) LoadModules()
    {
        if (dlopen("liblua5.1.so.0", RtldNow | RtldGlobal) == 0)
        {
            throw new DllNotFoundException("liblua5.1.so.0 (Debian package liblua5.1-0)");
        }
        return (Export("liblua5.1-cjson.so.0", "luaopen_cjson", "lua-cjson"), Export("liblua5.1-bitop.so.0", "luaopen_bit", "lua-bitop"));
    }

    private static nint Export(string library, string symbol, string package)
    {
        nint handle = dlopen(library, RtldNow | RtldGlobal);
        nint function = handle == 0 ? 0 : dlsym(handle, symbol);
        return function != 0 ? function : throw new DllNotFoundException($"{library} (Debian package {package})");
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string file, int mode);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlsym(nint handle, string symbol);
}
