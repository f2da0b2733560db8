using System.Globalization;

namespace CacheOperator.Node.Configuration;

/// <summary>One snapshot rule of the save directive: a background save when <see cref="Changes"/> changes are at least <see cref="Seconds"/> old.</summary>
public readonly record struct SaveRule(long Seconds, long Changes);

/// <summary>The save directive's value as Redis 7.0 reads it (setConfigSaveOption): pairs of seconds (at least 1) and changes (at least 0).</summary>
public static class SaveRules
{
    /// <summary>Redis's error for anything but an even list of such numbers.</summary>
    public const string Invalid = "Invalid save parameters";

    /// <summary>Null when <paramref name="text"/> is a valid rule list ("" for none), else Redis's error.</summary>
    public static string? Validate(string text) => TryParse(text, out _) ? null : Invalid;

    /// <summary>The rules of <paramref name="text"/>; empty for "" (no snapshots).</summary>
    public static IReadOnlyList<SaveRule> Parse(string text) => TryParse(text, out var rules) ? rules : [];

    private static bool TryParse(string text, out List<SaveRule> rules)
    {
        rules = [];
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length % 2 != 0)
        {
            return false;
        }
        for (int i = 0; i < words.Length; i += 2)
        {
            // strtoll: an optional sign and digits, nothing after them.
            if (!long.TryParse(words[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds) || seconds < 1
                || !long.TryParse(words[i + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long changes) || changes < 0)
            {
                return false;
            }
            rules.Add(new SaveRule(seconds, changes));
        }
        return true;
    }
}
