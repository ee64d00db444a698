#!/usr/bin/env bash
# Every C++ file of the tree is formatted as .clang-format says (clang-format in check mode).
# Exit 0 when clean; else the files and the first differences, exit 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "format: ${#bad[@]} file(s) not clang-formatted (run clang-format -i on them):"
  for f in "${bad[@]}"; do
    echo "  $f"
    clang-format --dry-run "$f" 2>&1 | head -n 6 | sed 's/^/    /'
  done
  exit 1
fi
echo "format: ${#files[@]} files clang-formatted"
