using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Scripting;

/// <summary>A library FUNCTION LOAD created: its name, its code as loaded (shebang included) and its functions.</summary>
public sealed class FunctionLibrary(string name, byte[] code, List<RegisteredFunction> functions)
{
    /// <summary>The name from its <c>#!lua name=</c> line.</summary>
    public string Name { get; } = name;

    /// <summary>The code as FUNCTION LOAD got it, what FUNCTION LIST WITHCODE, DUMP and snapshots give back.</summary>
    public byte[] Code { get; } = code;

    /// <summary>Its functions, in the order the code registered them.</summary>
    public List<RegisteredFunction> Functions { get; } = functions;
}

/// <summary>
/// The libraries of functions, as Redis 7.0's functions.c: libraries by name (case-sensitive), functions by name
/// across libraries (case-insensitive, as Redis's functions dict), loading a library from its code with Redis's
/// checks and texts, and joining a set of libraries into the current one (FUNCTION RESTORE). The compiled code lives
/// in the script engine's functions interpreter. Used under the keyspace lock.
/// </summary>
public sealed class FunctionLibraries(ScriptEngine engine)
{
    /// <summary>FUNCTION LOAD's time limit for a library's code, as Redis's LOAD_TIMEOUT_MS.</summary>
    public const long LoadTimeoutMs = 500;

    private const string BadName = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

    private LibrarySet _current = new();

    /// <summary>The libraries loaded, in load order.</summary>
    public IEnumerable<FunctionLibrary> Libraries => _current.Libraries.Values;

    /// <summary>How many libraries are loaded.</summary>
    public int LibraryCount => _current.Libraries.Count;

    /// <summary>How many functions the libraries registered.</summary>
    public int FunctionCount => _current.Functions.Count;

    /// <summary>The function named <paramref name="name"/> (any case), or null.</summary>
    public RegisteredFunction? Find(ReadOnlySpan<byte> name) =>
        _current.Functions.TryGetValue(Encoding.UTF8.GetString(name), out var function) ? function : null;

    /// <summary>
    /// FUNCTION LOAD: creates the library <paramref name="code"/> declares; returns its name, or null with Redis's
    /// error text in <paramref name="error"/>. <paramref name="timeoutMs"/> 0: no time limit (a master's stream).
    /// </summary>
    public string? Load(byte[] code, bool replace, long timeoutMs, out string? error) => Create(code, replace, timeoutMs, _current, out error);

    /// <summary>FUNCTION DELETE: false when no library has that name.</summary>
    public bool Delete(ReadOnlySpan<byte> name)
    {
        if (!_current.Libraries.TryGetValue(Encoding.UTF8.GetString(name), out var library))
        {
            return false;
        }
        _current.Unlink(library);
        Release(library);
        return true;
    }

    /// <summary>FUNCTION FLUSH: no libraries, and a new functions interpreter.</summary>
    public void Flush()
    {
        _current = new LibrarySet();
        engine.ResetFunctions();
    }

    /// <summary>
    /// Loads each library of <paramref name="codes"/> into a set of their own, then applies it as FUNCTION RESTORE's
    /// <paramref name="policy"/> (Redis's functionRestoreCommand and libraryJoin); false with the error text otherwise,
    /// leaving the libraries as they were.
    /// </summary>
    public bool Restore(IEnumerable<byte[]> codes, RestorePolicy policy, out string? error)
    {
        var loaded = new LibrarySet();
        foreach (var code in codes)
        {
            if (Create(code, replace: false, timeoutMs: 0, loaded, out error) is null)
            {
                ReleaseAll(loaded);
                return false;
            }
        }
        if (policy == RestorePolicy.Flush)
        {
            ReleaseAll(_current);
            _current = loaded;
            error = null;
            return true;
        }
        if (!Join(_current, loaded, policy == RestorePolicy.Replace, out error))
        {
            ReleaseAll(loaded);
            return false;
        }
        return true;
    }

    /// <summary>Redis's functionsCreateWithLibraryCtx: metadata, name, engine, the code run, the function names' checks.</summary>
    private string? Create(byte[] code, bool replace, long timeoutMs, LibrarySet set, out string? error)
    {
        if (!TryParseMetadata(code, out string engineName, out string name, out int codeStart, out error))
        {
            return null;
        }
        if (!IsValidName(name))
        {
            error = BadName;
            return null;
        }
        if (!engineName.Equals("lua", StringComparison.OrdinalIgnoreCase))
        {
            error = $"ERR Engine '{engineName}' not found";
            return null;
        }
        set.Libraries.TryGetValue(name, out var old);
        if (old is not null && !replace)
        {
            error = $"ERR Library '{name}' already exists";
            return null;
        }
        if (old is not null)
        {
            set.Unlink(old);
        }
        var functions = engine.CompileLibrary(code.AsSpan(codeStart), timeoutMs, out error);
        if (functions is null || functions.Count == 0)
        {
            error ??= "ERR No functions registered";
            if (old is not null)
            {
                set.Link(old);
            }
            return null;
        }
        var library = new FunctionLibrary(name, code, functions);
        if (functions.FirstOrDefault(f => set.Functions.ContainsKey(f.Name)) is { } clash)
        {
            error = $"ERR Function {clash.Name} already exists";
            Release(library);
            if (old is not null)
            {
                set.Link(old);
            }
            return null;
        }
        set.Link(library);
        if (old is not null)
        {
            Release(old);
        }
        return name;
    }

