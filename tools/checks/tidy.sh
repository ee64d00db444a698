#!/usr/bin/env bash
# clang-tidy (the checks of .clang-tidy) over first-party source files of a build tree's
# compile_commands.json, tests included, in parallel. Any finding fails.
#   tools/checks/tidy.sh [BUILD_DIR]                every file (about half an hour on 2 cores)
#   tools/checks/tidy.sh [BUILD_DIR] --since REV    the .cc files changed since REV and those
#                                                   beside a changed header
#   tools/checks/tidy.sh [BUILD_DIR] FILE...        only those
# The test command runs `--since "$(cat tools/checks/tidy-clean)"`: the last commit whose
# every file was checked clean (docs/testing.md, "clang-tidy").
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/dev}
shift || true
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json"; exit 2; }

# Every first-party file the build compiles, relative to the tree.
mapfile -t compiled < <(python3 - "$build/compile_commands.json" <<'PY'
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

if [ "${1:-}" = "--since" ]; then
  since=${2:?--since needs a commit}
  if ! git rev-parse --quiet --verify "$since^{commit}" >/dev/null; then
    # A shallow clone: what changed since the clean mark cannot be told, and every file would
    # take half an hour. Say so; a clone with history (or tidy.sh without --since) checks.
    echo "tidy: WARNING: $since is not a commit of this clone (shallow?); nothing checked"
    exit 0
  fi
  mapfile -t wanted < <(git diff --name-only --diff-filter=AMR "$since" -- '*.cc' '*.h' |
                        sed 's/\.h$/.cc/' | sort -u)
elif (($#)); then
  wanted=("$@")
else
  wanted=("${compiled[@]}")
fi

# Only what the build compiles: a header has no command of its own.
files=()
for f in "${wanted[@]}"; do
  for c in "${compiled[@]}"; do
    if [ "$f" = "$c" ]; then
      files+=("$f")
      break
    fi
  done
done
if ((${#files[@]} == 0)); then
  echo "tidy: no compiled file to check"
  exit 0
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! printf '%s\n' "${files[@]}" |
     xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet --warnings-as-errors='*' \
       >"$log" 2>&1; then
  # The findings; or, when clang-tidy failed without one (a crash, a file it cannot parse),
  # what it said.
  grep -E '(warning|error):' "$log" | sort -u || tail -n 40 "$log"
  echo "tidy: clang-tidy found problems in the ${#files[@]} files checked (above)"
  exit 1
fi
echo "tidy: ${#files[@]} files clean"
