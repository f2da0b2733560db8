using System.Buffers.Text;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Replication;

/// <summary>
/// The one write path into the <see cref="ChangeStream"/>, as Redis's call()/alsoPropagate: the dispatcher
/// brackets every command with <see cref="BeginCommand"/> and <see cref="EndCommand(Database, ArgList, bool, long)"/>;
/// a command that moved the keyspace's change counter is recorded as its arguments, or as the rewrite its handler
/// asked for (<see cref="Rewrite"/>), after anything it propagated itself (<see cref="Also"/>) and any key that
/// expired under it. What one outermost command (or EXEC, or the serving of a blocked client) recorded is one
/// execution unit: published alone when it is one command, wrapped in MULTI ... EXEC when it is several.
/// Deletions outside any command (active expiry, eviction) are units of their own. While nobody subscribes to
/// the stream nothing is recorded: a command costs a counter comparison.
/// </summary>
public sealed class Propagator(Keyspace keyspace)
{
    private static readonly byte[] MultiName = "MULTI"u8.ToArray();
    private static readonly byte[] ExecName = "EXEC"u8.ToArray();
    private static readonly byte[] DelName = "DEL"u8.ToArray();
    private static readonly byte[] UnlinkName = "UNLINK"u8.ToArray();

    private readonly List<(int Db, byte[][]? Argv, PropagatedCommand? Built)> _pending = [];
    private int _depth;
    private PropagatedCommand? _rewrite;
    private bool _prevented;
    private bool _forced;

    /// <summary>The stream the changes go to.</summary>
    public ChangeStream Stream { get; } = new();

    /// <summary>True when changes are recorded (somebody subscribes to the stream and this node is not a replica).</summary>
    public bool IsRecording => Stream.HasSubscribers && !FollowsMaster;

    /// <summary>
    /// Set while this node is a replica: its stream is its master's, passed on verbatim, so its own commands
    /// (the master's applied, or local writes on a writable replica) record nothing, as in Redis.
    /// </summary>
    public bool FollowsMaster { get; set; }

    /// <summary>
    /// redis.set_repl of the running script (Redis's PROPAGATE_AOF | PROPAGATE_REPL, 3 outside scripts): below 2, the
    /// commands it runs reach neither replicas nor the stream (the node has no AOF apart from the stream).
    /// </summary>
    public int ScriptReplication { get; set; } = 3;

    /// <summary>Called before a command's handler runs; returns the change counter to hand to <c>EndCommand</c>.</summary>
    public long BeginCommand()
    {
        _depth++;
        _rewrite = null;
        _prevented = false;
        _forced = false;
        keyspace.DeclaredChanges = -1;
        return keyspace.Changes;
    }

    /// <summary>
    /// Called after the handler of <paramref name="args"/> ran in <paramref name="db"/>: records it (or its rewrite)
    /// when it changed something, unless <paramref name="propagatesItself"/> is false (EXEC: its commands are recorded
    /// one by one); publishes the unit when this was the outermost command.
    /// </summary>
    public void EndCommand(Database db, ArgList args, bool propagatesItself, long changesBefore)
    {
        bool changed = keyspace.Changes != changesBefore;
        if (propagatesItself)
        {
            CountDirty(changed);
        }
        if (IsRecording && propagatesItself && !_prevented && (_forced || changed) && (_depth == 1 || ScriptReplication >= 2))
        {
            _pending.Add((db.Id, _rewrite is null ? args.ToArrays() : null, _rewrite));
        }
        Finish();
    }

    /// <summary>
    /// Called after a command with no arguments of its own was run for a client (a blocked client served from a key):
    /// records the rewrite its code asked for, if it changed something.
    /// </summary>
    public void EndCommand(Database db, long changesBefore)
    {
        bool changed = keyspace.Changes != changesBefore;
        CountDirty(changed);
        if (IsRecording && !_prevented && _rewrite is { } rewrite && (_forced || changed))
        {
            _pending.Add((db.Id, null, rewrite));
        }
        Finish();
    }

    /// <summary>
    /// Propagates the running command as <paramref name="name"/> and the arguments added to the result, instead
    /// of its own arguments (Redis's rewriteClientCommandVector). Null while nothing is recorded, so that
    /// <c>Rewrite(...)?.Add(...)</c> costs nothing then.
    /// </summary>
    public PropagatedCommand? Rewrite(ReadOnlySpan<byte> name)
    {
        if (!IsRecording)
        {
            return null;
        }
        _rewrite = new PropagatedCommand(name);
        return _rewrite;
    }

    /// <summary>
    /// Propagates one more command in <paramref name="db"/>, in order with the running command's other changes
    /// (Redis's alsoPropagate); null while nothing is recorded.
    /// </summary>
    public PropagatedCommand? Also(Database db, ReadOnlySpan<byte> name)
    {
        if (!IsRecording)
        {
            return null;
        }
        // Its arguments are appended after it is queued: it is serialized when the unit is published.
        var command = new PropagatedCommand(name);
        _pending.Add((db.Id, null, command));
        return command;
    }

    /// <summary>The running command itself is not propagated (its changes went out through <see cref="Also"/>).</summary>
    public void Prevent() => _prevented = true;

    /// <summary>The running command is propagated even if it changed nothing (FLUSHALL, FLUSHDB on empty databases).</summary>
    public void Force() => _forced = true;

    /// <summary>A key was deleted by expiry or eviction: DEL (UNLINK when <paramref name="lazy"/>), a unit of its own outside commands.</summary>
    public void Deletion(Database db, ReadOnlySpan<byte> key, bool lazy)
    {
        if (!IsRecording)
        {
            return;
        }
        _pending.Add((db.Id, [lazy ? UnlinkName : DelName, key.ToArray()], null));
        if (_depth == 0)
        {
            Publish();
        }
    }

    /// <summary>Redis's server.dirty: what the command declared, or one when it changed anything.</summary>
    private void CountDirty(bool changed)
    {
        long declared = keyspace.DeclaredChanges;
        keyspace.Dirty += declared >= 0 ? declared : changed ? 1 : 0;
        keyspace.DeclaredChanges = -1;
    }

    private void Finish()
    {
        _depth--;
        _rewrite = null;
        _prevented = false;
        _forced = false;
        if (_depth == 0 && _pending.Count > 0)
        {
            Publish();
        }
    }

    private void Publish()
    {
        bool wrap = _pending.Count > 1;
        if (wrap)
        {
            Stream.Append(_pending[0].Db, [MultiName]);
        }
        foreach (var (db, argv, built) in _pending)
        {
            Stream.Append(db, argv ?? built!.ToArgv());
        }
        if (wrap)
        {
            Stream.Append(-1, [ExecName]);
        }
        _pending.Clear();
        Stream.Publish();
    }
}

/// <summary>A command built for the change stream by a handler (a rewrite or an extra command).</summary>
public sealed class PropagatedCommand
{
    private readonly List<byte[]> _args = [];

    internal PropagatedCommand(ReadOnlySpan<byte> name) => _args.Add(name.ToArray());

    /// <summary>Appends an argument.</summary>
    public PropagatedCommand Add(ReadOnlySpan<byte> arg)
    {
        _args.Add(arg.ToArray());
        return this;
    }

    /// <summary>Appends an integer argument in decimal.</summary>
    public PropagatedCommand Add(long number)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(number, digits, out int length);
        return Add(digits[..length]);
    }

    internal byte[][] ToArgv() => [.. _args];
}
