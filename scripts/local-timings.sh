#!/usr/bin/env bash
# Times `local up` to its Ready line for a SHARDSxREPLICAS cluster in a fresh state directory, then stops it.
# Usage: bash scripts/local-timings.sh SHARDS REPLICAS [BASE_PORT] [extra local up options, e.g. --node-command redis-server]
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:?shards}; replicas=${2:?replicas}; base=${3:-27000}; shift $(( $# >= 3 ? 3 : $# ))
dotnet build -c Release operator >/dev/null
dll=operator/bin/Release/net10.0/cache-operator.dll
dir=$(mktemp -d)
printf 'apiVersion: cacheoperator.io/v1alpha1\nkind: CacheCluster\nmetadata:\n  name: timing\nspec:\n  shards: %s\n  replicasPerShard: %s\n' "$shards" "$replicas" >"$dir/spec.yaml"
start=$(date +%s.%N)
dotnet "$dll" local up -f "$dir/spec.yaml" --dir "$dir/state" --base-port "$base" "$@" >"$dir/up.log" 2>&1 &
until grep -q '^Ready:' "$dir/up.log"; do
  if ! kill -0 $! 2>/dev/null; then cat "$dir/up.log"; exit 1; fi
  sleep 0.2
done
end=$(date +%s.%N)
grep '^Ready:' "$dir/up.log"
echo "local up to Ready, ${shards}x${replicas}: $(echo "$end - $start" | bc) s"
dotnet "$dll" local down --dir "$dir/state" >/dev/null
wait
rm -rf "$dir"
