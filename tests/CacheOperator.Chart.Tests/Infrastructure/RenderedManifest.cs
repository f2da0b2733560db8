using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>One YAML document of a rendered chart (or a manifest file), with its identity read out.</summary>
public sealed partial class RenderedManifest
{
    RenderedManifest(string yaml, YamlMappingNode root)
    {
        Yaml = yaml;
        Root = root;
        ApiVersion = YamlNodes.Scalar(root, "apiVersion") ?? throw new FormatException($"document without apiVersion:\n{yaml}");
        Kind = YamlNodes.Scalar(root, "kind") ?? throw new FormatException($"document without kind:\n{yaml}");
        Name = YamlNodes.Scalar(YamlNodes.Child(root, "metadata"), "name") ?? throw new FormatException($"document without metadata.name:\n{yaml}");
    }

    /// <summary>The document's text.</summary>
    public string Yaml { get; }

    /// <summary>The document as a YAML node tree.</summary>
    public YamlMappingNode Root { get; }

    /// <summary>apiVersion.</summary>
    public string ApiVersion { get; }

    /// <summary>kind.</summary>
    public string Kind { get; }

    /// <summary>metadata.name.</summary>
    public string Name { get; }

    /// <summary>Splits a multi-document YAML stream into its non-empty documents.</summary>
    public static IReadOnlyList<RenderedManifest> Split(string stream)
    {
        var manifests = new List<RenderedManifest>();
        foreach (var text in DocumentSeparator().Split(stream))
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(text));
            if (yaml.Documents.Count == 0)
            {
                continue;
            }
            if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            {
                throw new FormatException($"document is not a mapping:\n{text}");
            }
            manifests.Add(new RenderedManifest(text, root));
        }
        return manifests;
    }

    /// <summary>The single document of <paramref name="kind"/>.</summary>
    public static RenderedManifest Single(IEnumerable<RenderedManifest> manifests, string kind) => manifests.Single(m => m.Kind == kind);

    /// <inheritdoc/>
    public override string ToString() => $"{Kind}/{Name}";

    [GeneratedRegex(@"^---[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}

/// <summary>Small helpers for reading YamlDotNet node trees.</summary>
public static class YamlNodes
{
    /// <summary>The child node of a mapping, or null when the key is absent or the node is not a mapping.</summary>
    public static YamlNode? Child(YamlNode? node, string key) =>
        node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    /// <summary>The node at a dotted path of mapping keys, or null.</summary>
    public static YamlNode? At(YamlNode? node, string dottedPath) =>
        dottedPath.Split('.').Aggregate(node, Child);

    /// <summary>The scalar value under <paramref name="key"/>, or null.</summary>
    public static string? Scalar(YamlNode? node, string key) => (Child(node, key) as YamlScalarNode)?.Value;

    /// <summary>Serialises a node (and its children) back to YAML text.</summary>
    public static string Write(YamlNode node)
    {
        var stream = new YamlStream(new YamlDocument(node));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }
}
