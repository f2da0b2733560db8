using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.PubSub;

/// <summary>
/// Channels, patterns and shard channels with their subscribers, as Redis's server.pubsub_channels,
/// pubsub_patterns and pubsubshard_channels, and the delivery of messages to them. A message goes through each
/// subscriber's <see cref="OutboundQueue"/> (whose pubsub-class limit closes a slow subscriber, so publishers never
/// wait), or straight into the reply of the client whose command published it, so that it precedes the command's
/// reply as in Redis. Under the keyspace lock.
/// </summary>
public sealed class PubSubRegistry
{
    private static readonly byte[] MessageKind = "message"u8.ToArray();
    private static readonly byte[] SMessageKind = "smessage"u8.ToArray();
    private static readonly byte[] PMessageKind = "pmessage"u8.ToArray();

    private readonly Dictionary<byte[], HashSet<Session>> _channels = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], HashSet<Session>> _shardChannels = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], HashSet<Session>> _patterns = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], HashSet<Session>>.AlternateLookup<ReadOnlySpan<byte>> _channelLookup;
    private readonly Dictionary<byte[], HashSet<Session>>.AlternateLookup<ReadOnlySpan<byte>> _shardLookup;

    /// <summary>An empty registry.</summary>
    public PubSubRegistry()
    {
        _channelLookup = _channels.GetAlternateLookup<ReadOnlySpan<byte>>();
        _shardLookup = _shardChannels.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>The client whose command is running (Redis's server.current_client): its messages go before its reply.</summary>
    internal Session? CurrentClient { get; set; }

    /// <summary>Channels with at least one subscriber (INFO pubsub_channels).</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Patterns with at least one subscriber (INFO pubsub_patterns, PUBSUB NUMPAT).</summary>
    public int PatternCount => _patterns.Count;

    /// <summary>Shard channels with at least one subscriber (INFO pubsubshard_channels).</summary>
    public int ShardChannelCount => _shardChannels.Count;

    /// <summary>True when anybody subscribes to a channel or a pattern: publishers of generated messages (keyspace events) check it first.</summary>
    public bool HasSubscribers => _channels.Count > 0 || _patterns.Count > 0;

    /// <summary>
    /// Sends <paramref name="message"/> to the subscribers of <paramref name="channel"/> and of every pattern matching it,
    /// on this node only; returns how many received it (Redis's pubsubPublishMessage).
    /// </summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        int receivers = 0;
        if (_channelLookup.TryGetValue(channel, out var subscribers))
        {
            foreach (var subscriber in subscribers)
            {
                Deliver(subscriber, MessageKind, channel, message);
                receivers++;
            }
        }
        foreach (var (pattern, patternSubscribers) in _patterns)
        {
            if (!Glob.IsMatch(pattern, channel))
            {
                continue;
            }
            foreach (var subscriber in patternSubscribers)
            {
                var writer = Begin(subscriber);
                writer.WritePushHeader(4);
                writer.WriteBulk(PMessageKind);
                writer.WriteBulk(pattern);
                writer.WriteBulk(channel);
                writer.WriteBulk(message);
                End(subscriber);
                receivers++;
            }
        }
        return receivers;
    }

    /// <summary>Sends <paramref name="message"/> to the subscribers of shard channel <paramref name="channel"/> on this node (patterns do not apply).</summary>
    public int PublishShard(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        int receivers = 0;
        if (_shardLookup.TryGetValue(channel, out var subscribers))
        {
            foreach (var subscriber in subscribers)
            {
                Deliver(subscriber, SMessageKind, channel, message);
                receivers++;
            }
        }
        return receivers;
    }

    /// <summary>
    /// Starts a "message" from <paramref name="channel"/> to one subscriber whose payload the caller writes (one RESP value,
    /// like the array of keys of a tracking invalidation) into the returned writer; then call <see cref="EndMessage"/>.
    /// </summary>
    public ReplyWriter BeginMessage(Session subscriber, ReadOnlySpan<byte> channel)
    {
        var writer = Begin(subscriber);
        writer.WritePushHeader(3);
        writer.WriteBulk(MessageKind);
        writer.WriteBulk(channel);
        return writer;
    }

    /// <summary>Sends what was written since <see cref="BeginMessage"/>.</summary>
    public void EndMessage(Session subscriber) => End(subscriber);

    /// <summary>True when <paramref name="session"/> subscribes to <paramref name="channel"/> itself (not through a pattern).</summary>
    public static bool IsSubscribed(Session session, ReadOnlySpan<byte> channel) =>
        session.Subscriptions is { } subscriptions && subscriptions.Channels.Contains(channel);

    /// <summary>Subscribers of <paramref name="channel"/> (PUBSUB NUMSUB), patterns not counted.</summary>
    public int SubscriberCount(ReadOnlySpan<byte> channel) => _channelLookup.TryGetValue(channel, out var set) ? set.Count : 0;

    /// <summary>Subscribers of shard channel <paramref name="channel"/> (PUBSUB SHARDNUMSUB).</summary>
    public int ShardSubscriberCount(ReadOnlySpan<byte> channel) => _shardLookup.TryGetValue(channel, out var set) ? set.Count : 0;

    /// <summary>Active channels (or shard channels) matching <paramref name="pattern"/>, every one when it is null.</summary>
    public List<byte[]> ListChannels(bool shard, ReadOnlySpan<byte> pattern, bool all)
    {
        var result = new List<byte[]>();
        foreach (var channel in (shard ? _shardChannels : _channels).Keys)
        {
            if (all || Glob.IsMatch(pattern, channel))
            {
                result.Add(channel);
            }
        }
        return result;
    }

    /// <summary>Subscribes <paramref name="session"/> to a channel of <paramref name="kind"/>; false when it already was.</summary>
    public bool Subscribe(Session session, SubscriptionKind kind, ReadOnlySpan<byte> name)
    {
        var subscriptions = session.Subscriptions ??= new ClientSubscriptions();
        var own = subscriptions.Of(kind);
        if (own.Contains(name))
        {
            return false;
        }
        byte[] copy = name.ToArray();
        own.Add(copy);
        var registry = Of(kind);
        if (!registry.TryGetValue(copy, out var subscribers))
        {
            registry[copy] = subscribers = [];
        }
        subscribers.Add(session);
        session.IsPubSub = true;
        return true;
    }

    /// <summary>Unsubscribes <paramref name="session"/> from a channel of <paramref name="kind"/>; false when it was not subscribed.</summary>
    public bool Unsubscribe(Session session, SubscriptionKind kind, ReadOnlySpan<byte> name)
    {
        if (session.Subscriptions is not { } subscriptions || !subscriptions.Of(kind).Remove(name, out byte[]? stored))
        {
            return false;
        }
        var registry = Of(kind);
        if (registry.TryGetValue(stored, out var subscribers))
        {
            subscribers.Remove(session);
            if (subscribers.Count == 0)
            {
                // As Redis: a channel nobody listens to any more takes no memory.
                registry.Remove(stored);
            }
        }
        session.IsPubSub = subscriptions.Total > 0;
        return true;
    }

    /// <summary>Drops every subscription of <paramref name="session"/> without telling it (RESET, disconnect).</summary>
    public void UnsubscribeAll(Session session)
    {
        if (session.Subscriptions is not { } subscriptions)
        {
            return;
        }
        foreach (var kind in (ReadOnlySpan<SubscriptionKind>)[SubscriptionKind.Channel, SubscriptionKind.Pattern, SubscriptionKind.ShardChannel])
        {
            foreach (var name in subscriptions.Of(kind).ToArray())
            {
                Unsubscribe(session, kind, name);
            }
        }
        session.Subscriptions = null;
        session.IsPubSub = false;
    }

    private Dictionary<byte[], HashSet<Session>> Of(SubscriptionKind kind) => kind switch
    {
        SubscriptionKind.Channel => _channels,
        SubscriptionKind.Pattern => _patterns,
        _ => _shardChannels,
    };

    private void Deliver(Session subscriber, byte[] kind, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        var writer = Begin(subscriber);
        writer.WritePushHeader(3);
        writer.WriteBulk(kind);
        writer.WriteBulk(channel);
        writer.WriteBulk(message);
        End(subscriber);
    }

    /// <summary>The publishing client's own reply (its message precedes the command's reply), anyone else's outbound queue.</summary>
    private ReplyWriter Begin(Session subscriber) => subscriber == CurrentClient ? subscriber.Reply : subscriber.Outbound.Writer;

    private void End(Session subscriber)
    {
        if (subscriber != CurrentClient)
        {
            subscriber.Outbound.Send();
        }
    }
}

