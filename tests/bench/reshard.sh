#!/usr/bin/env bash
# Resharding speed, side by side between the same nodes in one run: redis-cli --cluster reshard --cluster-pipeline 10
# against the operator's SlotMigrator (hidden verb: cache-operator topology reshard), for our node and redis-server 7.0.15.
#
# Per server kind: 4 cluster-mode servers on loopback; 3 masters get the slots (redis-cli --cluster create), the 4th joins
# empty (add-node). KEYS keys of 64-byte values are loaded (RESP piped to each master for the slots it owns). Then:
#   1. redis-cli --cluster reshard moves SLOTS slots (1/3 of 16384 by default) from the 3 masters to the 4th (timed);
#   2. redis-cli --cluster rebalance with the 4th at weight 0 moves them back (not compared);
#   3. the SlotMigrator moves the same number of slots from the 3 masters to the 4th (timed).
# keys/s = keys that reached the 4th master (DBSIZE) / seconds. Both runs end with redis-cli --cluster check.
#
#   tests/bench/reshard.sh [--keys N] [--slots N] [--servers "node redis"] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/../.."

keys=1000000
slots=5461
servers=(node redis)
build=1
while (($#)); do
  case "$1" in
    --keys) keys=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --servers) read -r -a servers <<<"$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

out=${BENCH_OUT:-/tmp/cache-operator-bench-reshard}
mkdir -p "$out"
if ((build)) || [ ! -f "$out/node/cache-node.dll" ] || [ ! -f "$out/operator/cache-operator.dll" ]; then
  echo "Building the node and the operator (Release)..."
  dotnet publish node -c Release -o "$out/node" --nologo -v quiet >/dev/null
  dotnet publish operator -c Release -o "$out/operator" --nologo -v quiet >/dev/null
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

start_server() { # kind dir port busport
  local kind=$1 dir=$2 port=$3 bus=$4
  mkdir -p "$dir"
  local args=(--port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-port "$bus"
    --cluster-node-timeout 5000 --cluster-allow-replica-migration no --save "" --appendonly no --dir "$dir")
  if [ "$kind" = node ]; then
    dotnet "$out/node/cache-node.dll" "${args[@]}" --metrics-port 0 >"$dir/log" 2>&1 &
  else
    redis-server "${args[@]}" >"$dir/log" 2>&1 &
  fi
  pids+=($!)
  for _ in $(seq 1 300); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  echo "$kind on $port did not start" >&2; cat "$dir/log" >&2; exit 1
}

wait_check() { # port
  for _ in $(seq 1 120); do
    if redis-cli --cluster check "127.0.0.1:$1" 2>&1 | grep -q "All 16384 slots covered" && ! redis-cli --cluster check "127.0.0.1:$1" 2>&1 | grep -q "\[ERR\]\|\[WARNING\]"; then return 0; fi
    sleep 0.5
  done
  echo "cluster check is not clean:" >&2; redis-cli --cluster check "127.0.0.1:$1" >&2; exit 1
}

wait_ok() { # ports...
  for p in "$@"; do
    for _ in $(seq 1 200); do redis-cli -p "$p" cluster info | grep -q "cluster_state:ok" && break; sleep 0.2; done
  done
}

load_keys() { # ports...
  python3 - "$keys" "$@" <<'PY'
import socket, subprocess, sys
n = int(sys.argv[1]); ports = [int(p) for p in sys.argv[2:]]
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xffff
    return crc
table = [crc16(bytes([i])) for i in range(256)]
def slot(key):
    crc = 0
    for b in key:
        crc = ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ b) & 0xff]
    return crc & 16383
owner = [None] * 16384
for port in ports:
    out = subprocess.run(["redis-cli", "-p", str(port), "cluster", "nodes"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if "myself" in f[2]:
            for r in f[8:]:
                if r.startswith("["): continue
                a, _, b = r.partition("-")
                for s in range(int(a), int(b or a) + 1): owner[s] = port
value = b"v" * 64
bufs = {p: bytearray() for p in ports}
for i in range(n):
    k = b"key:%d" % i
    bufs[owner[slot(k)]] += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n" % (len(k), k, value)
for port, buf in bufs.items():
    if buf:
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=bytes(buf), check=True, stdout=subprocess.DEVNULL)
PY
}

