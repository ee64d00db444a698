#!/usr/bin/env bash
# Builds the fuzz preset (clang-14 + libFuzzer, every library with ASan + UBSan) and runs every
# fuzz target found in build/fuzz/fuzzers/ for a bounded time, several at once.
#
#   tests/fuzz/run.sh [SECONDS]         each target SECONDS (default 60); CI runs 10
#   tests/fuzz/run.sh --long [SECONDS]  the bar before a release: each target 1800 s
#   tests/fuzz/run.sh --refresh [...]   run, then merge what each target found into its corpus
#                                       in the tree (tests/fuzz/corpus/TARGET/, -merge=1: only
#                                       inputs that add coverage); with SECONDS 0, merge only
#
# Options: -j N targets at once (default: the number of cores); --only NAME (repeatable);
# --summary FILE (default build/fuzz/summary.md); --no-build.
#
# A target starts from its corpus in the tree, its seeds (SEEDS of amata_fuzzer) and what it
# found in earlier runs here (build/fuzz/corpus/TARGET/, where new inputs go). Per target the
# summary gives executions, exec/s, coverage (cov: edges, ft: features, from libFuzzer's final
# stats), corpus size and crashes. Any crash, hang (10 s), leak, out-of-memory (4 GiB) or
# sanitizer report fails the run; the reproducer stays in build/fuzz/crashes/ (replay it with
# `build/fuzz/fuzzers/TARGET FILE`) and the log in build/fuzz/logs/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=""
long=false
refresh=false
build=true
jobs=$(nproc)
only=()
summary=build/fuzz/summary.md
while (($#)); do
  case "$1" in
    --long) long=true ;;
    --refresh) refresh=true ;;
    --no-build) build=false ;;
    -j) jobs=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    --only) only+=("$2"); shift ;;
    --summary) summary=$2; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) seconds=$1 ;;
  esac
  shift
done
[[ -n "$seconds" ]] || { $long && seconds=1800 || seconds=60; }
[[ "$seconds" =~ ^[0-9]+$ && "$jobs" =~ ^[1-9][0-9]*$ ]] || {
  echo "run.sh: SECONDS and -j N must be numbers" >&2; exit 2; }

