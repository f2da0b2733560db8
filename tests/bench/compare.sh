#!/usr/bin/env bash
# Side-by-side benchmark: the node (Release), Debian's redis-server and Microsoft Garnet on loopback, driven by
# redis-benchmark in interleaved rounds (every workload hits every server once per round, the order
# rotating), printing medians of requests/s, p50/p99 latency, server CPU per request, and ratios.
#
#   tests/bench/compare.sh [--rounds N] [--requests N] [--quick]
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=3
requests=200000
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --quick) rounds=1; requests=50000; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

echo "Building the node (Release)..."
dotnet publish node -c Release -o "$work/node" --nologo -v quiet >/dev/null
echo "Building the Garnet host (Release)..."
dotnet publish tests/bench/GarnetHost -c Release -o "$work/garnet" --nologo -v quiet >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
wait_ready() { for _ in $(seq 100); do redis-cli -p "$1" PING 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

node_port=$(free_port)
dotnet "$work/node/cache-node.dll" --port "$node_port" --bind 127.0.0.1 --loglevel warning >"$work/node.log" 2>&1 &
node_pid=$!
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >"$work/redis.log" 2>&1 &
redis_pid=$!
garnet_port=$(free_port)
dotnet "$work/garnet/GarnetHost.dll" --port "$garnet_port" --bind 127.0.0.1 >"$work/garnet.log" 2>&1 &
garnet_pid=$!
wait_ready "$node_port"
wait_ready "$redis_port"
wait_ready "$garnet_port"

servers=(node redis garnet)
declare -A port=([node]=$node_port [redis]=$redis_port [garnet]=$garnet_port)
declare -A pid=([node]=$node_pid [redis]=$redis_pid [garnet]=$garnet_pid)

# name|redis-benchmark arguments
workloads=(
  "GET|-t get -c 50"
  "SET|-t set -c 50"
  "GET -P 16|-t get -c 50 -P 16"
  "SET -P 16|-t set -c 50 -P 16"
)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# Warm-up (JIT, connection pools, allocator), not measured.
for server in "${servers[@]}"; do
  redis-benchmark -p "${port[$server]}" -t get,set -n 20000 -c 50 -P 16 -r 100000 -d 64 -q >/dev/null
done

results="$work/results.csv"
: >"$results"
for ((round = 0; round < rounds; round++)); do
  for w in "${workloads[@]}"; do
    name=${w%%|*}
    args=${w#*|}
    for ((k = 0; k < ${#servers[@]}; k++)); do
      server=${servers[$(((k + round) % ${#servers[@]}))]}
      before=$(cpu_ticks "${pid[$server]}")
      # shellcheck disable=SC2086
      line=$(redis-benchmark -p "${port[$server]}" $args -n "$requests" -r 100000 -d 64 --csv -q | tail -1)
      after=$(cpu_ticks "${pid[$server]}")
      # "test","rps","avg","min","p50","p95","p99","max"
      IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$(tr -d '"' <<<"$line")"
      cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
      echo "$name,$server,$rps,$p50,$p99,$cpu_us" >>"$results"
    done
  done
done

median() { sort -g | awk '{a[NR]=$1} END { if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2] + a[NR/2+1]) / 2 }'; }
stat() { awk -F, -v w="$1" -v s="$2" -v c="$3" '$1==w && $2==s {print $c}' "$results" | median; }

echo
echo "Medians of $rounds interleaved round(s), $requests requests each, 64-byte values, -r 100000, $(nproc) cores"
printf '%-12s %-6s %12s %9s %9s %12s\n' workload server "req/s" "p50 ms" "p99 ms" "cpu us/req"
for w in "${workloads[@]}"; do
  name=${w%%|*}
  for server in "${servers[@]}"; do
    printf '%-12s %-6s %12s %9s %9s %12s\n' "$name" "$server" "$(stat "$name" "$server" 3)" "$(stat "$name" "$server" 4)" "$(stat "$name" "$server" 5)" "$(stat "$name" "$server" 6)"
  done
done
echo
for w in "${workloads[@]}"; do
  name=${w%%|*}
  for other in redis garnet; do
    awk -v n="$name" -v o="$other" -v a="$(stat "$name" node 3)" -v b="$(stat "$name" "$other" 3)" -v ca="$(stat "$name" node 6)" -v cb="$(stat "$name" "$other" 6)" \
      'BEGIN { printf "ratio node/%-6s %-10s req/s %.2f  cpu/req %.2f\n", o, n, a / b, (cb > 0 ? ca / cb : 0) }'
  done
done
