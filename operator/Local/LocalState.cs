using System.Text.Json;
using System.Text.Json.Serialization;

namespace CacheOperator.Operator.Local;

/// <summary>One node process of a local cluster, as state.json records it.</summary>
public sealed class LocalMember
{
    /// <summary>Process name, &lt;cluster&gt;-shard-&lt;i&gt;-&lt;ordinal&gt;.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>Shard index.</summary>
    [JsonPropertyName("shard")]
    public int Shard { get; set; }

    /// <summary>Ordinal within the shard.</summary>
    [JsonPropertyName("ordinal")]
    public int Ordinal { get; set; }

    /// <summary>RESP port on 127.0.0.1 (the cluster bus is this + 10000).</summary>
    [JsonPropertyName("port")]
    public int Port { get; set; }

    /// <summary>Process id of the last start (0: never started or stopped).</summary>
    [JsonPropertyName("pid")]
    public int Pid { get; set; }

    /// <summary>
    /// Fingerprint of what the last start ran: the node binary and the restart-requiring part of its config; another
    /// fingerprint now makes the node outdated (a rolling upgrade restarts it). Null: unknown (never outdated).
    /// </summary>
    [JsonPropertyName("startedWith")]
    public string? StartedWith { get; set; }
}

/// <summary>
/// The state directory's state.json: who runs the cluster (the <c>local up</c> process), from which spec, its nodes,
/// and the port of every node name ever given one, so a restart and a re-created shard reuse ports.
/// </summary>
public sealed class LocalState
{
    /// <summary>File name inside the state directory.</summary>
    public const string FileName = "state.json";

    /// <summary>Process id of the running <c>local up</c> (0: none).</summary>
    [JsonPropertyName("operatorPid")]
    public int OperatorPid { get; set; }

    /// <summary>The spec file <c>local up</c> was started with.</summary>
    [JsonPropertyName("specFile")]
    public string? SpecFile { get; set; }

    /// <summary>Namespace of the cluster.</summary>
    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    /// <summary>Name of the cluster.</summary>
    [JsonPropertyName("cluster")]
    public string? Cluster { get; set; }

    /// <summary>The phase last written to status.</summary>
    [JsonPropertyName("phase")]
    public string? Phase { get; set; }

    /// <summary>First port handed out.</summary>
    [JsonPropertyName("basePort")]
    public int BasePort { get; set; }

    /// <summary>The node processes that should run.</summary>
    [JsonPropertyName("members")]
    public List<LocalMember> Members { get; set; } = [];

    /// <summary>Every port handed out, by node name (kept when a node is removed).</summary>
    [JsonPropertyName("ports")]
    public SortedDictionary<string, int> Ports { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Reads the state of <paramref name="directory"/>, or null when there is none.</summary>
    public static LocalState? Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<LocalState>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{path} is not a local-mode state file: {e.Message}", e);
        }
    }

    /// <summary>Writes the state atomically (a reader never sees half a file).</summary>
    public void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        var temporary = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Indented));
        File.Move(temporary, path, overwrite: true);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