if $build; then
  [ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target fuzzers -j "$(nproc)" >/dev/null
fi
mkdir -p build/fuzz/crashes build/fuzz/corpus build/fuzz/logs build/fuzz/results

# UBSan reports must stop the target (libFuzzer then keeps the input), not scroll past.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

targets=()
shopt -s nullglob
for bin in build/fuzz/fuzzers/*; do
  [[ -x "$bin" && -f "$bin" && "$bin" != *.meta ]] || continue
  name=$(basename "$bin")
  if ((${#only[@]})) && [[ ! " ${only[*]} " == *" $name "* ]]; then continue; fi
  targets+=("$name")
done
((${#targets[@]})) || { echo "run.sh: no fuzz targets in build/fuzz/fuzzers/" >&2; exit 1; }

# The dictionary and seed directories of a target, from the .meta file amata_fuzzer writes.
meta_args() {
  local name=$1 key value
  while IFS='=' read -r key value; do
    case "$key" in
      dict) echo "-dict=$value" ;;
    esac
  done < "build/fuzz/fuzzers/$name.meta"
}
seed_dirs() {
  local name=$1 key value
  while IFS='=' read -r key value; do
    [[ "$key" == seeds && -d "$value" ]] && echo "$value"
  done < "build/fuzz/fuzzers/$name.meta"
}

# Runs one target for $seconds; writes build/fuzz/results/NAME (key=value lines).
fuzz_one() {
  local name=$1 bin=build/fuzz/fuzzers/$1 log=build/fuzz/logs/$1.log
  local result=build/fuzz/results/$1 work=build/fuzz/corpus/$1 tree=tests/fuzz/corpus/$1
  local -a dirs args
  rm -f "$result"
  mkdir -p "$work"
  dirs=("$work")
  [[ -d "$tree" ]] && dirs+=("$tree")
  mapfile -t -O "${#dirs[@]}" dirs < <(seed_dirs "$name")
  mapfile -t args < <(meta_args "$name")
  local before status=0
  before=$(find build/fuzz/crashes -name "$name-*" | sort)
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/crashes/$name-" "${args[@]}" "${dirs[@]}" >"$log" 2>&1 ||
    status=$?
  local new_crashes
  new_crashes=$(comm -13 <(echo "$before") <(find build/fuzz/crashes -name "$name-*" | sort) |
                tr '\n' ' ')
  local last
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n 1 || true)
  {
    echo "status=$status"
    echo "execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    echo "rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    echo "new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)"
    echo "rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)"
    echo "cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    echo "ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    echo "corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")"
    echo "crashes=$new_crashes"
    echo "error=$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error:|fuzz invariant broken)' \
                 "$log" | cut -c1-160 || true)"
  } >"$result"
}

# Merges the tree corpus and what the target found here into a fresh minimal corpus.
refresh_one() {
  local name=$1 bin=build/fuzz/fuzzers/$1 tree=tests/fuzz/corpus/$1 work=build/fuzz/corpus/$1
  local merged=build/fuzz/merge/$1
  local -a args inputs=()
  rm -rf "$merged"
  mkdir -p "$merged" "$work"
  [[ -d "$tree" ]] && inputs+=("$tree")
  inputs+=("$work")
  mapfile -t args < <(meta_args "$name")
  if ! "$bin" -merge=1 -timeout=10 -rss_limit_mb=4096 "${args[@]}" "$merged" "${inputs[@]}" \
      >"build/fuzz/logs/$name.merge.log" 2>&1; then
    echo "fuzz: merging $name failed (build/fuzz/logs/$name.merge.log)" >&2
    return 1
  fi
  rm -rf "$tree"
  mkdir -p "$(dirname "$tree")"
  mv "$merged" "$tree"
}

if ((seconds > 0)); then
  echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
  running=0
  for name in "${targets[@]}"; do
    while ((running >= jobs)); do
      wait -n || true
      running=$((running - 1))
    done
    echo "fuzz: $name"
    fuzz_one "$name" &
    running=$((running + 1))
  done
  wait || true
fi

failed=0
if $refresh; then
  for name in "${targets[@]}"; do
    if [[ -f build/fuzz/results/$name ]] && grep -q '^status=[1-9]' "build/fuzz/results/$name" &&
        ((seconds > 0)); then
      echo "fuzz: $name failed; its corpus is not refreshed"
      continue
    fi
    refresh_one "$name" || failed=1
    echo "fuzz: $name corpus: $(find "tests/fuzz/corpus/$name" -type f | wc -l) files"
  done
fi

((seconds > 0)) || exit "$failed"

{
  echo "Fuzzing $(git rev-parse --short HEAD 2>/dev/null || echo '?'), ${seconds}s per target," \
       "$jobs at a time, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "| target | executions | exec/s | cov | ft | corpus (units/bytes) | new | peak RSS MB | crashes |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$summary"
for name in "${targets[@]}"; do
  declare -A r=()
  if [[ -f build/fuzz/results/$name ]]; then
    while IFS='=' read -r key value; do r[$key]=$value; done <"build/fuzz/results/$name"
  fi
  crashes="none"
  if [[ "${r[status]:-missing}" != 0 ]]; then
    failed=1
    crashes="FAILED (exit ${r[status]:-?}) ${r[crashes]:-no reproducer}: ${r[error]:-}"
  fi
  echo "| $name | ${r[execs]:-?} | ${r[rate]:-?} | ${r[cov]:-?} | ${r[ft]:-?} | ${r[corp]:-?}" \
       "| ${r[new]:-?} | ${r[rss]:-?} | $crashes |" >>"$summary"
  unset r
done
cat "$summary"
if ((failed)); then
  for name in "${targets[@]}"; do
    grep -qs '^status=0' "build/fuzz/results/$name" && continue
    echo
    echo "fuzz: $name FAILED; build/fuzz/logs/$name.log ends:"
    tail -n 40 "build/fuzz/logs/$name.log"
  done
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean"
