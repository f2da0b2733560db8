using System.Globalization;
using System.Text;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>
/// LOLWUT, Redis's computer-art command: by default the version line, with VERSION 5 Georg Nees's "Schotter" in
/// Braille dots and with VERSION 6 a city skyline in terminal grays, drawn by Redis's own algorithms (lolwut5.c,
/// lolwut6.c) so that the same parameters give the same picture apart from the random parts.
/// </summary>
internal static class LolwutCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("lolwut", -1, Lolwut)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Acl = "@read @fast", Since = "5.0.0",
            Summary = "Display some computer art and the Redis version", Syntax = "[VERSION version]",
        },
    ];

    private static void Lolwut(Session s, ArgList a)
    {
        string version = ServerInfo.RedisVersion;
        int first = 1;
        if (a.Count >= 3 && Ascii.EqualsIgnoreCase(a[1], "VERSION"u8))
        {
            if (!s.TryParseLong(a[2], out long asked))
            {
                return;
            }
            // lolwutCommand formats the number with "%u.0.0", then picks by the first characters.
            version = ((uint)asked).ToString(CultureInfo.InvariantCulture) + ".0.0";
            first = 3;
        }
        bool five = version.StartsWith("5.", StringComparison.Ordinal) && version[2] != '9' || version.StartsWith("4.9", StringComparison.Ordinal);
        bool six = version.StartsWith("6.", StringComparison.Ordinal) && version[2] != '9' || version.StartsWith("5.9", StringComparison.Ordinal);
        if (five)
        {
            Schotter(s, a, first);
        }
        else if (six)
        {
            Skyline(s, a, first);
        }
        else
        {
            s.Reply.WriteVerbatim("Redis ver. " + ServerInfo.RedisVersion + "\n");
        }
    }

    /// <summary>Reads the optional numbers after the version as Redis does (an error for a non-number), clamped into 1..max.</summary>
    private static bool TryReadSizes(Session s, ArgList a, int first, Span<long> values, ReadOnlySpan<long> max)
    {
        for (int i = 0; i < values.Length && first + i < a.Count; i++)
        {
            if (!s.TryParseLong(a[first + i], out values[i]))
            {
                return false;
            }
        }
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Math.Clamp(values[i], 1, max[i]);
        }
        return true;
    }

    // ---- LOLWUT VERSION 5: LOLWUT VERSION 5 [columns] [squares per row] [squares per column] ----

    private static void Schotter(Session s, ArgList a, int first)
    {
        Span<long> sizes = [66, 8, 12];
        if (!TryReadSizes(s, a, first, sizes, [1000, 200, 200]))
        {
            return;
        }
        var canvas = DrawSchotter((int)sizes[0], (int)sizes[1], (int)sizes[2]);
        var text = new StringBuilder();
        for (int y = 0; y < canvas.Height; y += 4)
        {
            for (int x = 0; x < canvas.Width; x += 2)
            {
                // Braille dots 1-8 of a 2x4 cell: bits 0-2 down the left column, 3-5 down the right, then 6 and 7 below.
                int dots = 0;
                if (canvas[x, y] != 0) dots |= 1 << 0;
                if (canvas[x, y + 1] != 0) dots |= 1 << 1;
                if (canvas[x, y + 2] != 0) dots |= 1 << 2;
                if (canvas[x + 1, y] != 0) dots |= 1 << 3;
                if (canvas[x + 1, y + 1] != 0) dots |= 1 << 4;
                if (canvas[x + 1, y + 2] != 0) dots |= 1 << 5;
                if (canvas[x, y + 3] != 0) dots |= 1 << 6;
                if (canvas[x + 1, y + 3] != 0) dots |= 1 << 7;
                text.Append((char)(0x2800 + dots));
            }
            if (y != canvas.Height - 1)
            {
                text.Append('\n');
            }
        }
        text.Append("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ").Append(ServerInfo.RedisVersion).Append('\n');
        s.Reply.WriteVerbatim(text.ToString());
    }

    private static Canvas DrawSchotter(int columns, int perRow, int perColumn)
    {
        int width = columns * 2;
        int padding = width > 4 ? 2 : 0;
        float side = (float)(width - padding * 2) / perRow;
        int height = (int)(side * perColumn + padding * 2);
        var canvas = new Canvas(width, height, 0);
        for (int y = 0; y < perColumn; y++)
        {
            for (int x = 0; x < perRow; x++)
            {
                int sx = (int)(x * side + side / 2 + padding);
                int sy = (int)(y * side + side / 2 + padding);
                // Rows further down are rotated and shifted more and more at random: order turning into chaos.
                float angle = 0;
                if (y > 1)
                {
                    float r1 = CRand() / (float)RandMax / perColumn * y;
                    float r2 = CRand() / (float)RandMax / perColumn * y;
                    float r3 = CRand() / (float)RandMax / perColumn * y;
                    if (CRand() % 2 != 0) r1 = -r1;
                    if (CRand() % 2 != 0) r2 = -r2;
                    if (CRand() % 2 != 0) r3 = -r3;
                    angle = r1;
                    sx = (int)(sx + r2 * side / 3);
                    sy = (int)(sy + r3 * side / 3);
                }
                canvas.DrawSquare(sx, sy, side, angle, 1);
            }
        }
        return canvas;
    }

    // ---- LOLWUT VERSION 6: LOLWUT VERSION 6 [columns] [rows] ----

    private static void Skyline(Session s, ArgList a, int first)
    {
        Span<long> sizes = [80, 20];
        if (!TryReadSizes(s, a, first, sizes, [1000, 1000]))
        {
            return;
        }
        var canvas = new Canvas((int)sizes[0], (int)sizes[1], 3);
        DrawSkyline(canvas);
        var text = new StringBuilder();
        for (int y = 0; y < canvas.Height; y++)
        {
            for (int x = 0; x < canvas.Width; x++)
            {
                // Foreground and background both set, so every terminal shows the same four grays.
                string color = canvas[x, y] switch
                {
                    1 => "0;90;100m",
                    2 => "0;37;47m",
                    3 => "0;97;107m",
                    _ => "0;30;40m",
                };
                text.Append("\u001b[").Append(color).Append(" \u001b[0m");
            }
            if (y != canvas.Height - 1)
            {
                text.Append('\n');
            }
        }
        text.Append("\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. ")
            .Append(ServerInfo.RedisVersion).Append('\n');
        s.Reply.WriteVerbatim(text.ToString());
    }

    private static void DrawSkyline(Canvas canvas)
    {
        // Two passes of window-less buildings in the two grays, the lighter behind, then the black front row with windows.
        for (int color = 2; color >= 1; color--)
        {
            for (int offset = -10; offset < canvas.Width;)
            {
                offset += CRand() % 8;
                int width = 10 + CRand() % 9;
                int height = color == 2
                    ? canvas.Height / 2 + CRand() % canvas.Height / 2
                    : canvas.Height / 2 + CRand() % canvas.Height / 3;
                DrawSkyscraper(canvas, offset, width, height, windows: false, color);
                offset += color == 2 ? width / 2 : width + 1;
            }
        }
        for (int offset = -10; offset < canvas.Width;)
        {
            offset += CRand() % 8;
            int width = 5 + CRand() % 14;
            if (width % 4 != 0)
            {
                width += width % 3;
            }
            int height = canvas.Height / 3 + CRand() % canvas.Height / 2;
            DrawSkyscraper(canvas, offset, width, height, windows: true, 0);
            offset += width + 5;
        }
    }

    private static void DrawSkyscraper(Canvas canvas, int left, int width, int height, bool windows, int color)
    {
        int bottom = canvas.Height - 1;
        int top = bottom - height + 1;
        for (int y = bottom; y >= top; y--)
        {
            for (int x = left; x < left + width; x++)
            {
                // The roof is four pixels narrower.
                if (y == top && (x <= left + 1 || x >= left + width - 2))
                {
                    continue;
                }
                int pixel = color;
                if (windows && x > left + 1 && x < left + width - 2 && y > top + 1 && y < bottom - 1)
                {
                    int relX = x - (left + 1);
                    int relY = y - (top + 1);
                    // Windows two pixels wide and one tall (terminal cells are not square), both halves one gray.
                    if (relX / 2 % 2 != 0 && relY % 2 != 0)
                    {
                        do
                        {
                            pixel = 1 + CRand() % 2;
                        }
                        while (pixel == color);
                        if (relX % 2 != 0)
                        {
                            pixel = canvas[x - 1, y];
                        }
                    }
                }
                canvas.Set(x, y, pixel);
            }
        }
    }

    private const int RandMax = int.MaxValue;

    /// <summary>C's rand(): 0 to RAND_MAX (glibc's 2^31-1).</summary>
    private static int CRand() => (int)Random.Shared.NextInt64(0, (long)RandMax + 1);

    /// <summary>lolwut.c's canvas: pixels of a few colors, drawing outside it ignored.</summary>
    private sealed class Canvas
    {
        private readonly byte[] _pixels;

        public Canvas(int width, int height, byte background)
        {
            Width = width;
            Height = height;
            _pixels = new byte[width * height];
            Array.Fill(_pixels, background);
        }

        public int Width { get; }

        public int Height { get; }

        public int this[int x, int y] => x < 0 || x >= Width || y < 0 || y >= Height ? 0 : _pixels[x + y * Width];

        public void Set(int x, int y, int color)
        {
            if (x >= 0 && x < Width && y >= 0 && y < Height)
            {
                _pixels[x + y * Width] = (byte)color;
            }
        }

        /// <summary>Bresenham's line, as lwDrawLine.</summary>
        public void DrawLine(int x1, int y1, int x2, int y2, int color)
        {
            int dx = Math.Abs(x2 - x1), dy = Math.Abs(y2 - y1);
            int sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
            int err = dx - dy;
            while (true)
            {
                Set(x1, y1, color);
                if (x1 == x2 && y1 == y2)
                {
                    return;
                }
                int e2 = err * 2;
                if (e2 > -dy)
                {
                    err -= dy;
                    x1 += sx;
                }
                if (e2 < dx)
                {
                    err += dx;
                    y1 += sy;
                }
            }
        }

        /// <summary>
        /// lwDrawSquare: the four corners lie on a circle around (x, y), starting at 45 degrees plus the rotation; C's
        /// float and double steps are kept so the corners round to the same pixels.
        /// </summary>
        public void DrawSquare(int x, int y, float size, float angle, int color)
        {
            Span<int> px = stackalloc int[4];
            Span<int> py = stackalloc int[4];
            size = (float)(size / 1.4142135623);
            size = (float)Math.Round(size, MidpointRounding.AwayFromZero);
            float k = (float)(Math.PI / 4 + angle);
            for (int j = 0; j < 4; j++)
            {
                px[j] = (int)Math.Round(Math.Sin(k) * size + x, MidpointRounding.AwayFromZero);
                py[j] = (int)Math.Round(Math.Cos(k) * size + y, MidpointRounding.AwayFromZero);
                k = (float)(k + Math.PI / 2);
            }
            for (int j = 0; j < 4; j++)
            {
                DrawLine(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
            }
        }
    }
}
