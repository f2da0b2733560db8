namespace CacheOperator.Operator.Api;

/// <summary>The field's description in the CRD's OpenAPI schema (what <c>kubectl explain</c> prints).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class)]
public sealed class DocAttribute(string text) : Attribute
{
    /// <summary>The description.</summary>
    public string Text { get; } = text;
}

/// <summary>The field's default, applied by the API server when the field is absent.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SchemaDefaultAttribute(object value) : Attribute
{
    /// <summary>The default value (a string, number or boolean).</summary>
    public object Value { get; } = value;
}

/// <summary>Inclusive numeric bounds of an integer field.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(long minimum, long maximum = long.MaxValue) : Attribute
{
    /// <summary>Smallest value allowed.</summary>
    public long Minimum { get; } = minimum;

    /// <summary>Largest value allowed (long.MaxValue: no bound).</summary>
    public long Maximum { get; } = maximum;
}

/// <summary>The values a string field may take.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OneOfAttribute(params string[] values) : Attribute
{
    /// <summary>The allowed values.</summary>
    public IReadOnlyList<string> Values { get; } = values;
}

/// <summary>A regular expression a string field must match.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute(string regex) : Attribute
{
    /// <summary>The ECMA-262 regular expression.</summary>
    public string Regex { get; } = regex;
}

/// <summary>
/// A Kubernetes quantity (512Mi, 2Gi, 100m) or, on a map, quantities as its values. Checked by the
/// quantity pattern so every Kubernetes version validates it, not only those with CEL quantity functions.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class QuantityAttribute : Attribute
{
    /// <summary>The API server's own quantity syntax.</summary>
    public const string Pattern = @"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";
}

/// <summary>The field must be present.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredFieldAttribute : Attribute;

/// <summary>
/// A CEL rule (x-kubernetes-validations) on the object a class describes, for rules that span fields.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Property, AllowMultiple = true)]
public sealed class CelRuleAttribute(string rule, string message) : Attribute
{
    /// <summary>The CEL expression; <c>self</c> is the object.</summary>
    public string Rule { get; } = rule;

    /// <summary>The message the API server returns when the rule fails.</summary>
    public string Message { get; } = message;
}

/// <summary>
/// The field holds a Kubernetes core type (affinity, tolerations, security context...) whose schema the
/// API server already validates on the pods; the CRD keeps whatever is given.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class EmbeddedKubernetesTypeAttribute : Attribute;
