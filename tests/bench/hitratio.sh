#!/usr/bin/env bash
# Hit ratio under maxmemory: the node (Release) and Debian's redis-server with the same maxmemory and
# policy, driven by the same seeded Zipf-distributed cache-aside GET/SET sequence (tests/bench/hitratio.py).
# Prints, per server and policy, the hit ratio after warm-up, keys held, evictions, used_memory and RSS.
#
#   tests/bench/hitratio.sh [--maxmemory 32mb] [--keys 400000] [--ops 1000000] [--value-size 128] [--policies "allkeys-lru allkeys-lfu"]
set -euo pipefail
cd "$(dirname "$0")/../.."

maxmemory=32mb
keys=400000
ops=1000000
value_size=128
policies="allkeys-lru allkeys-lfu allkeys-random"
while (($#)); do
  case "$1" in
    --maxmemory) maxmemory=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --value-size) value_size=$2; shift 2 ;;
    --policies) policies=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/install-deps.sh
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "Building the node (Release)..."
dotnet publish node -c Release -o "$work/node" --nologo -v quiet >/dev/null

# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

for policy in $policies; do
  # Fresh servers per policy, so that every run starts empty.
  node_port=$(free_port)
  dotnet "$work/node/cache-node.dll" --port "$node_port" --bind 127.0.0.1 --save "" --metrics-port 0 --loglevel warning >"$work/node.log" 2>&1 &
  node_pid=$!
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >"$work/redis.log" 2>&1 &
  redis_pid=$!
  wait_ready "$node_port"
  wait_ready "$redis_port"
  python3 tests/bench/hitratio.py --ops "$ops" --keys "$keys" --value-size "$value_size" --maxmemory "$maxmemory" --policy "$policy" \
    "node=$node_port:$node_pid" "redis=$redis_port:$redis_pid"
  kill "$node_pid" "$redis_pid"
  wait "$node_pid" "$redis_pid" 2>/dev/null || true
done
