using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Geo;

/// <summary>
/// Random member sets (clusters around random points, the poles' limits, the antimeridian and the origin; members sharing
/// a position, so distances tie; members moved by later adds) of 1 to 3,000 members, and random GEOSEARCH,
/// GEOSEARCHSTORE, GEORADIUS(_RO) and GEORADIUSBYMEMBER(_RO) queries (radius and box, every unit, COUNT with and without
/// ANY, ASC/DESC, WITH*, STORE/STOREDIST) on redis-server 7.0.15 and the node: every reply identical byte for byte,
/// in order, and every stored result identical (ZRANGE WITHSCORES of the destination).
/// </summary>
public class GeoProperties(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[] Units = ["m", "km", "ft", "mi", "KM", "Ft"];

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    [Property(MaxTest = 40)]
    public bool Searches_equal_redis_s(int seed, byte sizeClass, bool resp3)
    {
        var random = new Random(seed);
        int members = (sizeClass % 4) switch
        {
            0 => random.Next(1, 20),
            1 => random.Next(20, 130),
            2 => random.Next(130, 800),
            _ => random.Next(800, 3000),
        };
        (double Lon, double Lat)[] anchors =
        [
            (Lon(random), Lat(random)), (Lon(random), Lat(random)), (0, 85.05112878), (0, -85.05112878), (180, Lat(random)),
            (-180, Lat(random)), (179.9999, 0), (0, 0), (Lon(random), 84.9), (Lon(random), -84.9),
        ];
        using var both = new PairedDifferential(servers, resp3 ? 3 : 2);
        var positions = new List<(string Lon, string Lat)>();
        var names = new List<string>();
        int added = 0;
        while (added < members)
        {
            int batch = Math.Min(members - added, random.Next(1, 200));
            var command = new List<string> { "GEOADD", "g" };
            if (random.Next(6) == 0)
            {
                command.Add(random.Next(2) == 0 ? "NX" : "CH");
            }
            for (int i = 0; i < batch; i++)
            {
                (string Lon, string Lat) position;
                if (positions.Count > 0 && random.Next(5) == 0)
                {
                    // Shares a position: equal distances from any center.
                    position = positions[random.Next(positions.Count)];
                }
                else
                {
                    var anchor = anchors[random.Next(anchors.Length)];
                    double spread = Math.Pow(10, (random.NextDouble() * 6) - 5);
                    double lon = Math.Clamp(anchor.Lon + ((random.NextDouble() - 0.5) * spread), -180, 180);
                    double lat = Math.Clamp(anchor.Lat + ((random.NextDouble() - 0.5) * spread), -85.05112878, 85.05112878);
                    position = random.Next(4) == 0 ? (F(Math.Round(lon, 2)), F(Math.Round(lat, 2))) : (F(lon), F(lat));
                    positions.Add(position);
                }
                // Now and then an existing member moves.
                string name = names.Count > 0 && random.Next(10) == 0 ? names[random.Next(names.Count)] : "p" + names.Count.ToString(CultureInfo.InvariantCulture);
                if (!names.Contains(name))
                {
                    names.Add(name);
                }
                command.AddRange([position.Lon, position.Lat, name]);
            }
            both.Same([.. command]);
            added += batch;
        }
        both.Same("ZRANGE", "g", "0", "-1", "WITHSCORES");

        for (int q = 0; q < 40; q++)
        {
            var anchor = anchors[random.Next(anchors.Length)];
            string lon = F(Math.Clamp(anchor.Lon + ((random.NextDouble() - 0.5) * 0.2), -180, 180));
            string lat = F(Math.Clamp(anchor.Lat + ((random.NextDouble() - 0.5) * 0.2), -85.05112878, 85.05112878));
            if (random.Next(3) == 0)
            {
                (lon, lat) = positions[random.Next(positions.Count)];
            }
            string member = names[random.Next(names.Count)];
            string unit = Units[random.Next(Units.Length)];
            string Size() => F(Math.Round(Math.Pow(10, (random.NextDouble() * 8) - 1) / UnitMeters(unit), random.Next(4)));
            var options = new List<string>();
            bool store = false;
            int kind = random.Next(6);
            if (random.Next(2) == 0)
            {
                options.AddRange(["COUNT", random.Next(1, 40).ToString(CultureInfo.InvariantCulture)]);
                if (random.Next(3) == 0)
                {
                    options.Add("ANY");
                }
            }
            int order = random.Next(3);
            if (order > 0)
            {
                options.Add(order == 1 ? "ASC" : "DESC");
            }
            if (kind is 1 or 3 or 5 && random.Next(2) == 0)
            {
                options.AddRange([random.Next(2) == 0 ? "STORE" : "STOREDIST", "dest"]);
                store = true;
            }
            else if (kind != 5)
            {
                foreach (var with in new[] { "WITHCOORD", "WITHDIST", "WITHHASH" })
                {
                    if (random.Next(2) == 0)
                    {
                        options.Add(with);
                    }
                }
            }
            Shuffle(random, options);
            List<string> command;
            switch (kind)
            {
                case 0 or 1:
                    command = [kind == 0 && random.Next(2) == 0 ? "GEORADIUS_RO" : "GEORADIUS", "g", lon, lat, Size(), unit];
                    break;
                case 2 or 3:
                    command = [kind == 2 && random.Next(2) == 0 ? "GEORADIUSBYMEMBER_RO" : "GEORADIUSBYMEMBER", "g", member, Size(), unit];
                    break;
                default:
                    string[] from = random.Next(2) == 0 ? ["FROMLONLAT", lon, lat] : ["FROMMEMBER", member];
                    string[] by = random.Next(2) == 0 ? ["BYRADIUS", Size(), unit] : ["BYBOX", Size(), Size(), unit];
                    if (kind == 5)
                    {
                        command = ["GEOSEARCHSTORE", "dest", "g", .. from, .. by];
                        if (random.Next(2) == 0)
                        {
                            options.Add("STOREDIST");
                        }
                        store = true;
                    }
                    else
                    {
                        command = ["GEOSEARCH", "g", .. from, .. by];
                    }
                    break;
            }
            both.Same([.. command, .. options]);
            if (store)
            {
                both.Same("ZRANGE", "dest", "0", "-1", "WITHSCORES");
            }
        }
        return true;
    }

    private static double Lon(Random random) => (random.NextDouble() * 360) - 180;

    private static double Lat(Random random) => (random.NextDouble() * 170) - 85;

    private static double UnitMeters(string unit) => unit.ToLowerInvariant() switch
    {
        "km" => 1000,
        "ft" => 0.3048,
        "mi" => 1609.34,
        _ => 1,
    };

    private static void Shuffle(Random random, List<string> options)
    {
        // Keeps each keyword before its argument: shuffles whole option groups.
        var groups = new List<List<string>>();
        for (int i = 0; i < options.Count; i++)
        {
            if (options[i] is "COUNT" or "STORE" or "STOREDIST" && i + 1 < options.Count && options[i + 1] is not ("ANY" or "ASC" or "DESC" or "WITHCOORD" or "WITHDIST" or "WITHHASH" or "COUNT" or "STORE" or "STOREDIST"))
            {
                groups.Add([options[i], options[i + 1]]);
                i++;
            }
            else
            {
                groups.Add([options[i]]);
            }
        }
        options.Clear();
        foreach (var group in groups.OrderBy(_ => random.Next()))
        {
            options.AddRange(group);
        }
    }
}
