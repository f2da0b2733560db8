#!/usr/bin/env bash
# Installs the system tools the tests and benchmarks use, only where missing (idempotent).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
# promtool (Debian package prometheus) checks the operator's /metrics output.
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  # The package starts a redis-server on 6379; tests and benchmarks start their own.
  ($sudo systemctl disable --now redis-server 2>/dev/null || $sudo service redis-server stop 2>/dev/null || true) >/dev/null
  ($sudo systemctl disable --now prometheus 2>/dev/null || $sudo service prometheus stop 2>/dev/null || true) >/dev/null
fi
