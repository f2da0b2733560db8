namespace CacheOperator.Node.Scripting;

/// <summary>The libraries Redis vendors that Debian does not package for Lua 5.1, written in Lua.</summary>
internal static class LuaLibraries
{
    /// <summary>struct (Roberto Ierusalimschy's): not written yet, so its functions are absent (README lists it).</summary>
    public const string StructSource = "return {}";

    /// <summary>cmsgpack: not written yet, so its functions are absent (README lists it).</summary>
    public const string CmsgpackSource = "return {}";
}
