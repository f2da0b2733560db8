#!/usr/bin/env bash
# Regenerates the README tables that are generated from code (tests fail when they drift).
set -euo pipefail
cd "$(dirname "$0")/.."
replace_section() {
  local name=$1 content_file=$2
  python3 - "$name" "$content_file" <<'PY'
import sys
name, path = sys.argv[1], sys.argv[2]
text = open("README.md").read()
open_tag, close_tag = f"<!-- {name} -->\n", f"<!-- /{name} -->"
start, end = text.index(open_tag) + len(open_tag), text.index(close_tag)
open("README.md", "w").write(text[:start] + open(path).read() + text[end:])
PY
}
dotnet build node -v quiet --nologo >/dev/null
tmp=$(mktemp)
dotnet node/bin/Debug/net10.0/cache-node.dll --commands-markdown >"$tmp"
replace_section commands-table "$tmp"
