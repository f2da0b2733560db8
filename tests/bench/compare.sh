#!/usr/bin/env bash
# Side-by-side benchmark: the node (Release), Debian's redis-server and Microsoft Garnet on loopback.
#
# 1. Memory: fresh servers; RSS of the empty process, then exactly N distinct keys with 64-byte values
#    loaded with redis-cli --pipe; RSS growth from /proc/PID/status VmRSS.
# 2. Throughput: fresh servers, redis-benchmark in interleaved rounds (every workload hits every server
#    once per round, the order rotating); medians of requests/s, p50/p99 latency and server CPU per
#    request (user+system ticks of the server process from /proc/PID/stat over the run / requests).
#    A workload whose command a server answers with "unknown command" is skipped and shown as n/a.
# 3. The node's longest GC pause (INFO gc: gc_max_pause_ms, exact with CACHE_NODE_GC_EVENTS=1).
# Prints a plain table, ratios node/redis and node/garnet, and the same as markdown for the README.
#
#   tests/bench/compare.sh [--rounds N] [--requests N] [--quick] [--only REGEX] [--servers "node redis garnet"]
#                          [--memory-keys N] [--no-memory] [--no-build]
#   --servers may include nodeB: a second node for A/B runs, from $NODEB_DIR (default: the same build) with
#   the extra environment $NODEB_ENV (e.g. NODEB_ENV="DOTNET_TieredPGO=0").
#   --quick: 1 round, 20000 requests, 100000 keys for the memory test (a smoke run; noisy figures).
set -euo pipefail
# No pathname expansion: workload arguments such as XADD's '*' reach redis-benchmark as they are.
set -f
cd "$(dirname "$0")/../.."

rounds=3
requests=200000
memory_keys=1000000
only=""
servers=(node redis garnet)
memory=1
build=1
while (($#)); do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --quick) rounds=1; requests=20000; memory_keys=100000; shift ;;
    --only) only=$2; shift 2 ;;
    --servers) read -r -a servers <<<"$2"; shift 2 ;;
    --memory-keys) memory_keys=$2; shift 2 ;;
    --no-memory) memory=0; shift ;;
    --no-build) build=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
work=$(mktemp -d)
out=${BENCH_OUT:-/tmp/cacheoperator-bench}
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

if ((build)) || [ ! -f "$out/node/cache-node.dll" ]; then
  echo "Building the node (Release)..."
  dotnet publish node -c Release -o "$out/node" --nologo -v quiet >/dev/null
  if [[ " ${servers[*]} " == *" garnet "* ]]; then
    echo "Building the Garnet host (Release)..."
    dotnet publish tests/bench/GarnetHost -c Release -o "$out/garnet" --nologo -v quiet >/dev/null
  fi
fi

# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