dbsize() { redis-cli -p "$1" dbsize; }

results=()
for kind in "${servers[@]}"; do
  root=$(mktemp -d /tmp/reshard-bench-XXXX)
  ports=()
  for i in 1 2 3 4; do
    p=$(free_port); b=$(free_port)
    start_server "$kind" "$root/n$i" "$p" "$b"
    ports+=("$p")
  done
  echo "[$kind] servers on ${ports[*]}"
  redis-cli --cluster create "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]}" "127.0.0.1:${ports[2]}" --cluster-yes >/dev/null
  wait_check "${ports[0]}"
  redis-cli --cluster add-node "127.0.0.1:${ports[3]}" "127.0.0.1:${ports[0]}" >/dev/null
  wait_check "${ports[0]}"
  for _ in $(seq 1 100); do [ "$(redis-cli -p "${ports[0]}" cluster nodes | wc -l)" = 4 ] && [ "$(redis-cli -p "${ports[3]}" cluster nodes | wc -l)" = 4 ] && break; sleep 0.2; done
  wait_ok "${ports[@]}"
  echo "[$kind] loading $keys keys of 64 bytes..."
  load_keys "${ports[@]:0:3}"
  total=0; for p in "${ports[@]}"; do total=$((total + $(dbsize "$p"))); done
  echo "[$kind] $total keys loaded"
  ids=(); for p in "${ports[@]}"; do ids+=("$(redis-cli -p "$p" cluster myid)"); done

  echo "[$kind] redis-cli --cluster reshard --cluster-pipeline 10: $slots slots"
  start=$(date +%s.%N)
  redis-cli --cluster reshard "127.0.0.1:${ports[0]}" --cluster-from "${ids[0]},${ids[1]},${ids[2]}" --cluster-to "${ids[3]}" \
    --cluster-slots "$slots" --cluster-yes --cluster-pipeline 10 >"$root/redis-cli.log" 2>&1
  end=$(date +%s.%N)
  cli_secs=$(echo "$end - $start" | bc -l); cli_keys=$(dbsize "${ports[3]}")
  wait_check "${ports[0]}"
  echo "[$kind] redis-cli: $cli_keys keys in $cli_secs s"

  echo "[$kind] moving them back (redis-cli --cluster rebalance, weight 0; not timed)"
  redis-cli --cluster rebalance "127.0.0.1:${ports[0]}" --cluster-weight "${ids[3]}=0" --cluster-pipeline 100 --cluster-yes >"$root/rebalance.log" 2>&1 || true
  wait_check "${ports[0]}"
  [ "$(dbsize "${ports[3]}")" = 0 ] || { echo "node 4 still has keys after rebalance" >&2; exit 1; }

  echo "[$kind] cache-operator topology reshard: $slots slots"
  start=$(date +%s.%N)
  dotnet "$out/operator/cache-operator.dll" topology reshard --to "127.0.0.1:${ports[3]}" --slots "$slots" | tee "$root/ours.log"
  end=$(date +%s.%N)
  our_secs=$(echo "$end - $start" | bc -l); our_keys=$(dbsize "${ports[3]}")
  wait_check "${ports[0]}"
  echo "[$kind] ours: $our_keys keys in $our_secs s (process start included)"
  total_after=0; for p in "${ports[@]}"; do total_after=$((total_after + $(dbsize "$p"))); done
  [ "$total_after" = "$total" ] || { echo "keys lost: $total before, $total_after after" >&2; exit 1; }

  results+=("$(printf '| %s | redis-cli --cluster reshard (pipeline 10) | %d | %d | %.1f | %.0f |' "$kind" "$slots" "$cli_keys" "$cli_secs" "$(echo "$cli_keys / $cli_secs" | bc -l)")")
  results+=("$(printf '| %s | SlotMigrator (cache-operator topology reshard) | %d | %d | %.1f | %.0f |' "$kind" "$slots" "$our_keys" "$our_secs" "$(echo "$our_keys / $our_secs" | bc -l)")")
  cleanup; pids=()
  rm -rf "$root"
done

echo
echo "| server | mover | slots | keys moved | seconds | keys/s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
