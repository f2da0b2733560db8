#!/usr/bin/env bash
# Bytes per element of one big value, the node (Release) against Debian's redis-server 7.0.15: for each case, a fresh
# server of each kind gets N elements loaded into one key with redis-cli --pipe (the same generated commands for both);
# the INFO memory used_memory delta and the RSS delta (/proc/PID/status VmRSS), each divided by N, and node/redis.
# One case per value type; a case is a name and an awk body printing the command for element i (see gen below).
#
#   tests/bench/entry-memory.sh [--elements N] [--only REGEX] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/../.."

elements=200000
only=""
build=1
while (($#)); do
  case "$1" in
    --elements) elements=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
out=${BENCH_OUT:-/tmp/cacheoperator-bench}
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
if ((build)) || [ ! -f "$out/node/cache-node.dll" ]; then
  echo "Building the node (Release)..."
  dotnet publish node -c Release -o "$out/node" --nologo -v quiet >/dev/null
fi

# name|awk statements setting cmd (an array of arguments, n of them) for element i; srand(42) makes every run the same.
cases=(
  "geo|n = 5; cmd[1] = \"GEOADD\"; cmd[2] = \"k\"; cmd[3] = sprintf(\"%.6f\", rand() * 360 - 180); cmd[4] = sprintf(\"%.6f\", rand() * 170 - 85); cmd[5] = sprintf(\"member:%010d\", i)"
  "zset|n = 4; cmd[1] = \"ZADD\"; cmd[2] = \"k\"; cmd[3] = sprintf(\"%d\", rand() * 1000000000); cmd[4] = sprintf(\"member:%010d\", i)"
  "hash|n = 4; cmd[1] = \"HSET\"; cmd[2] = \"k\"; cmd[3] = sprintf(\"field:%010d\", i); cmd[4] = sprintf(\"value:%010d\", i)"
  "set|n = 3; cmd[1] = \"SADD\"; cmd[2] = \"k\"; cmd[3] = sprintf(\"member:%010d\", i)"
  "stream|n = 7; cmd[1] = \"XADD\"; cmd[2] = \"k\"; cmd[3] = \"*\"; cmd[4] = \"sensor\"; cmd[5] = sprintf(\"%d\", i % 100); cmd[6] = \"reading\"; cmd[7] = sprintf(\"r%d\", rand() * 1000000)"
  "list|n = 3; cmd[1] = \"RPUSH\"; cmd[2] = \"k\"; cmd[3] = sprintf(\"element:%010d\", i)"
)

gen() {
  awk -v count="$elements" "BEGIN { srand(42); for (i = 0; i < count; i++) { $1; printf \"*%d\\r\\n\", n; for (j = 1; j <= n; j++) printf \"\$%d\\r\\n%s\\r\\n\", length(cmd[j]), cmd[j] } }"
}

# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh
rss_bytes() { echo $(($(rss_kib "$1") * 1024)); }
used_memory() { redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'; }

# Prints "used_memory_delta rss_delta" for one server kind loading $work/load.resp.
measure() {
  local server=$1 p pid
  p=$(free_port)
  case "$server" in
    node) "$out/node/cache-node" --port "$p" --bind 127.0.0.1 --save "" --loglevel warning >>"$work/node.log" 2>&1 & ;;
    redis) redis-server --port "$p" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >>"$work/redis.log" 2>&1 & ;;
  esac
  pid=$!
  wait_ready "$p"
  sleep 1
  local used0 rss0 used1 rss1 size
  used0=$(used_memory "$p")
  rss0=$(rss_bytes "$pid")
  redis-cli -p "$p" --pipe <"$work/load.resp" >/dev/null
  sleep 2
  used1=$(used_memory "$p")
  rss1=$(rss_bytes "$pid")
  size=$(redis-cli -p "$p" TYPE k)
  [ "$size" != none ] || echo "warning: $server holds no key k" >&2
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$((used1 - used0)) $((rss1 - rss0))"
}

per() { awk -v d="$1" -v n="$elements" 'BEGIN { printf "%.1f", d / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo "Bytes per element, $elements elements in one key, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| value | node used_memory B/elem | redis used_memory B/elem | node/redis | node RSS B/elem | redis RSS B/elem | node/redis |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in "${cases[@]}"; do
  name=${c%%|*}
  if [ -n "$only" ] && ! [[ $name =~ $only ]]; then continue; fi
  gen "${c#*|}" >"$work/load.resp"
  read -r node_used node_rss <<<"$(measure node)"
  read -r redis_used redis_rss <<<"$(measure redis)"
  echo "| $name | $(per "$node_used") | $(per "$redis_used") | $(ratio "$node_used" "$redis_used") | $(per "$node_rss") | $(per "$redis_rss") | $(ratio "$node_rss" "$redis_rss") |"
done
