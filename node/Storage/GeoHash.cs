namespace CacheOperator.Node.Storage;

/// <summary>
/// Redis 7.0's geohash arithmetic (geohash.c, geohash_helper.c): points as 52-bit interleaved geohashes (26 bits of
/// longitude on the odd bits, 26 of latitude on the even bits, latitude within ±85.05112878 as Web Mercator), the
/// 3x3 neighbour-box cover of a search area, and haversine distances on Redis's earth radius. Every step keeps the C
/// code's integer widths and operation order, so scores, decoded coordinates and distances match redis-server bit for bit.
/// </summary>
public static class GeoHash
{
    /// <summary>Longitude limits.</summary>
    public const double LongMin = -180;

    /// <summary>Longitude limits.</summary>
    public const double LongMax = 180;

    /// <summary>Latitude limits (the Web Mercator square).</summary>
    public const double LatMin = -85.05112878;

    /// <summary>Latitude limits (the Web Mercator square).</summary>
    public const double LatMax = 85.05112878;

    /// <summary>Bits per coordinate of a stored point (GEO_STEP_MAX).</summary>
    public const int StepMax = 26;

    /// <summary>Earth's quadratic mean radius for WGS-84, Redis's EARTH_RADIUS_IN_METERS.</summary>
    public const double EarthRadiusInMeters = 6372797.560856;

    private const double MercatorMax = 20037726.37;
    private const double DegToRad = Math.PI / 180.0;

    /// <summary>A geohash: <see cref="Bits"/> interleaved bits of <see cref="Step"/> bits per coordinate; (0, 0) is "no box".</summary>
    public readonly record struct Hash(ulong Bits, int Step)
    {
        /// <summary>Redis's HASHISZERO.</summary>
        public bool IsZero => Bits == 0 && Step == 0;
    }

    /// <summary>A box in degrees.</summary>
    public readonly record struct Area(double LongMin, double LongMax, double LatMin, double LatMax);

    /// <summary>The shape searched: a circle (radius) or an axis-aligned box (width, height), in the unit given by <see cref="Conversion"/> (meters per unit).</summary>
    public struct Shape
    {
        /// <summary>Center longitude.</summary>
        public double Longitude;

        /// <summary>Center latitude.</summary>
        public double Latitude;

        /// <summary>Meters per unit.</summary>
        public double Conversion;

        /// <summary>True for BYBOX.</summary>
        public bool IsBox;

        /// <summary>Radius (circle), in the unit.</summary>
        public double Radius;

        /// <summary>Width and height (box), in the unit.</summary>
        public double Width;

        /// <summary>Width and height (box), in the unit.</summary>
        public double Height;
    }

