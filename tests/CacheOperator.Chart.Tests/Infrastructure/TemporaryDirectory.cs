namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
public sealed class TemporaryDirectory : IDisposable
{
    /// <summary>Creates the directory.</summary>
    public TemporaryDirectory() => Directory.CreateDirectory(Path);

    /// <summary>The directory's path.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "chart-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>Writes <paramref name="text"/> to a file in the directory and returns its path.</summary>
    public string Write(string fileName, string text)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
