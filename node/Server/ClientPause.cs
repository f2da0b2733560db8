using CacheOperator.Node.Commands;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>What CLIENT PAUSE holds: nothing, write commands, or every command.</summary>
public enum PauseKind
{
    /// <summary>No pause.</summary>
    None,

    /// <summary>Write commands (and EXEC of a transaction holding one) wait; reads go on.</summary>
    Write,

    /// <summary>Every command waits, CLIENT UNPAUSE included (Redis 7.0).</summary>
    All,
}

/// <summary>
/// CLIENT PAUSE and UNPAUSE (Redis 7.0): a held client is not refused; its command waits, with the rest of
/// its pipeline, until the pause ends (by timeout or UNPAUSE) and then runs. While paused, keys are neither
/// expired nor evicted (<see cref="Keyspace.ChangesPaused"/>). Monitors, like Redis's replicas, are never held.
/// Everything runs under the keyspace lock.
/// </summary>
public sealed class ClientPause
{
    private readonly Keyspace _keyspace;
    private TaskCompletionSource _lifted = NewLifted();
    private Timer? _timer;

    internal ClientPause(Keyspace keyspace) => _keyspace = keyspace;

    /// <summary>The pause in force.</summary>
    public PauseKind Kind { get; private set; }

    /// <summary>TickCount64 at which it ends.</summary>
    public long EndMs { get; private set; }

    /// <summary>
    /// Pauses for <paramref name="timeoutMs"/>; as in Redis a second pause never weakens the first: the
    /// stronger kind and the later end win.
    /// </summary>
    public void Pause(long timeoutMs, PauseKind kind)
    {
        long end = Environment.TickCount64 + Math.Min(timeoutMs, long.MaxValue / 4);
        if (kind > Kind)
        {
            Kind = kind;
        }
        if (end > EndMs)
        {
            EndMs = end;
        }
        _keyspace.ChangesPaused = true;
        _timer ??= new Timer(_ => OnTimer());
        _timer.Change(Math.Clamp(EndMs - Environment.TickCount64, 0, 0xfffffffe), Timeout.Infinite);
    }

    /// <summary>Ends the pause and lets the held clients run (CLIENT UNPAUSE, timeout).</summary>
    public void Unpause()
    {
        Kind = PauseKind.None;
        EndMs = 0;
        _keyspace.ChangesPaused = false;
        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        var lifted = _lifted;
        _lifted = NewLifted();
        lifted.TrySetResult();
    }

    /// <summary>
    /// True when <paramref name="spec"/> from <paramref name="session"/> must wait; then
    /// <see cref="Session.Suspension"/> is the end of the pause and the command runs again after it.
    /// </summary>
    public bool Hold(Session session, CommandSpec spec)
    {
        if (Environment.TickCount64 >= EndMs)
        {
            // The timer may not have run yet: a pause past its end holds nobody.
            Unpause();
            return false;
        }
        if (session.IsMonitor || session.DenyBlocking)
        {
            return false;
        }
        bool writes = (spec.Flags & CommandFlags.Write) != 0
            || (spec.Name == "exec" && session.Multi is { HasWrites: true });
        if (Kind != PauseKind.All && !writes)
        {
            return false;
        }
        session.LastCommand = spec;
        session.Suspension = _lifted.Task;
        session.Postponed = true;
        return true;
    }

    private static TaskCompletionSource NewLifted() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void OnTimer()
    {
        lock (_keyspace.Sync)
        {
            if (Kind == PauseKind.None)
            {
                return;
            }
            long remaining = EndMs - Environment.TickCount64;
            if (remaining > 0)
            {
                _timer!.Change(Math.Min(remaining, 0xfffffffe), Timeout.Infinite);
                return;
            }
            Unpause();
        }
    }
}
