namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>Where the repository is, found by walking up from the test binaries to CacheOperator.sln.</summary>
public static class RepoPaths
{
    /// <summary>The repository root.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CacheOperator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("CacheOperator.sln not found above " + AppContext.BaseDirectory);
    }
}
