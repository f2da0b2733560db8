using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CacheOperator.Node.Server.Transport;

/// <summary>
/// The node's network loop on Linux (Redis's ae loop): one thread waits in epoll, reads each ready client
/// once per turn (so a client that keeps sending cannot starve the others), runs its commands inline,
/// and sends every pending reply before it waits again. One receive per request instead of the two of
/// .NET's socket engine (a speculative receive before each wait), and no thread hop.
/// </summary>
internal sealed unsafe partial class EpollLoop
{
    private const int MaxEvents = 256;

    /// <summary>Bytes one receive may take: a client's turn reads at most this much (Redis reads 16 KiB, more for big arguments).</summary>
    internal const int ReceiveBufferSize = 64 * 1024;

    /// <summary>Bytes gathered from a client's reply segments into one send.</summary>
    internal const int SendBufferSize = 64 * 1024;

    /// <summary>The epoll tag of the wake-up eventfd (client slots are small non-negative numbers).</summary>
    private const ulong WakeTag = ulong.MaxValue;

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly ConcurrentQueue<EpollConnection> _posted = new();
    private readonly List<EpollConnection?> _slots = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly List<EpollConnection> _pendingSends = [];
    private readonly Thread _thread;
    private int _wakePending;

    /// <summary>The receive buffer shared by every connection (only the loop thread receives), native so it never moves.</summary>
    internal byte* ReceiveBuffer { get; } = (byte*)NativeMemory.Alloc(ReceiveBufferSize);

    /// <summary>The buffer replies spread over several segments are gathered into before one send (loop thread only).</summary>
    internal byte* SendBuffer { get; } = (byte*)NativeMemory.Alloc(SendBufferSize);

    private EpollLoop(int epoll, int wakeFd)
    {
        _epoll = epoll;
        _wakeFd = wakeFd;
        _thread = new Thread(Run) { IsBackground = true, Name = "cache-node io" };
        _thread.Start();
    }

    /// <summary>True when this machine can run the loop (Linux on x64, whose epoll_event layout is declared here).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    private static readonly Lazy<EpollLoop> SharedLoop = new(Start);

    /// <summary>The process's loop, started on first use (servers in one process, as in tests, share it).</summary>
    public static EpollLoop Shared => SharedLoop.Value;

    /// <summary>Starts the loop's thread.</summary>
    private static EpollLoop Start()
    {
        int epoll = Native.epoll_create1(Native.EPOLL_CLOEXEC);
        if (epoll < 0)
        {
            throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }
        int wake = Native.eventfd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        if (wake < 0)
        {
            throw new IOException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        }
        var ev = new Native.EpollEvent { Events = Native.EPOLLIN, Data = WakeTag };
        Native.epoll_ctl(epoll, Native.EPOLL_CTL_ADD, wake, &ev);
        return new EpollLoop(epoll, wake);
    }

    /// <summary>Takes over an accepted socket: returns the pipes its commands are read from and replied to.</summary>
    public IDuplexPipe Add(Socket socket)
    {
        socket.Blocking = false;
        var connection = new EpollConnection(this, socket);
        Post(connection);
        return connection;
    }

