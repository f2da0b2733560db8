#!/usr/bin/env bash
# What a background save costs the clients (issue 12): the node (Release) and, for reference, redis-server (fork)
# each load N keys, then a single-connection SET client (redis-benchmark -c 1) runs twice: alone, and while a
# BGSAVE of the whole dataset runs. Prints the client's latency (avg/p99/max) both ways, the save's duration, and
# for the node the longest single hold of the keyspace lock by the snapshot (from its "bgsave_done" log line).
# With --full-sync the snapshot is a replica's full sync instead of a BGSAVE: a fresh replica of the same kind runs
# REPLICAOF while the client writes, and the time is until the replica's link is up (the diskless RDB streamed).
#
#   tests/bench/snapshot-latency.sh [--keys N] [--requests N] [--no-build] [--servers "node redis"] [--full-sync]
# Machine is shared: run it once, not in a loop.
set -euo pipefail
cd "$(dirname "$0")/../.."

keys=1000000
requests=200000
build=1
servers=(node redis)
mode=bgsave
while (($#)); do
  case "$1" in
    --full-sync) mode=sync; shift ;;
    --keys) keys=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --servers) read -r -a servers <<<"$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
out=${BENCH_OUT:-/tmp/cacheoperator-bench}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if ((build)); then
  dotnet publish node -c Release -o "$out/node" --nologo -v quiet >/dev/null
fi

# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

# The load: N SETs as RESP, piped in one go.
python3 - "$keys" >"$work/load.resp" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    k = b"key:%012d" % i  # redis-benchmark -r names its keys so
    v = b"value-%016d" % i
    out.buffer.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
EOF

bench() { # port -> "avg p99 max" of a single-connection SET run over the loaded keys
  redis-benchmark -p "$1" -t set -c 1 -n "$requests" -r "$keys" -d 24 --csv 2>/dev/null |
    python3 -c 'import sys,csv; rows=list(csv.reader(sys.stdin)); h=rows[0]; r=rows[1]; d=dict(zip(h,r)); print(d["avg_latency_ms"], d["p99_latency_ms"], d["max_latency_ms"])'
}

start_server() { # kind port dir
  case "$1" in
    node) "$out/node/cache-node" --port "$2" --bind 127.0.0.1 --save '' --dir "$3" --loglevel notice >"$3/log" 2>&1 & ;;
    redis) redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --dir "$3" --loglevel notice >"$3/log" 2>&1 & ;;
  esac
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

during_label="spanning BGSAVE avg/p99/max"
[[ $mode == sync ]] && during_label="spanning full sync avg/p99/max"
printf '%-6s %10s | %-26s | %-30s | %9s | %s\n' server keys "alone avg/p99/max ms" "$during_label" "$mode ms" "longest snapshot lock hold"
for server in "${servers[@]}"; do
  port=$(free_port)
  dir="$work/$server"
  mkdir -p "$dir"
  start_server "$server" "$port" "$dir"
  redis-cli -p "$port" --pipe <"$work/load.resp" >/dev/null
  alone=$(bench "$port")
  if [[ $mode == sync ]]; then
    replica_port=$(free_port)
    mkdir -p "$dir/replica"
    start_server "$server" "$replica_port" "$dir/replica"
  fi
  bench "$port" >"$dir/during" &
  bench_pid=$!
  sleep 1
  started=$(date +%s%N)
  if [[ $mode == sync ]]; then
    redis-cli -p "$replica_port" replicaof 127.0.0.1 "$port" >/dev/null
    until redis-cli -p "$replica_port" info replication | grep -q 'master_link_status:up'; do sleep 0.01; done
  else
    redis-cli -p "$port" bgsave >/dev/null
    while redis-cli -p "$port" info persistence | grep -q 'rdb_bgsave_in_progress:1'; do sleep 0.01; done
  fi
  save_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  wait "$bench_pid"
  during=$(cat "$dir/during")
  hold=n/a
  if [[ $server == node ]]; then
    hold=$(grep -o 'longest_lock_hold_ms=[0-9.]*' "$dir/log" | tail -1 | cut -d= -f2)
    hold="${hold:-?} ms"
  fi
  printf '%-6s %10s | %-26s | %-30s | %9s | %s\n' "$server" "$keys" "$alone" "$during" "$save_ms" "$hold"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  [[ $mode == sync ]] && { redis-cli -p "$replica_port" shutdown nosave >/dev/null 2>&1 || true; }
done