    /// <summary>Redis's libraryJoin: the libraries of <paramref name="source"/> into <paramref name="target"/>, all or none.</summary>
    private bool Join(LibrarySet target, LibrarySet source, bool replace, out string? error)
    {
        var replaced = new List<FunctionLibrary>();
        error = null;
        foreach (var library in source.Libraries.Values)
        {
            if (target.Libraries.TryGetValue(library.Name, out var old))
            {
                if (!replace)
                {
                    error = $"ERR Library {library.Name} already exists";
                    break;
                }
                target.Unlink(old);
                replaced.Add(old);
            }
        }
        if (error is null && source.Functions.Values.FirstOrDefault(f => target.Functions.ContainsKey(f.Name)) is { } clash)
        {
            error = $"ERR Function {clash.Name} already exists";
        }
        if (error is not null)
        {
            foreach (var old in replaced)
            {
                target.Link(old);
            }
            return false;
        }
        foreach (var library in source.Libraries.Values.ToList())
        {
            target.Link(library);
        }
        foreach (var old in replaced)
        {
            Release(old);
        }
        return true;
    }

    private void Release(FunctionLibrary library)
    {
        foreach (var function in library.Functions)
        {
            engine.ReleaseFunction(function.RegistryKey);
        }
    }

    private void ReleaseAll(LibrarySet set)
    {
        foreach (var library in set.Libraries.Values)
        {
            Release(library);
        }
    }

    /// <summary>Redis's functionsVerifyName: letters, digits and underscores, at least one.</summary>
    private static bool IsValidName(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>Redis's functionExtractLibMetaData: the <c>#!engine name=...</c> line, split as sdssplitargs does.</summary>
    private static bool TryParseMetadata(byte[] payload, out string engineName, out string name, out int codeStart, out string? error)
    {
        engineName = name = "";
        codeStart = 0;
        if (!payload.AsSpan().StartsWith("#!"u8))
        {
            error = "ERR Missing library metadata";
            return false;
        }
        int end = payload.AsSpan().IndexOf((byte)'\n');
        // Redis reads the payload as a C string: the line ends at the first NUL too.
        int nul = payload.AsSpan().IndexOf((byte)0);
        if (end < 0 || (nul >= 0 && nul < end))
        {
            error = "ERR Invalid library metadata";
            return false;
        }
        var parts = InlineSplitter.Split(payload.AsSpan(0, end));
        if (parts is null || parts.Count == 0)
        {
            error = "ERR Invalid library metadata";
            return false;
        }
        engineName = Encoding.UTF8.GetString(parts[0].AsSpan(Math.Min(2, parts[0].Length)));
        string? found = null;
        foreach (var part in parts.Skip(1))
        {
            string text = Encoding.UTF8.GetString(part);
            if (text.StartsWith("name=", StringComparison.OrdinalIgnoreCase))
            {
                if (found is not null)
                {
                    error = "ERR Invalid metadata value, name argument was given multiple times";
                    return false;
                }
                found = text[5..];
                continue;
            }
            error = $"ERR Invalid metadata value given: {text}";
            return false;
        }
        if (found is null)
        {
            error = "ERR Library name was not given";
            return false;
        }
        name = found;
        // The code starts at the shebang's newline: line numbers stay the user's.
        codeStart = end;
        error = null;
        return true;
    }

    /// <summary>Libraries by name and their functions by name (any case), as Redis's functionsLibCtx.</summary>
    private sealed class LibrarySet
    {
        public Dictionary<string, FunctionLibrary> Libraries { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, RegisteredFunction> Functions { get; } = new(StringComparer.OrdinalIgnoreCase);

        public void Link(FunctionLibrary library)
        {
            foreach (var function in library.Functions)
            {
                Functions[function.Name] = function;
            }
            Libraries[library.Name] = library;
        }

        public void Unlink(FunctionLibrary library)
        {
            foreach (var function in library.Functions)
            {
                Functions.Remove(function.Name);
            }
            Libraries.Remove(library.Name);
        }
    }
}

/// <summary>What FUNCTION RESTORE does with the libraries already loaded.</summary>
public enum RestorePolicy
{
    /// <summary>APPEND (the default): adds the payload's libraries; a library or function name already used fails it.</summary>
    Append,

    /// <summary>REPLACE: libraries of the same name are replaced; a function name used by another library fails it.</summary>
    Replace,

    /// <summary>FLUSH: the payload's libraries replace all.</summary>
    Flush,
}
