namespace CacheOperator.Chart.Tests;

/// <summary>promtool checks the rendered alert rules, and each alert's unit test fires it.</summary>
public sealed class AlertRuleTests
{
    /// <summary>The alerts the issue asks for that the exported metrics allow (no replication metrics exist yet, so no replication-lag alert).</summary>
    static readonly string[] ExpectedAlerts =
    [
        "CacheClusterDegraded",
        "CacheShardWithoutMaster",
        "CacheNodeDown",
        "CacheClusterStateFail",
        "CacheMemoryNearMaxmemory",
        "CacheEvictionsSpiking",
        "CacheOperatorReconcileErrors",
        "CacheOperatorNoLeader",
    ];

    /// <summary>Every promtool unit test file, for theories.</summary>
    public static TheoryData<string> RuleTestFiles => new(RuleTestFileNames());

    static IEnumerable<string> RuleTestFileNames() =>
        Directory.GetFiles(RepositoryPaths.RuleTests, "*.test.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);

    [Fact]
    public void RenderedRulesPassPromtoolCheckRules()
    {
        using var dir = new TemporaryDirectory();
        dir.Write("alerts.rules.yaml", ChartMonitoring.RulesFile());
        var result = Promtool.Run(dir.Path, "check", "rules", "alerts.rules.yaml");
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains($"SUCCESS: {ExpectedAlerts.Length} rules found", result.Stdout);
    }

    [Fact]
    public void TheChartHasTheExpectedAlertsAndEachHasAUnitTest()
    {
        var alerts = ChartMonitoring.Alerts().Select(a => a.Alert).ToList();
        Assert.Equal(ExpectedAlerts.Order(), alerts.Order());
        var tested = RuleTestFileNames().Select(name => name.Replace(".test.yaml", "", StringComparison.Ordinal));
        Assert.Equal(alerts.Order(), tested.Order());
    }

    [Theory]
    [MemberData(nameof(RuleTestFiles))]
    public void PromtoolUnitTestFiresTheAlert(string testFile)
    {
        var alert = testFile.Replace(".test.yaml", "", StringComparison.Ordinal);
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.RuleTests, testFile));
        // A test that never expects the alert to fire would pass with a broken rule.
        Assert.Contains($"alertname: {alert}", text);
        Assert.Contains("exp_labels:", text);
        using var dir = new TemporaryDirectory();
        dir.Write("alerts.rules.yaml", ChartMonitoring.RulesFile());
        dir.Write(testFile, text);
        var result = Promtool.Run(dir.Path, "test", "rules", testFile);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("SUCCESS", result.Stdout);
    }

    [Fact]
    public void PromtoolUnitTestsCatchABrokenRule()
    {
        // Raising the memory threshold above 100% must make the memory test fail: the tests can fail.
        using var dir = new TemporaryDirectory();
        var broken = ChartMonitoring.RulesFile().Replace("> 0.9", "> 1.5", StringComparison.Ordinal);
        Assert.NotEqual(ChartMonitoring.RulesFile(), broken);
        dir.Write("alerts.rules.yaml", broken);
        const string testFile = "CacheMemoryNearMaxmemory.test.yaml";
        dir.Write(testFile, File.ReadAllText(Path.Combine(RepositoryPaths.RuleTests, testFile)));
        var result = Promtool.Run(dir.Path, "test", "rules", testFile);
        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public void EveryAlertHasSeverityAndSummary()
    {
        var rules = ChartMonitoring.RulesFile();
        var parsed = new YamlDotNet.RepresentationModel.YamlStream();
        parsed.Load(new StringReader(rules));
        var alerts = ((YamlDotNet.RepresentationModel.YamlSequenceNode)YamlNodes.Child(parsed.Documents[0].RootNode, "groups")!).Children
            .SelectMany(g => ((YamlDotNet.RepresentationModel.YamlSequenceNode)YamlNodes.Child(g, "rules")!).Children);
        Assert.All(alerts, rule =>
        {
            Assert.Contains(YamlNodes.Scalar(YamlNodes.Child(rule, "labels"), "severity"), new[] { "warning", "critical" });
            Assert.False(string.IsNullOrWhiteSpace(YamlNodes.Scalar(YamlNodes.Child(rule, "annotations"), "summary")));
            Assert.False(string.IsNullOrWhiteSpace(YamlNodes.Scalar(YamlNodes.Child(rule, "annotations"), "description")));
            Assert.NotNull(YamlNodes.Scalar(rule, "for"));
        });
    }
}