declare -A port pid
start_server() {
  local server=$1 p
  p=$(free_port)
  case "$server" in
    node) CACHE_NODE_GC_EVENTS=1 "$out/node/cache-node" --port "$p" --bind 127.0.0.1 --save "" --metrics-port "$(free_port)" --loglevel warning >>"$work/node.log" 2>&1 & ;;
    nodeB) env CACHE_NODE_GC_EVENTS=1 ${NODEB_ENV:-} "${NODEB_DIR:-$out/node}/cache-node" --port "$p" --bind 127.0.0.1 --save "" --metrics-port "$(free_port)" --loglevel warning >>"$work/nodeB.log" 2>&1 & ;;
    redis) redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >>"$work/redis.log" 2>&1 & ;;
    garnet) dotnet "$out/garnet/GarnetHost.dll" --port "$p" --bind 127.0.0.1 >>"$work/garnet.log" 2>&1 & ;;
  esac
  pid[$server]=$!
  port[$server]=$p
}
start_servers() { for s in "${servers[@]}"; do start_server "$s"; done; for s in "${servers[@]}"; do wait_ready "${port[$s]}"; done; }
stop_servers() { for s in "${servers[@]}"; do kill "${pid[$s]}" 2>/dev/null || true; wait "${pid[$s]}" 2>/dev/null || true; done; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---- 1. Memory ------------------------------------------------------------------------------------
declare -A rss_empty rss_growth
if ((memory)); then
  echo "Generating $memory_keys SET commands (64-byte values)..."
  value=$(printf 'v%.0s' $(seq 64))
  awk -v n="$memory_keys" -v v="$value" 'BEGIN { for (i = 0; i < n; i++) { k = sprintf("key:%010d", i); printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n", length(k), k, v } }' >"$work/load.resp"
  start_servers
  sleep 2
  for s in "${servers[@]}"; do
    rss_empty[$s]=$(rss_kib "${pid[$s]}")
    redis-cli -p "${port[$s]}" --pipe <"$work/load.resp" >/dev/null
    sleep 2
    keys=$(redis-cli -p "${port[$s]}" DBSIZE)
    [[ $keys =~ ^[0-9]+$ ]] || keys=$(redis-cli -p "${port[$s]}" INFO keyspace | tr -d '\r' | sed -n 's/^db0:keys=\([0-9]*\).*/\1/p')
    [ "$keys" = "$memory_keys" ] || echo "warning: $s holds $keys keys, expected $memory_keys" >&2
    rss_growth[$s]=$(($(rss_kib "${pid[$s]}") - rss_empty[$s]))
  done
  stop_servers
fi

# ---- 2. Throughput --------------------------------------------------------------------------------
# name|redis-benchmark arguments|a command probing that the server knows the workload's command
all_workloads=(
  "GET|-t get -c 50|GET probe"
  "SET|-t set -c 50|GET probe"
  "GET -P 16|-t get -c 50 -P 16|GET probe"
  "SET -P 16|-t set -c 50 -P 16|GET probe"
  "LPUSH -P 16|-t lpush -c 50 -P 16|LPUSH probe:list x"
  "LPOP -P 16|-t lpop -c 50 -P 16|LPOP probe:list"
  "SADD -P 16|-t sadd -c 50 -P 16|SADD probe:set x"
  "HSET -P 16|-t hset -c 50 -P 16|HSET probe:hash f x"
  "ZADD -P 16|-t zadd -c 50 -P 16|ZADD probe:zset 1 x"
  "GET 1KiB -P 16|-t get -c 50 -P 16 -d 1024|GET probe"
  "SET 1KiB -P 16|-t set -c 50 -P 16 -d 1024|GET probe"
  "GET 1000c|-t get -c 1000|GET probe"
  "GEOADD -P 16|-c 50 -P 16 GEOADD geo:bench 13.__rand_int__ 38.__rand_int__ m:__rand_int__|GEOADD probe:geo 13.36 38.11 x"
  "XADD -P 16|-c 50 -P 16 XADD bench:stream * f v|XADD probe:stream * f v"
  "GEOSEARCH 2km -P 16|-c 50 -P 16 GEOSEARCH geo:search FROMLONLAT 13.361389 38.115556 BYRADIUS 2 km ASC|GEOSEARCH probe:geo FROMLONLAT 13.36 38.11 BYRADIUS 2 km"
  "PFADD -P 16|-c 50 -P 16 PFADD bench:hll el:__rand_int__|PFADD probe:hll x"
  "PFCOUNT -P 16|-c 50 -P 16 PFCOUNT bench:hll|PFCOUNT probe:hll"
  "XREADGROUP -P 16|-c 50 -P 16 XREADGROUP GROUP g c COUNT 1 STREAMS xs:bench >|XREADGROUP GROUP g c STREAMS probe:xs >"
)
workloads=()
for w in "${all_workloads[@]}"; do
  if [ -z "$only" ] || [[ ${w%%|*} =~ $only ]]; then workloads+=("$w"); fi
done

start_servers
# Workloads that read a pre-filled key get the same data on every server: GEOSEARCH reads geo:search, 100,000 points
# spread evenly (a fixed seed) over 2 x 1 degrees around Palermo, about 65 of them within its 2 km.
if [[ " ${workloads[*]} " == *"geo:search"* ]]; then
  awk 'BEGIN { srand(7); for (b = 0; b < 1000; b++) { printf "*302\r\n$6\r\nGEOADD\r\n$10\r\ngeo:search\r\n"; for (i = 0; i < 100; i++) { lon = sprintf("%.6f", 12.5 + rand() * 2); lat = sprintf("%.6f", 37.5 + rand()); m = sprintf("p:%d", b * 100 + i); printf "$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(lon), lon, length(lat), lat, length(m), m } } }' >"$work/geo.resp"
  for s in "${servers[@]}"; do
    # A server without the command (an older nodeB) fails the load; its workload is then skipped as n/a.
    redis-cli -p "${port[$s]}" --pipe <"$work/geo.resp" >/dev/null 2>&1 || true
    members=$(redis-cli -p "${port[$s]}" ZCARD geo:search)
    [ "$members" = 100000 ] || echo "warning: $s holds $members members in geo:search, expected 100000" >&2
  done
fi
# XREADGROUP reads xs:bench through group g: one entry per request, so the stream holds more entries than the warm-up
# and every round ask for (checked after the run: the group's entries-read must equal the requests sent).
xreadgroup_requests=$((50000 + rounds * requests))
if [[ " ${workloads[*]} " == *"xs:bench"* ]]; then
  awk -v n=$((xreadgroup_requests + 1000)) 'BEGIN { for (i = 1; i <= n; i++) { id = i "-1"; printf "*5\r\n$4\r\nXADD\r\n$8\r\nxs:bench\r\n$%d\r\n%s\r\n$3\r\njob\r\n$16\r\npayload-%08d\r\n", length(id), id, i } }' >"$work/xs.resp"
  for s in "${servers[@]}"; do
    redis-cli -p "${port[$s]}" --pipe <"$work/xs.resp" >/dev/null 2>&1 || true
    redis-cli -p "${port[$s]}" XGROUP CREATE xs:bench g 0 >/dev/null 2>&1 || true
  done
fi
# Warm-up, not measured: every workload once on every server, so that no server's first measured round
# pays for just-in-time compilation of that workload's code path (the node's and Garnet's JIT tiers).
for w in "${workloads[@]}"; do
  rest=${w#*|}
  args=${rest%%|*}
  for s in "${servers[@]}"; do
    # shellcheck disable=SC2086
    redis-benchmark -p "${port[$s]}" -n 50000 -r 100000 -d 64 -q $args >/dev/null 2>&1 || true
  done
done

declare -A supported
for w in "${workloads[@]}"; do
  name=${w%%|*}
  probe=${w##*|}
  for s in "${servers[@]}"; do
    # shellcheck disable=SC2086
    if redis-cli -p "${port[$s]}" $probe 2>&1 | grep -qi "unknown command"; then supported["$name|$s"]=0; else supported["$name|$s"]=1; fi
    redis-cli -p "${port[$s]}" DEL probe:list probe:set probe:hash probe:zset probe:geo probe:stream >/dev/null
  done
done

results="$work/results.csv"
: >"$results"
for ((round = 0; round < rounds; round++)); do
  for w in "${workloads[@]}"; do
    name=${w%%|*}
    rest=${w#*|}
    args=${rest%%|*}
    for ((k = 0; k < ${#servers[@]}; k++)); do
      s=${servers[$(((k + round) % ${#servers[@]}))]}
      ((supported["$name|$s"])) || continue
      before=$(cpu_ticks "${pid[$s]}")
      # -d and the output options before $args: a workload's own -d wins, and a custom command (everything after it) stays last.
      # shellcheck disable=SC2086
      line=$(redis-benchmark -p "${port[$s]}" -n "$requests" -r 100000 -d 64 --csv -q $args 2>/dev/null | tail -1)
      after=$(cpu_ticks "${pid[$s]}")
      # "test","rps","avg","min","p50","p95","p99","max"
      IFS=, read -r _ rps _ _ p50 _ p99 _ <<<"$(tr -d '"' <<<"$line")"
      [[ $rps =~ ^[0-9.]+$ ]] || { echo "warning: $s $name: $line" >&2; continue; }
      cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
      echo "$name,$s,$rps,$p50,$p99,$cpu_us" >>"$results"
    done
  done
done

# Every XREADGROUP delivered an entry: the group read exactly as many entries as requests were sent.
if [[ " ${workloads[*]} " == *"xs:bench"* ]]; then
  for s in "${servers[@]}"; do
    ((supported["XREADGROUP -P 16|$s"])) || continue
    read_count=$(redis-cli -p "${port[$s]}" XINFO GROUPS xs:bench | awk 'prev == "entries-read" {print; exit} {prev = $0}')
    pending=$(redis-cli -p "${port[$s]}" XPENDING xs:bench g | head -1)
    [ "$read_count" = "$xreadgroup_requests" ] && [ "$pending" = "$xreadgroup_requests" ] \
      || echo "warning: $s XREADGROUP delivered $read_count entries ($pending pending) for $xreadgroup_requests requests" >&2
    echo "$s: XREADGROUP delivered $read_count entries, $pending pending, for $xreadgroup_requests requests"
  done
fi

gc_max=n/a
for s in node nodeB; do
  if [[ " ${servers[*]} " == *" $s "* ]]; then
    g=$(redis-cli -p "${port[$s]}" INFO gc | tr -d '\r' | awk -F: '$1=="gc_max_pause_ms" {print $2}')
    if [ "$s" = node ]; then gc_max=$g; else echo "nodeB max GC pause: $g ms"; fi
  fi
done
stop_servers
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 3. Report ------------------------------------------------------------------------------------
median() { sort -g | awk '{a[NR]=$1} END { if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2] + a[NR/2+1]) / 2 }'; }
stat() { awk -F, -v w="$1" -v s="$2" -v c="$3" '$1==w && $2==s {print $c}' "$results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
has() { [[ " ${servers[*]} " == *" $1 "* ]]; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo
echo "Medians of $rounds interleaved round(s), $requests requests each, 64-byte values unless stated, -r 100000, $(nproc) cores"
echo "Started $started_at; load average at start $load_start, at end $load_end"
printf '%-15s %-6s %12s %9s %9s %12s\n' workload server "req/s" "p50 ms" "p99 ms" "cpu us/req"
for w in "${workloads[@]}"; do
  name=${w%%|*}
  for s in "${servers[@]}"; do
    printf '%-15s %-6s %12s %9s %9s %12s\n' "$name" "$s" "$(stat "$name" "$s" 3)" "$(stat "$name" "$s" 4)" "$(stat "$name" "$s" 5)" "$(stat "$name" "$s" 6)"
  done
done
echo
for w in "${workloads[@]}"; do
  name=${w%%|*}
  for other in redis garnet; do
    has node && has "$other" || continue
    printf 'ratio node/%-6s %-15s req/s %5s  cpu/req %5s  p99 %5s\n' "$other" "$name" \
      "$(ratio "$(stat "$name" node 3)" "$(stat "$name" "$other" 3)")" \
      "$(ratio "$(stat "$name" node 6)" "$(stat "$name" "$other" 6)")" \
      "$(ratio "$(stat "$name" node 5)" "$(stat "$name" "$other" 5)")"
  done
done
if ((memory)); then
  echo
  for s in "${servers[@]}"; do
    printf 'memory %-6s empty RSS %7s MiB, growth for %d keys %8s MiB\n' "$s" "$(mib "${rss_empty[$s]}")" "$memory_keys" "$(mib "${rss_growth[$s]}")"
  done
fi
echo "node max GC pause: $gc_max ms"

# Markdown, ready for the README.
cols=""
for s in "${servers[@]}"; do cols+=" $s |"; done
echo
echo "#### Benchmark run $started_at ($(nproc) cores, load $load_start -> $load_end)"
echo
echo "\`tests/bench/compare.sh --rounds $rounds --requests $requests\` — medians; req/s, p50/p99 in ms, server CPU in µs per request."
echo
header="| workload |"
rule="|---|"
for s in "${servers[@]}"; do header+=" $s req/s |"; rule+="---:|"; done
for o in redis garnet; do has node && has "$o" && header+=" node/$o |" && rule+="---:|"; done
for s in "${servers[@]}"; do header+=" $s p50/p99 |"; rule+="---:|"; done
for s in "${servers[@]}"; do header+=" $s cpu/req |"; rule+="---:|"; done
echo "$header"
echo "$rule"
for w in "${workloads[@]}"; do
  name=${w%%|*}
  row="| $name |"
  for s in "${servers[@]}"; do row+=" $(stat "$name" "$s" 3) |"; done
  for o in redis garnet; do has node && has "$o" && row+=" $(ratio "$(stat "$name" node 3)" "$(stat "$name" "$o" 3)") |"; done
  for s in "${servers[@]}"; do row+=" $(stat "$name" "$s" 4) / $(stat "$name" "$s" 5) |"; done
  for s in "${servers[@]}"; do row+=" $(stat "$name" "$s" 6) |"; done
  echo "$row"
done
if ((memory)); then
  echo
  echo "| memory ($memory_keys keys x 64 B) |$cols"
  echo "|---|$(for _ in "${servers[@]}"; do printf -- '---:|'; done)"
  row="| empty RSS MiB |"; for s in "${servers[@]}"; do row+=" $(mib "${rss_empty[$s]}") |"; done; echo "$row"
  row="| RSS growth MiB |"; for s in "${servers[@]}"; do row+=" $(mib "${rss_growth[$s]}") |"; done; echo "$row"
  if has node && has redis; then echo "| node/redis growth | $(ratio "${rss_growth[node]}" "${rss_growth[redis]}") |"; fi
fi
echo
echo "Node max GC pause over the runs: $gc_max ms"
