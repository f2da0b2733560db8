using System.Runtime.InteropServices;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The geo family (Redis 7.0's geo.c): points kept as members of sorted sets scored by their 52-bit geohash
/// (<see cref="GeoHash"/>). GEOADD is ZADD with computed scores; the searches read the nine geohash cells that cover
/// the shape, keep the members inside it, and order them as Redis does (glibc's stable qsort, or Redis's pqsort for a
/// COUNT smaller than the matches).
/// </summary>
internal static class GeoCommands
{
    private const string RadiusComplexity = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
    private const string SearchComplexity = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
    private const string RadiusOptions = "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]";
    private const string SearchFrom = "<FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius <M | KM | FT | MI> | BYBOX width height <M | KM | FT | MI>> [ASC | DESC] [COUNT count [ANY]]";

    public static IEnumerable<CommandSpec> All =>
    [
        Write("geoadd", -5, GeoAdd, [KeySpec.Range("RW update", 1)], "3.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
            "Add one or more geospatial items in the geospatial index represented using a sorted set",
            "key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]"),
        Read("geodist", -4, GeoDist, "3.2.0", "O(log(N))", "Returns the distance between two members of a geospatial index", "key member1 member2 [M | KM | FT | MI]"),
        Read("geohash", -2, GeoHashCommand, "3.2.0", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
            "Returns members of a geospatial index as standard geohash strings", "key [member [member ...]]"),
        Read("geopos", -2, GeoPos, "3.2.0", "O(N) where N is the number of members requested.",
            "Returns longitude and latitude of members of a geospatial index", "key [member [member ...]]"),
        Write("georadius", -6, GeoRadius,
            [KeySpec.Range("RO access", 1), KeySpec.KeywordRange("OW update", "STORE", 6), KeySpec.KeywordRange("OW update", "STOREDIST", 6)], "3.2.0", RadiusComplexity,
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
            "key longitude latitude radius <M | KM | FT | MI> " + RadiusOptions + " [STORE key | STOREDIST key]", "deprecated"),
        Read("georadius_ro", -6, GeoRadiusReadOnly, "3.2.10", RadiusComplexity, "A read-only variant for GEORADIUS",
            "key longitude latitude radius <M | KM | FT | MI> " + RadiusOptions, "deprecated"),
        Write("georadiusbymember", -5, GeoRadiusByMember,
            [KeySpec.Range("RO access", 1), KeySpec.KeywordRange("OW update", "STORE", 5), KeySpec.KeywordRange("OW update", "STOREDIST", 5)], "3.2.0", RadiusComplexity,
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
            "key member radius <M | KM | FT | MI> " + RadiusOptions + " [STORE key | STOREDIST key]", "deprecated"),
        Read("georadiusbymember_ro", -5, GeoRadiusByMemberReadOnly, "3.2.10", RadiusComplexity, "A read-only variant for GEORADIUSBYMEMBER",
            "key member radius <M | KM | FT | MI> " + RadiusOptions, "deprecated"),
        Read("geosearch", -7, GeoSearch, "6.2.0", SearchComplexity,
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
            "key " + SearchFrom + " [WITHCOORD] [WITHDIST] [WITHHASH]"),
        Write("geosearchstore", -8, GeoSearchStore, [KeySpec.Range("OW update", 1), KeySpec.Range("RO access", 2)], "6.2.0", SearchComplexity,
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
            "destination source " + SearchFrom + " [STOREDIST]"),
    ];

    private static CommandSpec Read(string name, int arity, CommandHandler handler, string since, string complexity, string summary, string syntax, string docFlags = "") =>
        new(name, arity, handler)
        {
            Flags = CommandFlags.ReadOnly,
            KeySpecs = [KeySpec.Range("RO access", 1)],
            Acl = "@read @geo @slow",
            Since = since,
            Complexity = complexity,
            Summary = summary,
            Syntax = syntax,
            DocFlags = docFlags,
        };

    private static CommandSpec Write(string name, int arity, CommandHandler handler, KeySpec[] keys, string since, string complexity, string summary, string syntax, string docFlags = "") =>
        new(name, arity, handler)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom,
            KeySpecs = keys,
            Acl = "@write @geo @slow",
            Since = since,
            Complexity = complexity,
            Summary = summary,
            Syntax = syntax,
            DocFlags = docFlags,
        };

    // ---- Argument helpers (Redis's extractLongLatOrReply, extractUnitOrReply, extractDistanceOrReply, extractBoxOrReply) ----

    /// <summary>Longitude and latitude from <paramref name="at"/>, within the Web Mercator limits; writes Redis's error otherwise.</summary>
    private static bool TryLongLat(Session s, ArgList a, int at, out double longitude, out double latitude)
    {
        latitude = 0;
        if (!TryDouble(s, a[at], out longitude, Errors.NotFloat) || !TryDouble(s, a[at + 1], out latitude, Errors.NotFloat))
        {
            return false;
        }
        if (longitude < GeoHash.LongMin || longitude > GeoHash.LongMax || latitude < GeoHash.LatMin || latitude > GeoHash.LatMax)
        {
            Span<byte> text = stackalloc byte[800];
            int n = NumberFormat.FormatFixed(longitude, 6, text);
            text[n++] = (byte)',';
            n += NumberFormat.FormatFixed(latitude, 6, text[n..]);
            s.Reply.WriteError("ERR invalid longitude,latitude pair " + Encoding.ASCII.GetString(text[..n]));
            return false;
        }
        return true;
    }

    /// <summary>A double as Redis's getDoubleFromObjectOrReply reads it, with its error text.</summary>
    private static bool TryDouble(Session s, ReadOnlySpan<byte> text, out double value, string error)
    {
        if (SortedSetCommands.TryParseScore(text, out value))
        {
            return true;
        }
        s.Reply.WriteError(error);
        return false;
    }

    /// <summary>Meters per unit (m, km, ft, mi in any case), or a negative value after writing Redis's error.</summary>
    private static double UnitOrReply(Session s, ReadOnlySpan<byte> unit)
    {
        double meters = Ascii.EqualsIgnoreCase(unit, "m"u8) ? 1
            : Ascii.EqualsIgnoreCase(unit, "km"u8) ? 1000
            : Ascii.EqualsIgnoreCase(unit, "ft"u8) ? 0.3048
            : Ascii.EqualsIgnoreCase(unit, "mi"u8) ? 1609.34
            : -1;
        if (meters < 0)
        {
            s.Reply.WriteError("ERR unsupported unit provided. please use M, KM, FT, MI");
        }
        return meters;
    }

    /// <summary>"radius unit" from <paramref name="at"/> into the shape.</summary>
    private static bool TryRadius(Session s, ArgList a, int at, ref GeoHash.Shape shape)
    {
        if (!TryDouble(s, a[at], out double radius, "ERR need numeric radius"))
        {
            return false;
        }
        if (radius < 0)
        {
            s.Reply.WriteError("ERR radius cannot be negative");
            return false;
        }
        double conversion = UnitOrReply(s, a[at + 1]);
        if (conversion < 0)
        {
            return false;
        }
        shape.IsBox = false;
        shape.Radius = radius;
        shape.Conversion = conversion;
        return true;
    }

    /// <summary>"width height unit" from <paramref name="at"/> into the shape.</summary>
    private static bool TryBox(Session s, ArgList a, int at, ref GeoHash.Shape shape)
    {
        if (!TryDouble(s, a[at], out double width, "ERR need numeric width") || !TryDouble(s, a[at + 1], out double height, "ERR need numeric height"))
        {
            return false;
        }
        if (height < 0 || width < 0)
        {
            s.Reply.WriteError("ERR height or width cannot be negative");
            return false;
        }
        double conversion = UnitOrReply(s, a[at + 2]);
        if (conversion < 0)
        {
            return false;
        }
        shape.IsBox = true;
        shape.Width = width;
        shape.Height = height;
        shape.Conversion = conversion;
        return true;
    }

    /// <summary>Redis's "%.4f" distance, a bulk string in both protocols (addReplyDoubleDistance).</summary>
    private static void WriteDistance(ReplyWriter reply, double distance)
    {
        Span<byte> text = stackalloc byte[400];
        reply.WriteBulk(text[..NumberFormat.FormatFixed(distance, 4, text)]);
    }

    // ---- GEOADD, GEODIST, GEOHASH, GEOPOS ----------------------------------------------------

    /// <summary>GEOADD key [NX|XX] [CH] lon lat member ...: ZADD of the members with their geohash scores (propagated as that ZADD).</summary>
    private static void GeoAdd(Session s, ArgList a)
    {
        bool nx = false;
        bool xx = false;
        bool ch = false;
        int first = 2;
        for (; first < a.Count; first++)
        {
            if (a.Is(first, "NX"u8))
            {
                nx = true;
            }
            else if (a.Is(first, "XX"u8))
            {
                xx = true;
            }
            else if (a.Is(first, "CH"u8))
            {
                ch = true;
            }
            else
            {
                break;
            }
        }
        int elements = (a.Count - first) / 3;
        if ((a.Count - first) % 3 != 0 || (nx && xx) || elements == 0)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        Span<double> scores = elements <= 32 ? stackalloc double[elements] : new double[elements];
        for (int i = 0; i < elements; i++)
        {
            if (!TryLongLat(s, a, first + (3 * i), out double longitude, out double latitude))
            {
                return;
            }
            scores[i] = GeoHash.Score(longitude, latitude);
        }
        if (s.Server.Propagator.Rewrite("zadd"u8) is { } zadd)
        {
            for (int i = 1; i < first; i++)
            {
                zadd.Add(a[i]);
            }
            for (int i = 0; i < elements; i++)
            {
                zadd.Add((long)scores[i]).Add(a[first + (3 * i) + 2]);
            }
        }
        SortedSetCommands.AddGeoScored(s, a, first, scores, nx, xx, ch);
    }

    private static void GeoDist(Session s, ArgList a)
    {
        double toMeters = 1;
        if (a.Count == 5)
        {
            toMeters = UnitOrReply(s, a[4]);
            if (toMeters < 0)
            {
                return;
            }
        }
        else if (a.Count > 5)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (!SortedSetCommands.TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        if (set is null || !set.TryGetScore(a[2], out double score1) || !set.TryGetScore(a[3], out double score2))
        {
            s.Reply.WriteNullBulk();
            return;
        }
        var (lon1, lat1) = GeoHash.DecodeScore(score1);
        var (lon2, lat2) = GeoHash.DecodeScore(score2);
        WriteDistance(s.Reply, GeoHash.Distance(lon1, lat1, lon2, lat2) / toMeters);
    }

    private static void GeoHashCommand(Session s, ArgList a)
    {
        if (!SortedSetCommands.TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        s.Reply.WriteArrayHeader(a.Count - 2);
        Span<byte> text = stackalloc byte[11];
        for (int j = 2; j < a.Count; j++)
        {
            if (set is null || !set.TryGetScore(a[j], out double score))
            {
                s.Reply.WriteNullBulk();
                continue;
            }
            GeoHash.StandardString(score, text);
            s.Reply.WriteBulk(text);
        }
    }

    private static void GeoPos(Session s, ArgList a)
    {
        if (!SortedSetCommands.TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        s.Reply.WriteArrayHeader(a.Count - 2);
        for (int j = 2; j < a.Count; j++)
        {
            if (set is null || !set.TryGetScore(a[j], out double score))
            {
                s.Reply.WriteNullArray();
                continue;
            }
            var (longitude, latitude) = GeoHash.DecodeScore(score);
            s.Reply.WriteArrayHeader(2);
            s.Reply.WriteHumanDouble(longitude);
            s.Reply.WriteHumanDouble(latitude);
        }
    }

    // ---- The searches (Redis's georadiusGeneric) ---------------------------------------------

    [Flags]
    private enum SearchFlags
    {
        /// <summary>Around coordinates (GEORADIUS).</summary>
        Coords = 1,

        /// <summary>Around a member (GEORADIUSBYMEMBER).</summary>
        Member = 2,

        /// <summary>STORE and STOREDIST refused (the _RO variants).</summary>
        NoStore = 4,

        /// <summary>GEOSEARCH's syntax.</summary>
        Search = 8,

        /// <summary>GEOSEARCHSTORE: destination first, STOREDIST as a flag.</summary>
        SearchStore = 16,
    }

    private enum Order
    {
        None,
        Ascending,
        Descending,
    }

    private static void GeoRadius(Session s, ArgList a) => Search(s, a, 1, SearchFlags.Coords);

    private static void GeoRadiusReadOnly(Session s, ArgList a) => Search(s, a, 1, SearchFlags.Coords | SearchFlags.NoStore);

    private static void GeoRadiusByMember(Session s, ArgList a) => Search(s, a, 1, SearchFlags.Member);

    private static void GeoRadiusByMemberReadOnly(Session s, ArgList a) => Search(s, a, 1, SearchFlags.Member | SearchFlags.NoStore);

    private static void GeoSearch(Session s, ArgList a) => Search(s, a, 1, SearchFlags.Search);

    private static void GeoSearchStore(Session s, ArgList a) => Search(s, a, 2, SearchFlags.Search | SearchFlags.SearchStore);

    /// <summary>The position of <paramref name="member"/> of <paramref name="set"/> as the shape's center; Redis's error when absent.</summary>
    private static bool TryCenterAtMember(Session s, SortedSetValue set, ReadOnlySpan<byte> member, ref GeoHash.Shape shape)
    {
        if (!set.TryGetScore(member, out double score))
        {
            s.Reply.WriteError("ERR could not decode requested zset member");
            return false;
        }
        (shape.Longitude, shape.Latitude) = GeoHash.DecodeScore(score);
        return true;
    }

    private static void Search(Session s, ArgList a, int sourceIndex, SearchFlags flags)
    {
        if (!SortedSetCommands.TryFind(s, a[sourceIndex], forWrite: false, out var set, out _))
        {
            return;
        }
        int storeIndex = -1;
        bool storeDist = false;
        var shape = default(GeoHash.Shape);
        int baseArgs;
        if ((flags & SearchFlags.Coords) != 0)
        {
            baseArgs = 6;
            if (!TryLongLat(s, a, 2, out shape.Longitude, out shape.Latitude) || !TryRadius(s, a, 4, ref shape))
            {
                return;
            }
        }
        else if ((flags & SearchFlags.Member) != 0)
        {
            // Without a source key, the options are still parsed (for the reply's shape) but the center and radius are not.
            baseArgs = 5;
            if (set is not null && (!TryCenterAtMember(s, set, a[2], ref shape) || !TryRadius(s, a, 3, ref shape)))
            {
                return;
            }
        }
        else
        {
            baseArgs = 2;
            if ((flags & SearchFlags.SearchStore) != 0)
            {
                baseArgs = 3;
                storeIndex = 1;
            }
        }

        bool withDist = false;
        bool withHash = false;
        bool withCoords = false;
        bool fromMember = false;
        bool fromLonLat = false;
        bool byRadius = false;
        bool byBox = false;
        bool any = false;
        var order = Order.None;
        long count = 0;
        bool search = (flags & SearchFlags.Search) != 0;
        bool storable = (flags & (SearchFlags.NoStore | SearchFlags.Search)) == 0;
        int remaining = a.Count - baseArgs;
        for (int i = 0; i < remaining; i++)
        {
            int at = baseArgs + i;
            if (a.Is(at, "WITHDIST"u8))
            {
                withDist = true;
            }
            else if (a.Is(at, "WITHHASH"u8))
            {
                withHash = true;
            }
            else if (a.Is(at, "WITHCOORD"u8))
            {
                withCoords = true;
            }
            else if (a.Is(at, "ANY"u8))
            {
                any = true;
            }
            else if (a.Is(at, "ASC"u8))
            {
                order = Order.Ascending;
            }
            else if (a.Is(at, "DESC"u8))
            {
                order = Order.Descending;
            }
            else if (a.Is(at, "COUNT"u8) && i + 1 < remaining)
            {
                if (!s.TryParseLong(a[at + 1], out count))
                {
                    return;
                }
                if (count <= 0)
                {
                    s.Reply.WriteError("ERR COUNT must be > 0");
                    return;
                }
                i++;
            }
            else if (a.Is(at, "STORE"u8) && i + 1 < remaining && storable)
            {
                storeIndex = at + 1;
                storeDist = false;
                i++;
            }
            else if (a.Is(at, "STOREDIST"u8) && i + 1 < remaining && storable)
            {
                storeIndex = at + 1;
                storeDist = true;
                i++;
            }
            else if (a.Is(at, "STOREDIST"u8) && (flags & SearchFlags.SearchStore) != 0)
            {
                storeDist = true;
            }
            else if (a.Is(at, "FROMMEMBER"u8) && i + 1 < remaining && search && !fromLonLat)
            {
                // Without a source key the member is not looked up: the reply is empty (or 0) anyway.
                if (set is not null && !TryCenterAtMember(s, set, a[at + 1], ref shape))
                {
                    return;
                }
                fromMember = true;
                i++;
            }
            else if (a.Is(at, "FROMLONLAT"u8) && i + 2 < remaining && search && !fromMember)
            {
                if (!TryLongLat(s, a, at + 1, out shape.Longitude, out shape.Latitude))
                {
                    return;
                }
                fromLonLat = true;
                i += 2;
            }
            else if (a.Is(at, "BYRADIUS"u8) && i + 2 < remaining && search && !byBox)
            {
                if (!TryRadius(s, a, at + 1, ref shape))
                {
                    return;
                }
                byRadius = true;
                i += 2;
            }
            else if (a.Is(at, "BYBOX"u8) && i + 3 < remaining && search && !byRadius)
            {
                if (!TryBox(s, a, at + 1, ref shape))
                {
                    return;
                }
                byBox = true;
                i += 3;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }

        if (storeIndex >= 0 && (withDist || withHash || withCoords))
        {
            s.Reply.WriteError((flags & SearchFlags.SearchStore) != 0
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }
        if (search && !(fromMember || fromLonLat))
        {
            s.Reply.WriteError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + a.GetString(0));
            return;
        }
        if (search && !(byRadius || byBox))
        {
            s.Reply.WriteError("ERR exactly one of BYRADIUS and BYBOX can be specified for " + a.GetString(0));
            return;
        }
        if (any && count == 0)
        {
            s.Reply.WriteError("ERR the ANY argument requires COUNT argument");
            return;
        }

        if (set is null)
        {
            if (storeIndex >= 0)
            {
                if (s.Db.Delete(a[storeIndex]))
                {
                    s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[storeIndex]);
                }
                s.Reply.WriteInteger(0);
            }
            else
            {
                s.Reply.WriteArrayHeader(0);
            }
            return;
        }

        // COUNT without an order returns the closest: ascending, unless ANY asked for the first found.
        if (count != 0 && order == Order.None && !any)
        {
            order = Order.Ascending;
        }
        var points = new List<GeoPoint>();
        CollectInShape(set, shape, points, any ? count : 0);
        if (points.Count == 0 && storeIndex < 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        int returned = count == 0 || points.Count < count ? points.Count : (int)count;
        var array = CollectionsMarshal.AsSpan(points);
        if (order != Order.None)
        {
            if (returned == points.Count)
            {
                StableSortByDistance(array, order == Order.Descending);
            }
            else
            {
                PartialSort.Sort(array, order == Order.Descending, 0, returned - 1);
            }
        }
        if (storeIndex < 0)
        {
            WriteResults(s.Reply, array[..returned], shape.Conversion, withDist, withHash, withCoords);
        }
        else
        {
            StoreResults(s, a[storeIndex], array[..returned], shape.Conversion, storeDist, (flags & SearchFlags.Search) != 0);
        }
    }

    /// <summary>A member found inside the shape (Redis's geoPoint).</summary>
    internal struct GeoPoint
    {
        public byte[] Member;
        public double Score;
        public double Distance;
        public double Longitude;
        public double Latitude;
    }

    /// <summary>The first element at or above a score.</summary>
    private readonly struct ScoreAtLeast(double min) : ISortedSetBound
    {
        public bool IsBefore(double score, ReadOnlySpan<byte> member) => score < min;
    }

    /// <summary>
    /// Redis's membersOfAllNeighbors: each of the nine cells in order (zeroed ones skipped, and one equal to the last
    /// searched, except after the center cell, as Redis's check does), its members by score from the cell's first 52-bit
    /// score (included) to the next cell's (excluded), kept when inside the shape; stops at <paramref name="limit"/> (ANY).
    /// </summary>
    private static void CollectInShape(SortedSetValue set, in GeoHash.Shape shape, List<GeoPoint> points, long limit)
    {
        var cells = GeoHash.AreasByShape(shape);
        int lastProcessed = 0;
        for (int i = 0; i < cells.Length; i++)
        {
            var cell = cells[i];
            if (cell.IsZero)
            {
                continue;
            }
            if (lastProcessed != 0 && cell == cells[lastProcessed])
            {
                continue;
            }
            if (points.Count > 0 && limit != 0 && points.Count >= limit)
            {
                break;
            }
            double min = GeoHash.Align52(cell);
            double max = GeoHash.Align52(cell with { Bits = cell.Bits + 1 });
            var reader = set.Read(set.CountBefore(new ScoreAtLeast(min)), descending: false);
            while (reader.Next(out var member, out double score) && score < max)
            {
                if (GeoHash.WithinShape(shape, score, out double longitude, out double latitude, out double distance))
                {
                    points.Add(new GeoPoint { Member = member, Score = score, Distance = distance, Longitude = longitude, Latitude = latitude });
                }
                if (points.Count > 0 && limit != 0 && points.Count >= limit)
                {
                    break;
                }
            }
            lastProcessed = i;
        }
    }

    /// <summary>glibc's qsort (a merge sort, so stable) with Redis's sort_gp_asc/sort_gp_desc comparators.</summary>
    private static void StableSortByDistance(Span<GeoPoint> points, bool descending)
    {
        if (points.Length < 2)
        {
            return;
        }
        var scratch = new GeoPoint[points.Length];
        MergeSort(points, scratch, descending);
    }

    private static void MergeSort(Span<GeoPoint> points, Span<GeoPoint> scratch, bool descending)
    {
        if (points.Length < 2)
        {
            return;
        }
        int half = points.Length / 2;
        MergeSort(points[..half], scratch, descending);
        MergeSort(points[half..], scratch, descending);
        int left = 0;
        int right = half;
        int at = 0;
        while (left < half && right < points.Length)
        {
            // The left run wins ties: equal distances keep the order the cells gave.
            scratch[at++] = PartialSort.Compare(points[left], points[right], descending) <= 0 ? points[left++] : points[right++];
        }
        while (left < half)
        {
            scratch[at++] = points[left++];
        }
        while (right < points.Length)
        {
            scratch[at++] = points[right++];
        }
        scratch[..at].CopyTo(points);
    }

    /// <summary>
    /// Redis's pqsort.c (NetBSD's qsort, Bentley and McIlroy, sorting only the partitions that overlap the wanted
    /// ranks), ported step for step so that equal distances end up in the order Redis's do. As in the pqsort.c of
    /// Redis 7.0 (measured against redis-server 7.0.15), without NetBSD's switch to insertion sort after a partition
    /// pass that swapped nothing.
    /// </summary>
    internal static class PartialSort
    {
        /// <summary>sort_gp_asc, or its negation.</summary>
        public static int Compare(in GeoPoint a, in GeoPoint b, bool descending)
        {
            int asc = a.Distance > b.Distance ? 1 : a.Distance == b.Distance ? 0 : -1;
            return descending ? -asc : asc;
        }

        public static void Sort(Span<GeoPoint> all, bool descending, int lrange, int rrange) => Sort(all, 0, all.Length, descending, lrange, rrange);

        private static int Med3(Span<GeoPoint> p, int a, int b, int c, bool d) =>
            Compare(p[a], p[b], d) < 0
                ? (Compare(p[b], p[c], d) < 0 ? b : (Compare(p[a], p[c], d) < 0 ? c : a))
                : (Compare(p[b], p[c], d) > 0 ? b : (Compare(p[a], p[c], d) < 0 ? a : c));

        private static void Swap(Span<GeoPoint> p, int a, int b) => (p[a], p[b]) = (p[b], p[a]);

        private static void VecSwap(Span<GeoPoint> p, int a, int b, int n)
        {
            for (int i = 0; i < n; i++)
            {
                Swap(p, a + i, b + i);
            }
        }

        private static void InsertionSort(Span<GeoPoint> p, int a, int n, bool d)
        {
            for (int pm = a + 1; pm < a + n; pm++)
            {
                for (int pl = pm; pl > a && Compare(p[pl - 1], p[pl], d) > 0; pl--)
                {
                    Swap(p, pl, pl - 1);
                }
            }
        }

        /// <summary>Whether the wanted ranks [lrange, rrange] meet the elements [start, start + n).</summary>
        private static bool Overlaps(int start, int n, int lrange, int rrange) => !(rrange < start || lrange >= start + n);

        private static void Sort(Span<GeoPoint> p, int a, int n, bool d, int lrange, int rrange)
        {
            while (true)
            {
                if (n < 7)
                {
                    InsertionSort(p, a, n, d);
                    return;
                }
                int pm = a + (n / 2);
                if (n > 7)
                {
                    int pl = a;
                    int pn = a + n - 1;
                    if (n > 40)
                    {
                        int step = n / 8;
                        pl = Med3(p, pl, pl + step, pl + (2 * step), d);
                        pm = Med3(p, pm - step, pm, pm + step, d);
                        pn = Med3(p, pn - (2 * step), pn - step, pn, d);
                    }
                    pm = Med3(p, pl, pm, pn, d);
                }
                Swap(p, a, pm);
                int pa = a + 1;
                int pb = pa;
                int pc = a + n - 1;
                int pd = pc;
                while (true)
                {
                    int result;
                    while (pb <= pc && (result = Compare(p[pb], p[a], d)) <= 0)
                    {
                        if (result == 0)
                        {
                            Swap(p, pa, pb);
                            pa++;
                        }
                        pb++;
                    }
                    while (pb <= pc && (result = Compare(p[pc], p[a], d)) >= 0)
                    {
                        if (result == 0)
                        {
                            Swap(p, pc, pd);
                            pd--;
                        }
                        pc--;
                    }
                    if (pb > pc)
                    {
                        break;
                    }
                    Swap(p, pb, pc);
                    pb++;
                    pc--;
                }
                int end = a + n;
                int r = Math.Min(pa - a, pb - pa);
                VecSwap(p, a, pb - r, r);
                r = Math.Min(pd - pc, end - pd - 1);
                VecSwap(p, pb, end - r, r);
                if ((r = pb - pa) > 1 && Overlaps(a, r, lrange, rrange))
                {
                    Sort(p, a, r, d, lrange, rrange);
                }
                if ((r = pd - pc) > 1)
                {
                    // Iterate rather than recurse, as the C code does.
                    a = end - r;
                    n = r;
                    if (Overlaps(a, n, lrange, rrange))
                    {
                        continue;
                    }
                }
                return;
            }
        }
    }

    private static void WriteResults(ReplyWriter reply, ReadOnlySpan<GeoPoint> points, double conversion, bool withDist, bool withHash, bool withCoords)
    {
        int options = (withDist ? 1 : 0) + (withCoords ? 1 : 0) + (withHash ? 1 : 0);
        reply.WriteArrayHeader(points.Length);
        foreach (ref readonly var point in points)
        {
            if (options > 0)
            {
                reply.WriteArrayHeader(options + 1);
            }
            reply.WriteBulk(point.Member);
            if (withDist)
            {
                WriteDistance(reply, point.Distance / conversion);
            }
            if (withHash)
            {
                reply.WriteInteger((long)point.Score);
            }
            if (withCoords)
            {
                reply.WriteArrayHeader(2);
                reply.WriteHumanDouble(point.Longitude);
                reply.WriteHumanDouble(point.Latitude);
            }
        }
    }

    /// <summary>
    /// STORE/STOREDIST/GEOSEARCHSTORE: the results become a sorted set at the destination (scored by geohash or by distance
    /// in the unit), replacing whatever was there; none deletes it. Redis counts one change per member stored.
    /// </summary>
    private static void StoreResults(Session s, ReadOnlySpan<byte> destination, ReadOnlySpan<GeoPoint> points, double conversion, bool storeDist, bool search)
    {
        if (points.Length > 0)
        {
            var result = SortedSetValue.CreateSkipList(s.Keyspace.EncodingLimits);
            foreach (ref readonly var point in points)
            {
                // Redis would assert on a duplicate member; keep the first.
                if (!result.TryGetScore(point.Member, out _))
                {
                    result.Add(point.Member, storeDist ? point.Distance / conversion : point.Score);
                }
            }
            result.CompactIfSmall();
            s.Db.Set(destination, result);
            s.Db.Notify(KeyspaceEventTypes.SortedSet, search ? "geosearchstore"u8 : "georadiusstore"u8, destination);
            s.Db.CountChanges(points.Length);
        }
        else if (s.Db.Delete(destination))
        {
            s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, destination);
        }
        s.Reply.WriteInteger(points.Length);
    }
}
