using System.Globalization;

namespace CacheOperator.Node.Configuration;

/// <summary>The value type of a directive, which decides parsing and how CONFIG GET prints it.</summary>
public enum DirectiveKind
{
    /// <summary>A whole number within bounds.</summary>
    Integer,

    /// <summary>Bytes with an optional k/kb/m/mb/g/gb suffix.</summary>
    Memory,

    /// <summary>yes or no.</summary>
    Boolean,

    /// <summary>One of a fixed set of words.</summary>
    Enum,

    /// <summary>Free text (possibly several words).</summary>
    Text,
}

/// <summary>One configuration directive: its rules, its current value, and whether CONFIG SET may change it.</summary>
public sealed class Directive
{
    private Func<string, string?>? _validate;
    private Func<string, string, (string? Text, string? Error)>? _merge;
    private Func<Directive, IReadOnlyList<RewriteLine>>? _rewrite;

    internal Directive(string name, DirectiveKind kind, string defaultValue, bool mutable, string description)
    {
        Name = name;
        Kind = kind;
        DefaultValue = defaultValue;
        Mutable = mutable;
        Description = description;
        Text = defaultValue;
    }

    /// <summary>Parses the default (once the bounds and choices are set); a bad default is a programming error.</summary>
    internal void Initialize()
    {
        var error = TryParse(DefaultValue, out var text, out var number);
        if (error is not null)
        {
            throw new InvalidOperationException($"Default of {Name} is invalid: {error}");
        }
        Text = text;
        Number = number;
        DefaultText = text;
    }

    /// <summary>The default as CONFIG GET prints it.</summary>
    public string DefaultText { get; private set; } = "";

    /// <summary>Lower-case name as in redis.conf.</summary>
    public string Name { get; }

    /// <summary>How values are parsed.</summary>
    public DirectiveKind Kind { get; }

    /// <summary>Value before any configuration.</summary>
    public string DefaultValue { get; }

    /// <summary>Whether CONFIG SET may change it at run time.</summary>
    public bool Mutable { get; }

    /// <summary>One line for operators and docs.</summary>
    public string Description { get; }

    /// <summary>Smallest accepted number (Integer, Memory).</summary>
    public long Min { get; init; } = long.MinValue;

    /// <summary>Largest accepted number (Integer, Memory).</summary>
    public long Max { get; init; } = long.MaxValue;

    /// <summary>Takes several arguments on a config line, joined by spaces (bind, save); others take exactly one.</summary>
    public bool MultipleArguments { get; init; }

    /// <summary>
    /// Where an accepted number is then brought, as Redis brings hz into 1..500 (Integer): CONFIG GET shows the
    /// result. Null: kept as given.
    /// </summary>
    public (long Min, long Max)? ClampTo { get; init; }

    /// <summary>Accepted words (Enum).</summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>
    /// Other names for the directive (Redis 7.0's <c>*-ziplist-*</c> spellings). Each is a name of its own as
    /// in Redis: CONFIG GET answers it under that name and a pattern can match it beside the directive's own.
    /// </summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Current value as CONFIG GET prints it.</summary>
    public string Text { get; private set; }

    /// <summary>Current value as a number (Integer, Memory; 1/0 for Boolean).</summary>
    public long Number { get; private set; }

    /// <summary>Current value as a boolean.</summary>
    public bool IsOn => Number != 0;

    /// <summary>Raised after the value changed, so the server can apply it.</summary>
    public event Action<Directive>? Changed;

    /// <summary>Adds a rule beyond the kind's own (returns an error message or null).</summary>
    public Directive WithRule(Func<string, string?> validate)
    {
        _validate = validate;
        return this;
    }

    /// <summary>
    /// For a directive whose value names only what it changes (client-output-buffer-limit): the rule gets the
    /// current text and the value and returns the full new text, or Redis's error reason.
    /// </summary>
    public Directive WithMerge(Func<string, string, (string? Text, string? Error)> merge)
    {
        _merge = merge;
        return this;
    }

    /// <summary>For a directive CONFIG REWRITE writes in its own way (save, bind, dir...): its lines for the current value.</summary>
    public Directive WithRewrite(Func<Directive, IReadOnlyList<RewriteLine>> rewrite)
    {
        _rewrite = rewrite;
        return this;
    }

    /// <summary>
    /// The config-file lines CONFIG REWRITE writes for the current value, as Redis's per-type rewrite functions: numbers
    /// plain, memory with a gb/mb/kb suffix where exact, text quoted, each forced into the file when not the default.
    /// None: the directive's lines are removed (an empty text that means "unset").
    /// </summary>
    public IReadOnlyList<RewriteLine> RewriteLines()
    {
        if (_rewrite is not null)
        {
            return _rewrite(this);
        }
        bool force = Text != DefaultText;
        return Kind switch
        {
            DirectiveKind.Memory => [new($"{Name} {MemorySize.Format(Number)}", force)],
            DirectiveKind.Text when Text.Length == 0 && DefaultText.Length == 0 => [],
            DirectiveKind.Text when MultipleArguments => [new($"{Name} {Text}", force)],
            DirectiveKind.Text => [new($"{Name} {ConfigLoader.Quote(Text)}", force)],
            _ => [new($"{Name} {Text}", force)],
        };
    }

