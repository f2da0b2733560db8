namespace CacheOperator.Operator.Tests.Topology;

public sealed class DebugSeed(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Seed()
    {
        var sim = (ClusterSimulator)typeof(TopologyPlannerProperties).GetMethod("Build", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .Invoke(null, [new TopologyPlannerProperties.Scenario(2140376403, true)])!;
        for (int round = 0; round < 5; round++)
        {
            sim.Settle();
            foreach (var n in sim.Nodes)
            {
                output.WriteLine($"{n.Id[^2..]} {n.Member} alive={n.Alive} master={n.IsMaster} of={n.MasterId?[^2..]} slots={n.Slots.Count} knows={string.Join(",", n.Knows.Select(k => k[^2..]))}");
            }
            var plan = CacheOperator.Operator.Topology.TopologyPlanner.Plan(sim.Observe(), sim.Desired, sim.Options());
            output.WriteLine(string.Join("\n", plan.Actions.Select(a => $"{a.Target}: {a.Detail}")));
            output.WriteLine(string.Join("\n", plan.Problems));
            foreach (var a in plan.Actions)
            {
                sim.Apply(a);
            }
        }
    }
}
