namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>Runs Prometheus's promtool (Debian package prometheus, installed by scripts/install-deps.sh).</summary>
public static class Promtool
{
    /// <summary>Runs promtool with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static ProcessResult Run(string workingDirectory, params IEnumerable<string> arguments) =>
        ProcessRunner.Run("promtool", arguments, workingDirectory);
}