    /// <summary>True on the loop's own thread.</summary>
    internal bool OnLoopThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>Asks the loop to look at <paramref name="connection"/> (registration, new replies, resumed input) from any thread.</summary>
    internal void Post(EpollConnection connection)
    {
        if (OnLoopThread)
        {
            Schedule(connection);
            return;
        }
        _posted.Enqueue(connection);
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            Native.write(_wakeFd, &one, sizeof(ulong));
        }
    }

    /// <summary>Queues a connection whose replies should be sent before the loop waits again.</summary>
    internal void Schedule(EpollConnection connection)
    {
        if (!connection.SendScheduled)
        {
            connection.SendScheduled = true;
            _pendingSends.Add(connection);
        }
    }

    /// <summary>Changes the events the loop waits for on a connection's socket.</summary>
    internal void Watch(EpollConnection connection, bool readable, bool writable)
    {
        var ev = new Native.EpollEvent { Events = (readable ? Native.EPOLLIN | Native.EPOLLRDHUP : 0) | (writable ? Native.EPOLLOUT : 0), Data = (ulong)connection.Slot };
        Native.epoll_ctl(_epoll, Native.EPOLL_CTL_MOD, connection.Fd, &ev);
    }

    /// <summary>Forgets a connection whose socket is about to be closed.</summary>
    internal void Remove(EpollConnection connection)
    {
        if (connection.Slot < 0)
        {
            return;
        }
        Native.epoll_ctl(_epoll, Native.EPOLL_CTL_DEL, connection.Fd, null);
        _slots[connection.Slot] = null;
        _freeSlots.Push(connection.Slot);
        connection.Slot = -1;
    }

    private void Register(EpollConnection connection)
    {
        int slot;
        if (_freeSlots.Count > 0)
        {
            slot = _freeSlots.Pop();
            _slots[slot] = connection;
        }
        else
        {
            slot = _slots.Count;
            _slots.Add(connection);
        }
        connection.Slot = slot;
        var ev = new Native.EpollEvent { Events = Native.EPOLLIN | Native.EPOLLRDHUP, Data = (ulong)slot };
        if (Native.epoll_ctl(_epoll, Native.EPOLL_CTL_ADD, connection.Fd, &ev) < 0)
        {
            connection.Slot = -1;
            _slots[slot] = null;
            _freeSlots.Push(slot);
            connection.Fail(new IOException("could not watch the socket"));
        }
    }

    private void Run()
    {
        var events = new Native.EpollEvent[MaxEvents];
        while (true)
        {
            Turn(events, _pendingSends.Count > 0 ? 0 : -1);
        }
    }

    private Native.EpollEvent[]? _nestedEvents;
    private bool _inNestedTurn;

    /// <summary>
    /// One turn without waiting, from inside a command that runs long on this thread (a busy script): other clients'
    /// requests are read and answered (their commands see the script busy), replies go out.
    /// </summary>
    internal void RunNestedTurn()
    {
        if (_inNestedTurn || !OnLoopThread)
        {
            return;
        }
        _inNestedTurn = true;
        try
        {
            Turn(_nestedEvents ??= new Native.EpollEvent[MaxEvents], 0);
        }
        finally
        {
            _inNestedTurn = false;
        }
    }

    private void Turn(Native.EpollEvent[] events, int timeout)
    {
        {
            int n;
            fixed (Native.EpollEvent* p = events)
            {
                n = Native.epoll_wait(_epoll, p, MaxEvents, timeout);
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Native.EINTR)
                {
                    return;
                }
                throw new IOException($"epoll_wait failed: errno {errno}");
            }
            for (int i = 0; i < n; i++)
            {
                ulong tag = events[i].Data;
                if (tag == WakeTag)
                {
                    ulong value;
                    Native.read(_wakeFd, &value, sizeof(ulong));
                    continue;
                }
                if (_slots[(int)tag] is not { } connection)
                {
                    continue;
                }
                uint flags = events[i].Events;
                try
                {
                    if ((flags & (Native.EPOLLOUT | Native.EPOLLHUP | Native.EPOLLERR)) != 0)
                    {
                        connection.OnWritable();
                    }
                    if ((flags & (Native.EPOLLIN | Native.EPOLLRDHUP | Native.EPOLLHUP | Native.EPOLLERR)) != 0)
                    {
                        connection.OnReadable();
                    }
                }
                catch (Exception e)
                {
                    // A bug must cost one client, not the loop every client depends on.
                    connection.Fail(e);
                }
            }
            Volatile.Write(ref _wakePending, 0);
            while (_posted.TryDequeue(out var posted))
            {
                if (!posted.Registered)
                {
                    posted.Registered = true;
                    Register(posted);
                }
                else
                {
                    Schedule(posted);
                }
            }
            // Replies go out after every ready client had its turn: one send per client per turn.
            for (int i = 0; i < _pendingSends.Count; i++)
            {
                var connection = _pendingSends[i];
                connection.SendScheduled = false;
                try
                {
                    connection.OnSendScheduled();
                }
                catch (Exception e)
                {
                    connection.Fail(e);
                }
            }
            _pendingSends.Clear();
        }
    }

    /// <summary>The libc calls the loop needs (x64 Linux layouts).</summary>
    internal static partial class Native
    {
        public const int EPOLL_CLOEXEC = 0x80000;
        public const int EFD_NONBLOCK = 0x800;
        public const int EFD_CLOEXEC = 0x80000;
        public const int EPOLL_CTL_ADD = 1;
        public const int EPOLL_CTL_DEL = 2;
        public const int EPOLL_CTL_MOD = 3;
        public const uint EPOLLIN = 0x1;
        public const uint EPOLLOUT = 0x4;
        public const uint EPOLLERR = 0x8;
        public const uint EPOLLHUP = 0x10;
        public const uint EPOLLRDHUP = 0x2000;
        public const int EINTR = 4;
        public const int EAGAIN = 11;
        public const int MSG_NOSIGNAL = 0x4000;

        [LibraryImport("libc", SetLastError = true)]
        public static partial int epoll_create1(int flags);

        [LibraryImport("libc", SetLastError = true)]
        public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

        [LibraryImport("libc", SetLastError = true)]
        public static partial int epoll_wait(int epfd, EpollEvent* events, int maxEvents, int timeout);

        [LibraryImport("libc", SetLastError = true)]
        public static partial int eventfd(uint initval, int flags);

        [LibraryImport("libc", SetLastError = true)]
        public static partial nint read(int fd, void* buffer, nint count);

        [LibraryImport("libc", SetLastError = true)]
        public static partial nint write(int fd, void* buffer, nint count);

        [LibraryImport("libc", SetLastError = true)]
        public static partial nint recv(int fd, byte* buffer, nint length, int flags);

        [LibraryImport("libc", SetLastError = true)]
        public static partial nint send(int fd, byte* buffer, nint length, int flags);

        /// <summary>struct epoll_event, packed on x86-64.</summary>
        [StructLayout(LayoutKind.Sequential, Pack = 4)]
        public struct EpollEvent
        {
            public uint Events;
            public ulong Data;
        }
    }
}
