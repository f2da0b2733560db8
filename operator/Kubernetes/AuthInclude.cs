using CacheOperator.Node.Configuration;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// What the cache pods' init container does (<c>cache-operator auth-include --output FILE</c>): writes the password it
/// gets from the Secret through its environment into a config file the node includes (<c>--include FILE</c>), so the
/// password is in neither the pod spec's arguments nor any process's command line. redis-server reads the same file.
/// </summary>
public static class AuthInclude
{
    /// <summary>The verb of the operator binary.</summary>
    public const string CommandName = "auth-include";

    /// <summary>The include file's text: requirepass and masterauth (replicas authenticate to their master with the same password), quoted as Redis reads them back.</summary>
    public static string Text(string password) =>
        $"# Written by the cache-operator auth init container from the Secret.\nrequirepass {ConfigLoader.Quote(password)}\nmasterauth {ConfigLoader.Quote(password)}\n";

    /// <summary>Writes the file readable by its owner only; 0 on success, 1 with a message on <paramref name="error"/> when there is no password.</summary>
    public static int Write(string path, string? password, TextWriter error)
    {
        if (string.IsNullOrEmpty(password))
        {
            error.WriteLine($"{CommandName}: environment variable {Manifests.PasswordVariable} is empty or unset (the Secret named by spec.auth.secretRef has no such key?)");
            return 1;
        }
        try
        {
            // A restarted pod runs its init containers again over the same emptyDir: replace the read-only file.
            File.Delete(path);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead;
            }
            using var file = new StreamWriter(path, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options);
            file.Write(Text(password));
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"{CommandName}: cannot write {path}: {e.Message}");
            return 1;
        }
    }
}
