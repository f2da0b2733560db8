using System.Text.RegularExpressions;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>
/// Finds the metric names a PromQL expression selects, crudely: identifiers starting with cache_ or
/// cacheoperator_, and `up`, that stand as selectors (followed by {, [, whitespace, an operator, a
/// closing parenthesis or the end), outside string literals.
/// </summary>
public static partial class PromQlMetricNames
{
    /// <summary>The metric names <paramref name="promQl"/> selects.</summary>
    public static IReadOnlySet<string> Extract(string promQl)
    {
        var withoutStrings = StringLiteral().Replace(promQl, "\"\"");
        var withoutLabelMatchers = LabelMatchers().Replace(withoutStrings, "{}");
        var withoutGrouping = Grouping().Replace(withoutLabelMatchers, "$1()");
        var withoutVariableLabels = GrafanaLabelValues().Replace(withoutGrouping, "label_values($1)");
        return MetricName().Matches(withoutVariableLabels).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The metric names any of <paramref name="expressions"/> selects.</summary>
    public static IReadOnlySet<string> ExtractAll(IEnumerable<string> expressions) =>
        expressions.SelectMany(Extract).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex StringLiteral();

    // Label names inside {...} are not metric names.
    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex LabelMatchers();

    // Neither are the label lists of by/without/on/ignoring/group_left/group_right.
    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex Grouping();

    // Nor the label argument of a Grafana variable query label_values(metric{...}, label).
    [GeneratedRegex(@"label_values\(([^,()]*),\s*\w+\s*\)")]
    private static partial Regex GrafanaLabelValues();

    [GeneratedRegex(@"(?<![\w:$.])(?<name>cache_\w+|cacheoperator_\w+|up)(?=\s*[{\[]|\s|[)+\-*/%^<>=!,]|$)")]
    private static partial Regex MetricName();
}
