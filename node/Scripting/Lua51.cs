using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CacheOperator.Node.Scripting;

/// <summary>
/// The few Lua 5.1 C API calls the script engine uses, bound to Debian's liblua5.1 (package liblua5.1-0), the
/// interpreter Redis embeds. Errors must never longjmp across managed frames: native callbacks never raise a Lua
/// error (they return an error marker that Lua code turns into error()), and Lua runs only under lua_pcall.
/// </summary>
internal static unsafe partial class Lua51
{
    private const string Library = "liblua5.1.so.0";

    public const int RegistryIndex = -10000;
    public const int GlobalsIndex = -10002;
    public const int MultiReturn = -1;

    public const int TypeNil = 0;
    public const int TypeBoolean = 1;
    public const int TypeLightUserData = 2;
    public const int TypeNumber = 3;
    public const int TypeString = 4;
    public const int TypeTable = 5;
    public const int TypeFunction = 6;

    public const int GcCollect = 2;
    public const int GcCount = 3;
    public const int GcStep = 5;

    [LibraryImport(Library, EntryPoint = "luaL_newstate")]
    public static partial nint NewState();

    [LibraryImport(Library, EntryPoint = "lua_close")]
    public static partial void Close(nint l);

    [LibraryImport(Library, EntryPoint = "luaL_loadbuffer")]
    public static partial int LoadBuffer(nint l, byte* buffer, nuint size, byte* name);

    [LibraryImport(Library, EntryPoint = "lua_pcall")]
    public static partial int PCall(nint l, int args, int results, int errorFunction);

    [LibraryImport(Library, EntryPoint = "lua_gettop")]
    public static partial int GetTop(nint l);

    [LibraryImport(Library, EntryPoint = "lua_settop")]
    public static partial void SetTop(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_checkstack")]
    public static partial int CheckStack(nint l, int extra);

    [LibraryImport(Library, EntryPoint = "lua_pushvalue")]
    public static partial void PushValue(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_insert")]
    public static partial void Insert(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_type")]
    public static partial int Type(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_tonumber")]
    public static partial double ToNumber(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_toboolean")]
    public static partial int ToBoolean(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_tolstring")]
    public static partial byte* ToLString(nint l, int index, out nuint length);

    [LibraryImport(Library, EntryPoint = "lua_objlen")]
    public static partial nuint ObjLen(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_pushnil")]
    public static partial void PushNil(nint l);

    [LibraryImport(Library, EntryPoint = "lua_pushnumber")]
    public static partial void PushNumber(nint l, double value);

    [LibraryImport(Library, EntryPoint = "lua_pushlstring")]
    public static partial void PushLString(nint l, byte* text, nuint length);

    [LibraryImport(Library, EntryPoint = "lua_pushboolean")]
    public static partial void PushBoolean(nint l, int value);

    [LibraryImport(Library, EntryPoint = "lua_pushcclosure")]
    public static partial void PushCClosure(nint l, delegate* unmanaged<nint, int> function, int upvalues);

    [LibraryImport(Library, EntryPoint = "lua_createtable")]
    public static partial void CreateTable(nint l, int arrayCount, int hashCount);

    [LibraryImport(Library, EntryPoint = "lua_rawget")]
    public static partial void RawGet(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_rawgeti")]
    public static partial void RawGetI(nint l, int index, int n);

    [LibraryImport(Library, EntryPoint = "lua_rawset")]
    public static partial void RawSet(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_rawseti")]
    public static partial void RawSetI(nint l, int index, int n);

    [LibraryImport(Library, EntryPoint = "lua_next")]
    public static partial int Next(nint l, int index);

    [LibraryImport(Library, EntryPoint = "lua_getupvalue")]
    public static partial byte* GetUpvalue(nint l, int function, int n);

    [LibraryImport(Library, EntryPoint = "lua_setupvalue")]
    public static partial byte* SetUpvalue(nint l, int function, int n);

    [LibraryImport(Library, EntryPoint = "lua_gc")]
    public static partial int Gc(nint l, int what, int data);

    [LibraryImport(Library, EntryPoint = "luaopen_base")]
    public static partial int OpenBase(nint l);

    /// <summary>The C functions that open the standard libraries Redis loads (base, table, string, math, debug).</summary>
    public static nint LibraryFunction(string name) => NativeLibrary.GetExport(Handle, name);

    private static nint Handle => s_handle != 0 ? s_handle : s_handle = NativeLibrary.Load(Library);

    private static nint s_handle;

    public static void Pop(nint l, int count) => SetTop(l, -count - 1);

    public static void NewTable(nint l) => CreateTable(l, 0, 0);

    public static void PushFunction(nint l, delegate* unmanaged<nint, int> function) => PushCClosure(l, function, 0);

    /// <summary>Pushes a C function found by address (a library's luaopen_*).</summary>
    public static void PushFunction(nint l, nint function) => PushCClosure(l, (delegate* unmanaged<nint, int>)function, 0);

    public static void PushBytes(nint l, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            // A non-null pointer even for an empty span: Lua copies length bytes.
            byte dummy = 0;
            PushLString(l, p == null ? &dummy : p, (nuint)bytes.Length);
        }
    }

    public static void PushString(nint l, string text) => PushBytes(l, Encoding.UTF8.GetBytes(text));

    /// <summary>The bytes of the string (or number, converted in place) at <paramref name="index"/>; empty span for other types.</summary>
    public static ReadOnlySpan<byte> ToBytes(nint l, int index)
    {
        byte* p = ToLString(l, index, out nuint length);
        return p == null ? default : new ReadOnlySpan<byte>(p, checked((int)length));
    }

    /// <summary>t[key] without metamethods, for the table at <paramref name="index"/> (an absolute index).</summary>
    public static int RawGetField(nint l, int index, ReadOnlySpan<byte> key)
    {
        PushBytes(l, key);
        RawGet(l, index);
        return Type(l, -1);
    }

    /// <summary>t[key] = top without metamethods; pops the value.</summary>
    public static void RawSetField(nint l, int index, string key)
    {
        PushString(l, key);
        Insert(l, -2);
        RawSet(l, index < 0 && index > RegistryIndex ? index - 1 : index);
    }

    /// <summary>Compiles <paramref name="source"/> as chunk <paramref name="name"/>; 0 on success (function pushed), else the error message is pushed.</summary>
    public static int Load(nint l, ReadOnlySpan<byte> source, string name)
    {
        var chunk = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* s = source)
        fixed (byte* n = chunk)
        {
            byte dummy = 0;
            return LoadBuffer(l, s == null ? &dummy : s, (nuint)source.Length, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AbsIndex(nint l, int index) => index > 0 || index <= RegistryIndex ? index : GetTop(l) + index + 1;
}
