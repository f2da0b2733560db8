using CacheOperator.Node.Protocol;
using CacheOperator.Node.PubSub;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The pub/sub family: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and
/// PUBSUB, on <see cref="PubSubRegistry"/>. Subscription replies are push frames in RESP3, arrays in RESP2, as Redis's
/// addReplyPubsubSubscribed; a client with subscriptions is in pub/sub mode (Session.IsPubSub).
/// </summary>
internal static class PubSubCommands
{
    private const CommandFlags Sub = CommandFlags.PubSub | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.SubscriberContext;
    private const CommandFlags Pub = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast;
    private const CommandFlags Introspect = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandSpec> All =>
    [
        new("subscribe", -2, Subscribe)
        {
            Flags = Sub, Acl = "@pubsub @slow", Since = "2.0.0", Summary = "Listen for messages published to the given channels",
            Complexity = "O(N) where N is the number of channels to subscribe to.", Syntax = "channel [channel ...]",
        },
        new("unsubscribe", -1, Unsubscribe)
        {
            Flags = Sub, Acl = "@pubsub @slow", Since = "2.0.0", Summary = "Stop listening for messages posted to the given channels",
            Complexity = "O(N) where N is the number of clients already subscribed to a channel.", Syntax = "[channel [channel ...]]",
        },
        new("psubscribe", -2, PSubscribe)
        {
            Flags = Sub, Acl = "@pubsub @slow", Since = "2.0.0", Summary = "Listen for messages published to channels matching the given patterns",
            Complexity = "O(N) where N is the number of patterns the client is already subscribed to.", Syntax = "<pattern> [<pattern> ...]",
        },
        new("punsubscribe", -1, PUnsubscribe)
        {
            Flags = Sub, Acl = "@pubsub @slow", Since = "2.0.0", Summary = "Stop listening for messages posted to channels matching the given patterns",
            Complexity = "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).", Syntax = "[pattern [pattern ...]]",
        },
        new("publish", 3, Publish)
        {
            Flags = Pub, Acl = "@pubsub @fast", Since = "2.0.0", Summary = "Post a message to a channel",
            Complexity = "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
            Syntax = "channel message",
        },
        new("ssubscribe", -2, SSubscribe)
        {
            Flags = Sub, Acl = "@pubsub @slow", Since = "7.0.0", Summary = "Listen for messages published to the given shard channels",
            Complexity = "O(N) where N is the number of shard channels to subscribe to.", Syntax = "shardchannel [shardchannel ...]",
            KeySpecs = [KeySpec.Range("not_key", 1, -1)],
        },
        new("sunsubscribe", -1, SUnsubscribe)
        {
            Flags = Sub, Acl = "@pubsub @slow", Since = "7.0.0", Summary = "Stop listening for messages posted to the given shard channels",
            Complexity = "O(N) where N is the number of clients already subscribed to a shard channel.", Syntax = "[shardchannel [shardchannel ...]]",
            KeySpecs = [KeySpec.Range("not_key", 1, -1)],
        },
        new("spublish", 3, SPublish)
        {
            Flags = Pub, Acl = "@pubsub @fast", Since = "7.0.0", Summary = "Post a message to a shard channel",
            Complexity = "O(N) where N is the number of clients subscribed to the receiving shard channel.", Syntax = "shardchannel message",
            KeySpecs = [KeySpec.Range("not_key", 1)],
        },
        new("pubsub", -2, null)
        {
            Acl = "@slow", Since = "2.8.0", Summary = "A container for Pub/Sub commands", Complexity = "Depends on subcommand.",
            Subcommands =
            [
                new("pubsub|channels", -2, Channels)
                {
                    Flags = Introspect, Acl = "@pubsub @slow", Since = "2.8.0", Summary = "List active channels", Syntax = "[pattern]",
                    Complexity = "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
                },
                new("pubsub|numsub", -2, NumSub)
                {
                    Flags = Introspect, Acl = "@pubsub @slow", Since = "2.8.0", Summary = "Get the count of subscribers for channels", Syntax = "[channel [channel ...]]",
                    Complexity = "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
                },
                new("pubsub|numpat", 2, NumPat)
                {
                    Flags = Introspect, Acl = "@pubsub @slow", Since = "2.8.0", Summary = "Get the count of unique patterns pattern subscriptions", Complexity = "O(1)",
                },
                new("pubsub|shardchannels", -2, ShardChannels)
                {
                    Flags = Introspect, Acl = "@pubsub @slow", Since = "7.0.0", Summary = "List active shard channels", Syntax = "[pattern]",
                    Complexity = "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
                },
                new("pubsub|shardnumsub", -2, ShardNumSub)
                {
                    Flags = Introspect, Acl = "@pubsub @slow", Since = "7.0.0", Summary = "Get the count of subscribers for shard channels",
                    Syntax = "[shardchannel [shardchannel ...]]",
                    Complexity = "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
                },
                new("pubsub|help", 2, Help)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow", Since = "6.2.0", Summary = "Show helpful text about the different subcommands", Complexity = "O(1)",
                },
            ],
        },
    ];

    /// <summary>Redis's text for a command refused in RESP2 subscriber mode.</summary>
    public static string SubscriberModeError(CommandSpec spec) =>
        $"ERR Can't execute '{spec.Name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

    // SUBSCRIBE and PSUBSCRIBE refuse a client that may not block unless it is in a transaction (Redis's backward
    // compatibility); today only EXEC denies blocking to commands that are not noscript, so they never refuse.
    private static void Subscribe(Session s, ArgList a) => SubscribeAll(s, a, SubscriptionKind.Channel, "subscribe"u8);

    private static void PSubscribe(Session s, ArgList a) => SubscribeAll(s, a, SubscriptionKind.Pattern, "psubscribe"u8);

    private static void SSubscribe(Session s, ArgList a)
    {
        if (s.DenyBlocking)
        {
            s.Reply.WriteError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
            return;
        }
        SubscribeAll(s, a, SubscriptionKind.ShardChannel, "ssubscribe"u8);
    }

    private static void Unsubscribe(Session s, ArgList a) => UnsubscribeAll(s, a, SubscriptionKind.Channel, "unsubscribe"u8);

    private static void PUnsubscribe(Session s, ArgList a) => UnsubscribeAll(s, a, SubscriptionKind.Pattern, "punsubscribe"u8);

    private static void SUnsubscribe(Session s, ArgList a) => UnsubscribeAll(s, a, SubscriptionKind.ShardChannel, "sunsubscribe"u8);

    private static void SubscribeAll(Session s, ArgList a, SubscriptionKind kind, ReadOnlySpan<byte> reply)
    {
        var registry = s.Server.PubSub;
        for (int i = 1; i < a.Count; i++)
        {
            registry.Subscribe(s, kind, a[i]);
            WriteConfirmation(s, reply, a[i], kind);
        }
    }

    private static void UnsubscribeAll(Session s, ArgList a, SubscriptionKind kind, ReadOnlySpan<byte> reply)
    {
        var registry = s.Server.PubSub;
        if (a.Count > 1)
        {
            for (int i = 1; i < a.Count; i++)
            {
                registry.Unsubscribe(s, kind, a[i]);
                WriteConfirmation(s, reply, a[i], kind);
            }
            return;
        }
        var names = s.Subscriptions?.Of(kind).ToArray() ?? [];
        foreach (var name in names)
        {
            registry.Unsubscribe(s, kind, name);
            WriteConfirmation(s, reply, name, kind);
        }
        if (names.Length == 0)
        {
            // Subscribed to nothing: still one reply, with a null name.
            WriteHeader(s, reply);
            s.Reply.WriteNullBulk();
            s.Reply.WriteInteger(Count(s, kind));
        }
    }

    private static void WriteConfirmation(Session s, ReadOnlySpan<byte> reply, ReadOnlySpan<byte> name, SubscriptionKind kind)
    {
        WriteHeader(s, reply);
        s.Reply.WriteBulk(name);
        s.Reply.WriteInteger(Count(s, kind));
    }

    private static void WriteHeader(Session s, ReadOnlySpan<byte> reply)
    {
        s.Reply.WritePushHeader(3);
        s.Reply.WriteBulk(reply);
    }

    /// <summary>The count a confirmation carries: shard channels count apart from channels and patterns, as Redis 7.0.</summary>
    private static int Count(Session s, SubscriptionKind kind) => s.Subscriptions is not { } subscriptions ? 0
        : kind == SubscriptionKind.ShardChannel ? subscriptions.ShardChannels.Count : subscriptions.ChannelsAndPatterns;

    private static void Publish(Session s, ArgList a)
    {
        int receivers = s.Server.PubSub.Publish(a[1], a[2]);
        AfterPublish(s, a, sharded: false);
        s.Reply.WriteInteger(receivers);
    }

    private static void SPublish(Session s, ArgList a)
    {
        int receivers = s.Server.PubSub.PublishShard(a[1], a[2]);
        AfterPublish(s, a, sharded: true);
        s.Reply.WriteInteger(receivers);
    }

    /// <summary>
    /// As Redis's pubsubPublishMessageAndPropagateToCluster: in cluster mode the message goes over the bus (PUBLISH to every
    /// node, SPUBLISH within the shard); standalone it goes to replicas on the write path (forceCommandPropagation), whose
    /// subscribers get it when they apply it.
    /// </summary>
    private static void AfterPublish(Session s, ArgList a, bool sharded)
    {
        if (s.Server.Cluster is null)
        {
            s.Server.Propagator.Force();
        }
        else
        {
            s.Server.Bus?.PropagatePublish(a[1], a[2], sharded);
        }
    }

    private static void Channels(Session s, ArgList a) => ListChannels(s, a, shard: false);

    private static void ShardChannels(Session s, ArgList a) => ListChannels(s, a, shard: true);

    private static void ListChannels(Session s, ArgList a, bool shard)
    {
        if (a.Count > 3)
        {
            SubcommandSyntaxError(s, a);
            return;
        }
        var channels = s.Server.PubSub.ListChannels(shard, a.Count == 3 ? a[2] : default, all: a.Count == 2);
        s.Reply.WriteArrayHeader(channels.Count);
        foreach (var channel in channels)
        {
            s.Reply.WriteBulk(channel);
        }
    }

    private static void NumSub(Session s, ArgList a) => CountSubscribers(s, a, shard: false);

    private static void ShardNumSub(Session s, ArgList a) => CountSubscribers(s, a, shard: true);

    private static void CountSubscribers(Session s, ArgList a, bool shard)
    {
        var registry = s.Server.PubSub;
        s.Reply.WriteArrayHeader((a.Count - 2) * 2);
        for (int i = 2; i < a.Count; i++)
        {
            s.Reply.WriteBulk(a[i]);
            s.Reply.WriteInteger(shard ? registry.ShardSubscriberCount(a[i]) : registry.SubscriberCount(a[i]));
        }
    }

    private static void NumPat(Session s, ArgList a) => s.Reply.WriteInteger(s.Server.PubSub.PatternCount);

    private static void Help(Session s, ArgList a) => HelpReply.Write(s, "PUBSUB",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)");

    private static void SubcommandSyntaxError(Session s, ArgList a)
    {
        string sub = a.GetString(1);
        s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{(sub.Length > 128 ? sub[..128] : sub)}'. Try PUBSUB HELP.");
    }
}
