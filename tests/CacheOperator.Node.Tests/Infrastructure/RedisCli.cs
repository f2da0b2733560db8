using System.Diagnostics;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>Runs Debian's redis-cli against a port and returns what it printed.</summary>
public static class RedisCli
{
    /// <summary>Runs <c>redis-cli -p PORT args...</c> (optionally feeding stdin) and returns stdout.</summary>
    public static string Run(int port, string[] args, string? stdin = null, int timeoutSeconds = 30)
    {
        var info = new ProcessStartInfo("redis-cli")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-p");
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("redis-cli did not start");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill();
            throw new TimeoutException("redis-cli did not finish");
        }
        return output.Result + error.Result;
    }

    /// <summary>Runs <c>redis-cli --cluster SUBCOMMAND args...</c> (the cluster manager; slow steps get minutes) and returns what it printed.</summary>
    public static string Cluster(string subcommand, params string[] args) => Run(0, ["--cluster", subcommand, .. args], timeoutSeconds: 300);

    /// <summary>Runs one command and returns its trimmed output.</summary>
    public static string Command(int port, params string[] args) => Run(port, args).TrimEnd('\n');
}
