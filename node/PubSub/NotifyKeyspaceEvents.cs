using CacheOperator.Node.Storage;

namespace CacheOperator.Node.PubSub;

/// <summary>The notify-keyspace-events text as Redis reads and prints it (keyspaceEventsStringToFlags / FlagsToString).</summary>
public static class NotifyKeyspaceEvents
{
    /// <summary>Redis's error for a letter it does not know.</summary>
    public const string InvalidError = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

    /// <summary>The flags of <paramref name="text"/>, or null when a character is not a class.</summary>
    public static KeyspaceEventTypes? Parse(string text)
    {
        var flags = KeyspaceEventTypes.None;
        foreach (char c in text)
        {
            flags |= c switch
            {
                'A' => KeyspaceEventTypes.All,
                'g' => KeyspaceEventTypes.Generic,
                '$' => KeyspaceEventTypes.String,
                'l' => KeyspaceEventTypes.List,
                's' => KeyspaceEventTypes.Set,
                'h' => KeyspaceEventTypes.Hash,
                'z' => KeyspaceEventTypes.SortedSet,
                'x' => KeyspaceEventTypes.Expired,
                'e' => KeyspaceEventTypes.Evicted,
                'K' => KeyspaceEventTypes.Keyspace,
                'E' => KeyspaceEventTypes.Keyevent,
                't' => KeyspaceEventTypes.Stream,
                'm' => KeyspaceEventTypes.KeyMiss,
                'd' => KeyspaceEventTypes.Module,
                'n' => KeyspaceEventTypes.New,
                _ => (KeyspaceEventTypes?)null,
            } ?? (KeyspaceEventTypes)(-1);
            if (flags == (KeyspaceEventTypes)(-1))
            {
                return null;
            }
        }
        return flags;
    }

    /// <summary>The normalised text CONFIG GET shows: A for all of g$lshzxetd (n then hidden, as Redis 7.0 prints it), then K, E, m.</summary>
    public static string Format(KeyspaceEventTypes flags)
    {
        var text = new System.Text.StringBuilder();
        if ((flags & KeyspaceEventTypes.All) == KeyspaceEventTypes.All)
        {
            text.Append('A');
        }
        else
        {
            foreach (var (flag, letter) in (ReadOnlySpan<(KeyspaceEventTypes, char)>)[
                (KeyspaceEventTypes.Generic, 'g'), (KeyspaceEventTypes.String, '$'), (KeyspaceEventTypes.List, 'l'), (KeyspaceEventTypes.Set, 's'),
                (KeyspaceEventTypes.Hash, 'h'), (KeyspaceEventTypes.SortedSet, 'z'), (KeyspaceEventTypes.Expired, 'x'), (KeyspaceEventTypes.Evicted, 'e'),
                (KeyspaceEventTypes.Stream, 't'), (KeyspaceEventTypes.Module, 'd'), (KeyspaceEventTypes.New, 'n')])
            {
                if ((flags & flag) != 0)
                {
                    text.Append(letter);
                }
            }
        }
        if ((flags & KeyspaceEventTypes.Keyspace) != 0)
        {
            text.Append('K');
        }
        if ((flags & KeyspaceEventTypes.Keyevent) != 0)
        {
            text.Append('E');
        }
        if ((flags & KeyspaceEventTypes.KeyMiss) != 0)
        {
            text.Append('m');
        }
        return text.ToString();
    }
}
