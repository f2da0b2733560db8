using System.Security.Cryptography;
using System.Text;
using CacheOperator.Node.Configuration;

namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// Splits a node's config file into what a running node takes live (CONFIG SET-able per the node's catalog) and what
/// needs a restart, so that only the latter rolls the nodes (a pod template hash, a local node's start fingerprint).
/// </summary>
public static class ConfigParts
{
    // CONFIG SET-able but never changed live by the operator: each node's own addresses and files (local mode and pods
    // set them per node) and the password (replicas authenticate to masters with it, so it changes only by restart).
    private static readonly HashSet<string> NeverLive = new(StringComparer.OrdinalIgnoreCase)
    {
        "port", "bind", "dir", "requirepass", "masterauth", "protected-mode", "cluster-config-file", "cluster-port", "metrics-port",
        "cluster-announce-ip", "cluster-announce-port", "cluster-announce-bus-port", "cluster-announce-tls-port", "cluster-announce-hostname",
        "cluster-preferred-endpoint-type", "cluster-hostname-resolve",
    };

    private static readonly NodeConfig Catalog = new();

    /// <summary>The directives of a config file, in order: name as written and value unquoted (comments and blank lines skipped).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Directives(string configText)
    {
        ArgumentNullException.ThrowIfNull(configText);
        var directives = new List<KeyValuePair<string, string>>();
        foreach (var raw in configText.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var name = space < 0 ? line : line[..space];
            var value = space < 0 ? "" : Unquote(line[(space + 1)..].Trim());
            directives.Add(new(name, value));
        }
        return directives;
    }

    /// <summary>Whether the operator applies <paramref name="name"/> to running nodes with CONFIG SET.</summary>
    public static bool IsLive(string name) => !NeverLive.Contains(name) && Catalog.Find(name) is { Mutable: true };

    /// <summary>The directives nodes take live, last value of each name winning (as a config file reads).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Live(string configText)
    {
        var last = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var order = new List<string>();
        foreach (var (name, value) in Directives(configText).Where(d => IsLive(d.Key)))
        {
            if (!last.ContainsKey(name))
            {
                order.Add(name);
            }
            last[name] = value;
        }
        return order.Select(n => new KeyValuePair<string, string>(n, last[n])).ToList();
    }

    /// <summary>The lines whose change needs a restart (every directive that is not live), comments dropped.</summary>
    public static string RestartPart(string configText) =>
        string.Concat(configText.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#' && !IsLive(l.Split(' ', 2)[0])).Select(l => l + "\n"));

    /// <summary>A short stable hash of <paramref name="text"/>.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];

    private static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
        {
            return value;
        }
        var text = new StringBuilder();
        for (var i = 1; i < value.Length - 1; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length - 1)
            {
                i++;
            }
            text.Append(value[i]);
        }
        return text.ToString();
    }
}
