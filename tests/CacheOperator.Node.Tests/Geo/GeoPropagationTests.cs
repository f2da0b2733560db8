using CacheOperator.Node.Tests.Replication;

namespace CacheOperator.Node.Tests.Geo;

/// <summary>
/// What the geo commands send to replicas, against what redis-server 7.0.15 sends for the same script: GEOADD as the
/// "zadd" it is rewritten to (flags kept, scores as integers) and only when it changed something, the STORE variants
/// verbatim when they wrote or deleted the destination, the searches never.
/// </summary>
public class GeoPropagationTests
{
    private static readonly string[][] Script =
    [
        ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"], ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        ["GEOADD", "g", "ch", "XX", "13.4", "38.1", "Palermo", "1", "1", "nosuch"], ["GEOADD", "g", "NX", "1", "1", "Palermo", "2", "2", "new"],
        ["GEOADD", "g", "200", "1", "bad"], ["GEOADD", "fresh", "XX", "1", "1", "a"],
        ["GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"], ["GEORADIUS_RO", "g", "15", "37", "300", "km"],
        ["GEORADIUS", "g", "15", "37", "300", "km"], ["GEORADIUS", "g", "15", "37", "300", "km", "STORE", "d"],
        ["GEORADIUSBYMEMBER", "g", "Palermo", "300", "km", "STOREDIST", "d", "COUNT", "1"], ["GEOSEARCHSTORE", "e", "g", "FROMLONLAT", "15", "37", "BYBOX", "500", "500", "km"],
        ["GEOSEARCHSTORE", "e", "g", "FROMLONLAT", "100", "10", "BYRADIUS", "1", "km"], ["GEOSEARCHSTORE", "e", "g", "FROMLONLAT", "100", "10", "BYRADIUS", "1", "km"],
        ["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"],
        ["MULTI"], ["GEOADD", "m", "1", "2", "x"], ["GEOSEARCHSTORE", "m2", "m", "FROMMEMBER", "x", "BYRADIUS", "1", "km", "STOREDIST"], ["EXEC"],
    ];

    [Fact]
    public async Task The_stream_matches_what_redis_sends_its_replicas()
    {
        var (expected, actual) = await PropagationDifferential.CaptureAsync(Script);
        Assert.Contains("zadd g 3479099956230698 Palermo 3479447370796909 Catania", expected);
        Assert.Equal(string.Join('\n', expected), string.Join('\n', actual));
    }
}
