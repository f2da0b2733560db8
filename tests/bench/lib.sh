# Shared helpers of the benchmark scripts (sourced): ports, readiness, process memory.

# A TCP port free on loopback now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

# Waits up to 20 s until the server on port $1 answers PING; exits the script otherwise.
wait_ready() { for _ in $(seq 200); do redis-cli -p "$1" PING 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

# Resident memory of process $1 in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
