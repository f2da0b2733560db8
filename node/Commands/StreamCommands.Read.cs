using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage.Streams;

namespace CacheOperator.Node.Commands;

/// <summary>XREAD (and its blocking form) and XINFO STREAM / HELP: the stream family's readers.</summary>
internal static partial class StreamCommands
{
    /// <summary>Redis's xreadGetKeys: the keys after STREAMS, half of what follows it (BLOCK, COUNT, GROUP, NOACK skipped).</summary>
    private static void XreadKeys(CommandLine line, KeyBuffer result)
    {
        int streamsPos = -1;
        for (int i = 1; i < line.Count; i++)
        {
            var arg = line[i];
            if (Ascii.EqualsIgnoreCase(arg, "block"u8) || Ascii.EqualsIgnoreCase(arg, "count"u8))
            {
                i++;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "group"u8))
            {
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "noack"u8))
            {
                continue;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "streams"u8))
            {
                streamsPos = i;
                break;
            }
            else
            {
                break;
            }
        }
        int num = line.Count - streamsPos - 1;
        if (streamsPos == -1 || num == 0 || num % 2 != 0)
        {
            return;
        }
        num /= 2;
        for (int i = streamsPos + 1; i < line.Count - num; i++)
        {
            result.Add(i, KeyFlags.None);
        }
    }

    private static void Xread(Session s, ArgList a)
    {
        if (!TryParseReadOptions(s, a, group: false, out var options))
        {
            return;
        }
        long timeout = options.TimeoutMs;
        long count = options.Count;
        int streamsArg = options.StreamsArg;
        int streamsCount = options.StreamCount;
        var ids = new StreamId[streamsCount];
        for (int i = streamsArg + streamsCount; i < a.Count; i++)
        {
            int idIndex = i - streamsArg - streamsCount;
            if (!TryFindStream(s, a[i - streamsCount], forRead: true, out _, out var stream))
            {
                return;
            }
            var arg = a[i];
            if (arg.Length == 1 && arg[0] == '$')
            {
                ids[idIndex] = stream?.LastId ?? StreamId.Min;
                continue;
            }
            if (arg.Length == 1 && arg[0] == '>')
            {
                s.Reply.WriteError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                return;
            }
            if (!TryParseStrictId(s, arg, 0, out ids[idIndex]))
            {
                return;
            }
        }
        // Serve at once every stream that has something past its ID. Redis looks each key up a second time here, which
        // counts in keyspace_hits / _misses; the reply is sized by this pass and written by a third, uncounted one.
        int served = 0;
        for (int i = 0; i < streamsCount; i++)
        {
            if (ReadableStream(s, a[streamsArg + i], ids[i], countLookup: true) is not null)
            {
                served++;
            }
        }
        if (served > 0)
        {
            WriteStreamsHeader(s.Reply, served);
            for (int i = 0; i < streamsCount; i++)
            {
                if (ReadableStream(s, a[streamsArg + i], ids[i], countLookup: false) is { } stream)
                {
                    WriteStreamKey(s.Reply, a[streamsArg + i]);
                    ids[i].TryIncrement(out var start);
                    WriteRange(s.Reply, stream, start, StreamId.Max, count, reverse: false);
                }
            }
            return;
        }
        if (timeout == -1 || s.DenyBlocking)
        {
            s.Reply.WriteNullArray();
            return;
        }
        var keys = new byte[streamsCount][];
        for (int i = 0; i < streamsCount; i++)
        {
            keys[i] = a[streamsArg + i].ToArray();
        }
        s.Server.Blocking.Block(s, keys, timeout, (client, key) => ServeBlockedRead(client, key, keys, ids, count));
    }

    /// <summary>The stream at <paramref name="key"/> when it has a live entry after <paramref name="after"/> (XREAD's synchronous case).</summary>
    private static StreamValue? ReadableStream(Session s, ReadOnlySpan<byte> key, StreamId after, bool countLookup)
    {
        int index = countLookup ? s.FindForRead(key) : s.Db.Find(key);
        if (index < 0 || s.Db.Table[index].Value is not StreamValue { Length: > 0 } stream)
        {
            return null;
        }
        var last = stream.Range(StreamId.Min, StreamId.Max, reverse: true);
        return last.MoveNext() && last.Id > after ? stream : null;
    }

    /// <summary>
    /// Serves a client blocked in XREAD from <paramref name="key"/> (Redis's serveClientsBlockedOnStreamKey): when the
    /// stream's last ID passed the one the client waits after, it gets the entries since, as a one-stream reply.
    /// </summary>
    private static bool ServeBlockedRead(BlockedClient client, byte[] key, byte[][] keys, StreamId[] ids, long count)
    {
        int index = client.Db.Find(key, touch: false);
        if (index < 0 || client.Db.Table[index].Value is not StreamValue stream)
        {
            return false;
        }
        int which = Array.FindIndex(keys, k => k.AsSpan().SequenceEqual(key));
        var after = ids[which];
        if (stream.LastId <= after)
        {
            return false;
        }
        var reply = client.Reply;
        WriteStreamsHeader(reply, 1);
        WriteStreamKey(reply, key);
        after.TryIncrement(out var start);
        WriteRange(reply, stream, start, StreamId.Max, count, reverse: false);
        return true;
    }

    private static void XinfoStream(Session s, ArgList a)
    {
        bool full = true;
        long count = 10;
        int optc = a.Count - 3;
        if (optc == 0)
        {
            full = false;
        }
        else
        {
            if ((optc != 1 && optc != 3) || !a.Is(3, "FULL"u8) || (optc == 3 && !a.Is(4, "COUNT"u8)))
            {
                s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{Truncated(a.GetString(1))}'. Try XINFO HELP.");
                return;
            }
            if (optc == 3)
            {
                if (!NumberFormat.TryParseInt64(a[5], out count))
                {
                    s.Reply.WriteError(Errors.NotInteger);
                    return;
                }
                if (count < 0)
                {
                    count = 10;
                }
            }
        }
        if (!TryFindStream(s, a[2], forRead: true, out _, out var stream))
        {
            return;
        }
        if (stream is null)
        {
            s.Reply.WriteError(Errors.NoSuchKey);
            return;
        }
        var reply = s.Reply;
        reply.WriteMapHeader(full ? 9 : 10);
        reply.WriteBulk("length"u8);
        reply.WriteInteger(stream.Length);
        reply.WriteBulk("radix-tree-keys"u8);
        reply.WriteInteger(stream.NodeCount);
        reply.WriteBulk("radix-tree-nodes"u8);
        reply.WriteInteger(stream.RadixTreeNodes());
        reply.WriteBulk("last-generated-id"u8);
        WriteId(reply, stream.LastId);
        reply.WriteBulk("max-deleted-entry-id"u8);
        WriteId(reply, stream.MaxDeletedEntryId);
        reply.WriteBulk("entries-added"u8);
        reply.WriteInteger((long)stream.EntriesAdded);
        reply.WriteBulk("recorded-first-entry-id"u8);
        WriteId(reply, stream.FirstId);
        if (!full)
        {
            reply.WriteBulk("groups"u8);
            reply.WriteInteger(stream.Groups.Count);
            reply.WriteBulk("first-entry"u8);
            WriteEdgeEntry(reply, stream, reverse: false);
            reply.WriteBulk("last-entry"u8);
            WriteEdgeEntry(reply, stream, reverse: true);
            return;
        }
        reply.WriteBulk("entries"u8);
        WriteRange(reply, stream, StreamId.Min, StreamId.Max, count, reverse: false);
        reply.WriteBulk("groups"u8);
        WriteXinfoFullGroups(s, stream, count);
    }

    private static void WriteEdgeEntry(ReplyWriter reply, StreamValue stream, bool reverse)
    {
        var e = stream.Range(StreamId.Min, StreamId.Max, reverse);
        if (e.MoveNext())
        {
            WriteEntry(reply, ref e);
        }
        else
        {
            reply.WriteNullBulk();
        }
    }

    private static string Truncated(string text) => text.Length > 128 ? text[..128] : text;

    private static void XinfoHelp(Session s, ArgList a) => HelpReply.Write(
        s,
        "XINFO",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.");
}