    /// <summary>Checks a value without applying it; returns Redis's error reason or null.</summary>
    public string? Validate(string value) => TryParse(value, out _, out _);

    /// <summary>Applies a value; returns Redis's error reason or null.</summary>
    public string? Set(string value)
    {
        var error = TryParse(value, out var text, out var number);
        if (error is not null)
        {
            return error;
        }
        bool changed = text != Text;
        Text = text;
        Number = number;
        if (changed)
        {
            Changed?.Invoke(this);
        }
        return null;
    }

    private string? TryParse(string value, out string text, out long number)
    {
        text = value;
        number = 0;
        switch (Kind)
        {
            case DirectiveKind.Integer:
                if (!TryParseInteger(value, out number))
                {
                    return "argument couldn't be parsed into an integer";
                }
                if (number < Min || number > Max)
                {
                    return $"argument must be between {Min} and {Max} inclusive";
                }
                if (ClampTo is var (low, high))
                {
                    number = Math.Clamp(number, low, high);
                }
                text = number.ToString(CultureInfo.InvariantCulture);
                break;
            case DirectiveKind.Memory:
                if (!MemorySize.TryParse(value, out number))
                {
                    return "argument must be a memory value";
                }
                if (number < Min || number > Max)
                {
                    return $"argument must be between {Min} and {Max} inclusive";
                }
                text = number.ToString(CultureInfo.InvariantCulture);
                break;
            case DirectiveKind.Boolean:
                if (value.Equals("yes", StringComparison.OrdinalIgnoreCase))
                {
                    number = 1;
                    text = "yes";
                }
                else if (value.Equals("no", StringComparison.OrdinalIgnoreCase))
                {
                    text = "no";
                }
                else
                {
                    return "argument must be 'yes' or 'no'";
                }
                break;
            case DirectiveKind.Enum:
                var choice = Choices.FirstOrDefault(c => c.Equals(value, StringComparison.OrdinalIgnoreCase));
                if (choice is null)
                {
                    return "argument(s) must be one of the following: " + string.Join(", ", Choices);
                }
                text = choice;
                break;
        }
        if (_merge is not null)
        {
            var (merged, error) = _merge(Text, text);
            if (error is not null)
            {
                return error;
            }
            text = merged!;
        }
        return _validate?.Invoke(text);
    }

    /// <summary>A whole number as Redis's string2ll reads it: an optional '-', digits, no '+', no spaces, no leading zeros.</summary>
    private static bool TryParseInteger(string text, out long number)
    {
        number = 0;
        var digits = text.AsSpan(text.StartsWith('-') ? 1 : 0);
        if (digits.Length == 0 || digits.Length > 20 || (digits[0] == '0' && text.Length > 1))
        {
            return false;
        }
        foreach (char c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
    }
}

/// <summary>One line CONFIG REWRITE writes, and whether it goes into the file even where the file does not mention the directive.</summary>
public readonly record struct RewriteLine(string Line, bool Force);

/// <summary>Memory sizes as redis.conf writes them: 1k = 1000, 1kb = 1024, and so on for m/mb and g/gb.</summary>
public static class MemorySize
{
    /// <summary>A size as Redis's rewriteConfigFormatMemory writes it: in gb, mb or kb when it is a whole number of them.</summary>
    public static string Format(long bytes)
    {
        const long kb = 1024, mb = kb * 1024, gb = mb * 1024;
        return bytes == 0 ? "0"
            : bytes % gb == 0 ? $"{bytes / gb}gb"
            : bytes % mb == 0 ? $"{bytes / mb}mb"
            : bytes % kb == 0 ? $"{bytes / kb}kb"
            : bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Parses a size as Redis's memtoull: digits (possibly none, meaning 0) and an optional unit, no sign or
    /// spaces; false for text Redis would refuse. A size beyond a long reads as -1, outside every directive's range
    /// (Redis's bounds check refuses it too).
    /// </summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        int digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        string unit = text[digits..].ToLowerInvariant();
        long multiplier = 1;
        if (unit.Length > 0 && unit != "b")
        {
            int at = Array.FindIndex(Suffixes, s => s.Suffix == unit);
            if (at < 0)
            {
                return false;
            }
            multiplier = Suffixes[at].Factor;
        }
        if (digits == 0)
        {
            return true;
        }
        if (!long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > long.MaxValue / multiplier)
        {
            bytes = -1;
            return true;
        }
        bytes = value * multiplier;
        return true;
    }

    private static readonly (string Suffix, long Factor)[] Suffixes =
    [
        ("kb", 1024L), ("mb", 1024L * 1024), ("gb", 1024L * 1024 * 1024),
        ("k", 1000L), ("m", 1000L * 1000), ("g", 1000L * 1000 * 1000),
    ];
}