    /// <summary>Spreads the 32 bits of <paramref name="x"/> to the even bits and of <paramref name="y"/> to the odd bits (Redis's interleave64).</summary>
    private static ulong Interleave(uint xlo, uint ylo)
    {
        ulong x = xlo;
        ulong y = ylo;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL;
        y = (y | (y << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL;
        y = (y | (y << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL;
        y = (y | (y << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL;
        y = (y | (y << 1)) & 0x5555555555555555UL;
        return x | (y << 1);
    }

    /// <summary>The even bits in the low word and the odd bits in the high word (Redis's deinterleave64).</summary>
    private static ulong Deinterleave(ulong interleaved)
    {
        ulong x = interleaved;
        ulong y = interleaved >> 1;
        x &= 0x5555555555555555UL;
        y &= 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL;
        y = (y | (y >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL;
        y = (y | (y >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL;
        y = (y | (y >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL;
        y = (y | (y >> 16)) & 0x00000000FFFFFFFFUL;
        return x | (y << 32);
    }

    /// <summary>
    /// Redis's geohashEncode: the cell of <paramref name="step"/> bits per coordinate holding the point, within the
    /// given latitude range (WGS84's ±85.05112878, or ±90 for GEOHASH's standard strings). A coordinate exactly on the
    /// range's maximum gives offset 2^step, one bit past the hash (as in Redis, whose scores carry that bit).
    /// </summary>
    public static bool TryEncode(double longitude, double latitude, int step, double latRangeMin, double latRangeMax, out Hash hash)
    {
        hash = default;
        if (step > 32 || step == 0)
        {
            return false;
        }
        if (longitude > 180 || longitude < -180 || latitude > LatMax || latitude < LatMin)
        {
            return false;
        }
        hash = new Hash(0, step);
        if (latitude < latRangeMin || latitude > latRangeMax || longitude < LongMin || longitude > LongMax)
        {
            return false;
        }
        double latOffset = (latitude - latRangeMin) / (latRangeMax - latRangeMin);
        double longOffset = (longitude - LongMin) / (LongMax - LongMin);
        latOffset *= 1UL << step;
        longOffset *= 1UL << step;
        hash = new Hash(Interleave((uint)latOffset, (uint)longOffset), step);
        return true;
    }

    /// <summary>Redis's geohashEncodeWGS84 at full precision, aligned to 52 bits: the sorted-set score of a point.</summary>
    public static ulong Score(double longitude, double latitude)
    {
        TryEncode(longitude, latitude, StepMax, LatMin, LatMax, out var hash);
        return Align52(hash);
    }

    /// <summary>Redis's geohashAlign52Bits.</summary>
    public static ulong Align52(Hash hash) => hash.Bits << (52 - (hash.Step * 2));

    /// <summary>Redis's geohashDecode: the cell of <paramref name="hash"/> in degrees (32-bit cell indexes, as the C code).</summary>
    public static Area Decode(Hash hash, double latRangeMin = LatMin, double latRangeMax = LatMax)
    {
        int step = hash.Step;
        ulong separated = Deinterleave(hash.Bits);
        double latScale = latRangeMax - latRangeMin;
        double longScale = LongMax - LongMin;
        uint latIndex = (uint)separated;
        uint longIndex = (uint)(separated >> 32);
        double cells = 1UL << step;
        return new Area(
            LongMin + (longIndex * 1.0 / cells * longScale),
            LongMin + ((uint)(longIndex + 1) * 1.0 / cells * longScale),
            latRangeMin + (latIndex * 1.0 / cells * latScale),
            latRangeMin + ((uint)(latIndex + 1) * 1.0 / cells * latScale));
    }

    /// <summary>
    /// Redis's decodeGeohash: the point a score stands for, the center of its cell clamped to the valid range. The score
    /// becomes 64 bits the way x86-64 converts a double to uint64 (what redis-server does with any score, geo or not).
    /// </summary>
    public static (double Longitude, double Latitude) DecodeScore(double score)
    {
        var area = Decode(new Hash(DoubleToUInt64(score), StepMax));
        double x = (area.LongMin + area.LongMax) / 2;
        x = Math.Clamp(x, LongMin, LongMax);
        double y = (area.LatMin + area.LatMax) / 2;
        y = Math.Clamp(y, LatMin, LatMax);
        return (x, y);
    }

    /// <summary>C's (uint64_t) cast of a double as gcc compiles it on x86-64 (cvttsd2si, with 2^63 subtracted for large values).</summary>
    private static ulong DoubleToUInt64(double value)
    {
        const double TwoTo63 = 9223372036854775808.0;
        return value < TwoTo63 ? (ulong)Truncate(value) : (ulong)Truncate(value - TwoTo63) ^ 0x8000000000000000UL;

        // cvttsd2si: the "integer indefinite" value for NaN and out-of-range inputs.
        static long Truncate(double v) => double.IsNaN(v) || v >= TwoTo63 || v < -TwoTo63 ? long.MinValue : (long)v;
    }

    /// <summary>Redis's geohashGetDistance: haversine great-circle distance in meters.</summary>
    public static double Distance(double lon1d, double lat1d, double lon2d, double lat2d)
    {
        double lat1r = lat1d * DegToRad;
        double lon1r = lon1d * DegToRad;
        double lat2r = lat2d * DegToRad;
        double lon2r = lon2d * DegToRad;
        double u = Math.Sin((lat2r - lat1r) / 2);
        double v = Math.Sin((lon2r - lon1r) / 2);
        return 2.0 * EarthRadiusInMeters * Math.Asin(Math.Sqrt((u * u) + (Math.Cos(lat1r) * Math.Cos(lat2r) * v * v)));
    }

    /// <summary>
    /// Redis's geoWithinShape: whether the point of <paramref name="score"/> lies in the shape, its coordinates and its
    /// distance from the center in meters (circle: haversine against the radius; box: east-west and north-south distances
    /// against half the width and height).
    /// </summary>
    public static bool WithinShape(in Shape shape, double score, out double longitude, out double latitude, out double distance)
    {
        (longitude, latitude) = DecodeScore(score);
        if (!shape.IsBox)
        {
            distance = Distance(shape.Longitude, shape.Latitude, longitude, latitude);
            return distance <= shape.Radius * shape.Conversion;
        }
        distance = 0;
        double widthM = shape.Width * shape.Conversion;
        double heightM = shape.Height * shape.Conversion;
        double lonDistance = Distance(longitude, latitude, shape.Longitude, latitude);
        double latDistance = Distance(longitude, latitude, longitude, shape.Latitude);
        if (lonDistance > widthM / 2 || latDistance > heightM / 2)
        {
            return false;
        }
        distance = Distance(shape.Longitude, shape.Latitude, longitude, latitude);
        return true;
    }

    /// <summary>Redis's geohashEstimateStepsByRadius: coarser cells for larger radii, and near the poles.</summary>
    private static int EstimateStepsByRadius(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0)
        {
            return 26;
        }
        int step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }
        step -= 2;
        if (latitude > 66 || latitude < -66)
        {
            step--;
            if (latitude > 80 || latitude < -80)
            {
                step--;
            }
        }
        return Math.Clamp(step, 1, 26);
    }

    /// <summary>Redis's geohash_move_x: the cell east (+1) or west (-1), wrapping around.</summary>
    private static Hash MoveX(Hash hash, int d)
    {
        if (d == 0)
        {
            return hash;
        }
        ulong x = hash.Bits & 0xaaaaaaaaaaaaaaaaUL;
        ulong y = hash.Bits & 0x5555555555555555UL;
        int shift = 64 - (hash.Step * 2);
        ulong zz = 0x5555555555555555UL >> shift;
        if (d > 0)
        {
            x += zz + 1;
        }
        else
        {
            x |= zz;
            x -= zz + 1;
        }
        x &= 0xaaaaaaaaaaaaaaaaUL >> shift;
        return hash with { Bits = x | y };
    }

    /// <summary>Redis's geohash_move_y: the cell north (+1) or south (-1), wrapping around.</summary>
    private static Hash MoveY(Hash hash, int d)
    {
        if (d == 0)
        {
            return hash;
        }
        ulong x = hash.Bits & 0xaaaaaaaaaaaaaaaaUL;
        ulong y = hash.Bits & 0x5555555555555555UL;
        int shift = 64 - (hash.Step * 2);
        ulong zz = 0xaaaaaaaaaaaaaaaaUL >> shift;
        if (d > 0)
        {
            y += zz + 1;
        }
        else
        {
            y |= zz;
            y -= zz + 1;
        }
        y &= 0x5555555555555555UL >> shift;
        return hash with { Bits = x | y };
    }

    /// <summary>
    /// Redis's geohashCalculateAreasByShapeWGS84: the nine cells (center, N, S, E, W, NE, NW, SE, SW, in the order
    /// Redis searches them) that cover the shape's bounding box, with the useless ones zeroed.
    /// </summary>
    public static Hash[] AreasByShape(in Shape shape)
    {
        // geohashBoundingBox.
        double height = shape.Conversion * (shape.IsBox ? shape.Height / 2 : shape.Radius);
        double width = shape.Conversion * (shape.IsBox ? shape.Width / 2 : shape.Radius);
        double longitude = shape.Longitude;
        double latitude = shape.Latitude;
        double latDelta = height / EarthRadiusInMeters / DegToRad;
        double longDeltaTop = width / EarthRadiusInMeters / Math.Cos((latitude + latDelta) * DegToRad) / DegToRad;
        double longDeltaBottom = width / EarthRadiusInMeters / Math.Cos((latitude - latDelta) * DegToRad) / DegToRad;
        bool southern = latitude < 0;
        double minLon = southern ? longitude - longDeltaBottom : longitude - longDeltaTop;
        double maxLon = southern ? longitude + longDeltaBottom : longitude + longDeltaTop;
        double minLat = latitude - latDelta;
        double maxLat = latitude + latDelta;

        double radiusMeters = shape.IsBox
            ? Math.Sqrt((shape.Width / 2 * (shape.Width / 2)) + (shape.Height / 2 * (shape.Height / 2)))
            : shape.Radius;
        radiusMeters *= shape.Conversion;

        int steps = EstimateStepsByRadius(radiusMeters, latitude);
        TryEncode(longitude, latitude, steps, LatMin, LatMax, out var hash);
        var n = Neighbors(hash);
        var area = Decode(hash);

        // A step may still be too coarse when the search area is near an edge of the center cell.
        var north = Decode(n[1]);
        var south = Decode(n[2]);
        var east = Decode(n[3]);
        var west = Decode(n[4]);
        bool decrease = north.LatMax < maxLat || south.LatMin > minLat || east.LongMax < maxLon || west.LongMin > minLon;
        if (steps > 1 && decrease)
        {
            steps--;
            TryEncode(longitude, latitude, steps, LatMin, LatMax, out hash);
            n = Neighbors(hash);
            area = Decode(hash);
        }

        // Exclude the cells that cannot hold anything.
        if (steps >= 2)
        {
            if (area.LatMin < minLat)
            {
                n[2] = n[8] = n[7] = default;
            }
            if (area.LatMax > maxLat)
            {
                n[1] = n[5] = n[6] = default;
            }
            if (area.LongMin < minLon)
            {
                n[4] = n[8] = n[6] = default;
            }
            if (area.LongMax > maxLon)
            {
                n[3] = n[7] = n[5] = default;
            }
        }
        return n;
    }

    /// <summary>The cell and its eight neighbours in Redis's search order: self, N, S, E, W, NE, NW, SE, SW.</summary>
    private static Hash[] Neighbors(Hash hash) =>
    [
        hash,
        MoveY(hash, 1),
        MoveY(hash, -1),
        MoveX(hash, 1),
        MoveX(hash, -1),
        MoveY(MoveX(hash, 1), 1),
        MoveY(MoveX(hash, -1), 1),
        MoveY(MoveX(hash, 1), -1),
        MoveY(MoveX(hash, -1), -1),
    ];

    /// <summary>
    /// GEOHASH's 11-character string: the point re-encoded on the standard ±90 latitude range, 5 bits per base-32
    /// character, the 11th always '0' (52 bits only), as Redis's geohashCommand.
    /// </summary>
    public static void StandardString(double score, Span<byte> destination)
    {
        ReadOnlySpan<byte> alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"u8;
        var (x, y) = DecodeScore(score);
        TryEncode(x, y, 26, -90, 90, out var hash);
        for (int i = 0; i < 11; i++)
        {
            int index = i == 10 ? 0 : (int)((hash.Bits >> (52 - ((i + 1) * 5))) & 0x1f);
            destination[i] = alphabet[index];
        }
    }
}
