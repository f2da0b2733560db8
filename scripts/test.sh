#!/usr/bin/env bash
# Installs what the tests need, runs every test project, and prints "N passed, M failed" as its last line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
results=$(mktemp -d)
dotnet test CacheOperator.sln --logger trx --results-directory "$results"
status=$?
passed=0
failed=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
# A build error or a crashed test host fails the run even if no test reported a failure.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
