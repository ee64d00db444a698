#!/usr/bin/env bash
# clang-tidy (the checks of .clang-tidy) over every first-party source file of a build tree's
# compile_commands.json, tests included, in parallel. Any warning fails.
#   tools/checks/tidy.sh [BUILD_DIR] [FILE...]   (default build/dev; FILEs: only those)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/dev}
shift || true
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json"; exit 2; }
if (($#)); then
  files=("$@")
else
  mapfile -t files < <(python3 - "$build/compile_commands.json" <<'PY'
import json, os, sys
root = os.getcwd() + "/"
seen = set()
for entry in json.load(open(sys.argv[1])):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(root) and "/build/" not in path and path not in seen:
        seen.add(path)
        print(path[len(root):])
PY
  )
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet --warnings-as-errors='*' \
    >"$log" 2>&1 || {
  grep -E '(warning|error):' "$log" | sort -u | head -n 60
  echo "tidy: clang-tidy found problems in ${#files[@]} files (above)"
  exit 1
}
echo "tidy: ${#files[@]} files clean"
