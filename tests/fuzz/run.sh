#!/usr/bin/env bash
# Builds the fuzz preset (clang-14 + libFuzzer) and runs every fuzz target for a bounded time.
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]. A crash fails the run and leaves the input
# under build/fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
[ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers -j "$(nproc)" >/dev/null
mkdir -p build/fuzz/crashes build/fuzz/corpus
shopt -s nullglob
ran=0
for bin in build/fuzz/fuzzers/*; do
  [[ -x "$bin" && ! "$bin" == *.meta ]] || continue
  name=$(basename "$bin")
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=0
        -artifact_prefix=build/fuzz/crashes/"$name"-)
  dirs=(build/fuzz/corpus/"$name")
  mkdir -p "${dirs[0]}"
  while IFS='=' read -r key value; do
    case "$key" in
      dict) args+=(-dict="$value") ;;
      seeds) dirs+=("$value") ;;
    esac
  done < "$bin.meta"
  echo "fuzz: $name for ${seconds}s"
  "$bin" "${args[@]}" "${dirs[@]}" > "build/fuzz/$name.log" 2>&1 || {
    echo "fuzz: $name FAILED"; tail -n 40 "build/fuzz/$name.log"; exit 1; }
  ran=$((ran + 1))
done
echo "fuzz: $ran targets clean"
