using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>
/// Checks a manifest against a CRD's openAPIV3Schema the way the API server would reject it: types,
/// required fields, unknown fields (kubectl's strict field validation), enums, patterns, minimum and
/// maximum. Covers the subset of OpenAPI that structural CRD schemas use; metadata is not checked.
/// </summary>
public static class CrdSchemaValidator
{
    /// <summary>The openAPIV3Schema of <paramref name="version"/> in a CRD manifest.</summary>
    public static YamlMappingNode SchemaOf(RenderedManifest crd, string version)
    {
        var versions = (YamlSequenceNode)(YamlNodes.At(crd.Root, "spec.versions") ?? throw new FormatException("CRD without spec.versions"));
        var match = versions.Children.Single(v => YamlNodes.Scalar(v, "name") == version);
        return (YamlMappingNode)(YamlNodes.At(match, "schema.openAPIV3Schema") ?? throw new FormatException("version without schema"));
    }

    /// <summary>Every violation of <paramref name="schema"/> by <paramref name="value"/>; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(YamlMappingNode schema, YamlNode value)
    {
        var errors = new List<string>();
        Check(schema, value, "", errors, isRoot: true);
        return errors;
    }

    static void Check(YamlNode schema, YamlNode value, string path, List<string> errors, bool isRoot = false)
    {
        var where = path.Length == 0 ? "<root>" : path;
        if (YamlNodes.Scalar(schema, "x-kubernetes-int-or-string") == "true")
        {
            if (value is not YamlScalarNode scalar || (ScalarKind(scalar) is not ("integer" or "string")))
            {
                errors.Add($"{where}: must be an integer or a string");
            }
            return;
        }
        if (YamlNodes.Child(schema, "anyOf") is YamlSequenceNode anyOf)
        {
            if (!anyOf.Children.Any(option => Validate((YamlMappingNode)option, value).Count == 0))
            {
                errors.Add($"{where}: matches none of anyOf");
            }
        }
        var type = YamlNodes.Scalar(schema, "type");
        switch (type)
        {
            case "object":
                CheckObject(schema, value, path, where, errors, isRoot);
                break;
            case "array":
                if (value is not YamlSequenceNode sequence)
                {
                    errors.Add($"{where}: must be an array");
                    return;
                }
                if (YamlNodes.Child(schema, "items") is { } items)
                {
                    for (var i = 0; i < sequence.Children.Count; i++)
                    {
                        Check(items, sequence.Children[i], $"{path}[{i}]", errors);
                    }
                }
                break;
            case "integer" or "number" or "string" or "boolean":
                CheckScalar(schema, value, type, where, errors);
                break;
            case null:
                break;
            default:
                errors.Add($"{where}: schema has unknown type {type}");
                break;
        }
    }

    static void CheckObject(YamlNode schema, YamlNode value, string path, string where, List<string> errors, bool isRoot)
    {
        if (value is not YamlMappingNode mapping)
        {
            errors.Add($"{where}: must be an object");
            return;
        }
        var properties = YamlNodes.Child(schema, "properties") as YamlMappingNode;
        var additional = YamlNodes.Child(schema, "additionalProperties");
        var preserveUnknown = YamlNodes.Scalar(schema, "x-kubernetes-preserve-unknown-fields") == "true";
        if (YamlNodes.Child(schema, "required") is YamlSequenceNode required)
        {
            foreach (var name in required.Children.OfType<YamlScalarNode>().Select(n => n.Value!))
            {
                if (!mapping.Children.ContainsKey(new YamlScalarNode(name)))
                {
                    errors.Add($"{where}: required field {name} is missing");
                }
            }
        }
        foreach (var (keyNode, child) in mapping.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value!;
            var childPath = path.Length == 0 ? key : $"{path}.{key}";
            if (isRoot && key == "metadata")
            {
                continue;
            }
            if (properties is not null && properties.Children.TryGetValue(new YamlScalarNode(key), out var childSchema))
            {
                Check(childSchema, child, childPath, errors);
            }
            else if (additional is YamlMappingNode additionalSchema)
            {
                Check(additionalSchema, child, childPath, errors);
            }
            else if (!preserveUnknown && (properties is not null || additional is YamlScalarNode { Value: "false" }))
            {
                errors.Add($"{childPath}: unknown field");
            }
        }
    }

    static void CheckScalar(YamlNode schema, YamlNode value, string type, string where, List<string> errors)
    {
        if (value is not YamlScalarNode scalar)
        {
            errors.Add($"{where}: must be a {type}");
            return;
        }
        var kind = ScalarKind(scalar);
        var accepted = type == kind || (type == "number" && kind == "integer");
        if (!accepted)
        {
            errors.Add($"{where}: must be a {type}, not a {kind} ({scalar.Value})");
            return;
        }
        var text = scalar.Value ?? "";
        if (kind is "integer" or "number")
        {
            var number = double.Parse(text, CultureInfo.InvariantCulture);
            if (YamlNodes.Scalar(schema, "minimum") is { } min && number < double.Parse(min, CultureInfo.InvariantCulture))
            {
                errors.Add($"{where}: {text} is below the minimum {min}");
            }
            if (YamlNodes.Scalar(schema, "maximum") is { } max && number > double.Parse(max, CultureInfo.InvariantCulture))
            {
                errors.Add($"{where}: {text} is above the maximum {max}");
            }
        }
        if (YamlNodes.Child(schema, "enum") is YamlSequenceNode allowed
            && !allowed.Children.OfType<YamlScalarNode>().Any(a => a.Value == text))
        {
            errors.Add($"{where}: {text} is not one of the allowed values");
        }
        if (YamlNodes.Scalar(schema, "pattern") is { } pattern && !Regex.IsMatch(text, pattern))
        {
            errors.Add($"{where}: {text} does not match {pattern}");
        }
    }

    /// <summary>The JSON type a YAML 1.2 core-schema scalar stands for.</summary>
    static string ScalarKind(YamlScalarNode scalar)
    {
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return "string";
        }
        var text = scalar.Value ?? "";
        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => "null",
            "true" or "True" or "TRUE" or "false" or "False" or "FALSE" => "boolean",
            _ when Regex.IsMatch(text, @"^[-+]?[0-9]+$") => "integer",
            _ when Regex.IsMatch(text, @"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$") => "number",
            _ => "string",
        };
    }
}