/// <summary>What a subscription names: a channel, a glob pattern of channels, or a shard channel (bound to its slot).</summary>
public enum SubscriptionKind
{
    /// <summary>SUBSCRIBE.</summary>
    Channel,

    /// <summary>PSUBSCRIBE.</summary>
    Pattern,

    /// <summary>SSUBSCRIBE.</summary>
    ShardChannel,
}

/// <summary>One client's subscriptions (Redis's c->pubsub_channels, pubsub_patterns, pubsubshard_channels), in the order made.</summary>
public sealed class ClientSubscriptions
{
    /// <summary>SUBSCRIBEd channels.</summary>
    public OrderedNames Channels { get; } = new();

    /// <summary>PSUBSCRIBEd patterns.</summary>
    public OrderedNames Patterns { get; } = new();

    /// <summary>SSUBSCRIBEd shard channels.</summary>
    public OrderedNames ShardChannels { get; } = new();

    /// <summary>Channels and patterns (Redis's clientSubscriptionsCount, the count SUBSCRIBE and PSUBSCRIBE replies give).</summary>
    public int ChannelsAndPatterns => Channels.Count + Patterns.Count;

    /// <summary>Every subscription, shard channels included: the client is in pub/sub mode while it is not zero.</summary>
    public int Total => Channels.Count + Patterns.Count + ShardChannels.Count;

    /// <summary>The names of one kind.</summary>
    public OrderedNames Of(SubscriptionKind kind) => kind switch
    {
        SubscriptionKind.Channel => Channels,
        SubscriptionKind.Pattern => Patterns,
        _ => ShardChannels,
    };
}

/// <summary>A set of byte-string names that remembers the order they were added in, found by span.</summary>
public sealed class OrderedNames
{
    private readonly List<byte[]> _order = [];
    private readonly HashSet<byte[]> _set = new(ByteArrayComparer.Instance);
    private readonly HashSet<byte[]>.AlternateLookup<ReadOnlySpan<byte>> _lookup;

    /// <summary>An empty set.</summary>
    public OrderedNames() => _lookup = _set.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>How many names.</summary>
    public int Count => _order.Count;

    /// <summary>True when <paramref name="name"/> is in the set.</summary>
    public bool Contains(ReadOnlySpan<byte> name) => _lookup.Contains(name);

    /// <summary>Adds a name known to be absent.</summary>
    public void Add(byte[] name)
    {
        _set.Add(name);
        _order.Add(name);
    }

    /// <summary>Removes <paramref name="name"/>, giving back the stored copy; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? stored)
    {
        if (!_lookup.TryGetValue(name, out stored))
        {
            return false;
        }
        _set.Remove(stored);
        _order.Remove(stored);
        return true;
    }

    /// <summary>A copy of the names in the order added.</summary>
    public byte[][] ToArray() => [.. _order];
}
