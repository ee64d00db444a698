#!/usr/bin/env bash
# amatac never waits on a file it was told to read: a FIFO or a device named as the policy's
# trace (eval), test file or a test's trace (test) is refused at once with the path, exit 1
# (exit 2 for the policy itself: an I/O error). Each command runs under a 10 s timeout; before
# the files were opened O_NONBLOCK and checked with fstat, every one of them hung.
set -uo pipefail
amatac=$1
dir=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$dir/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
policy=$root/dsl-examples/web-node.amata
mkfifo "$tmp/fifo"
failed=0

# expect NAME STATUS PATTERN -- COMMAND...: COMMAND exits STATUS and says PATTERN on stderr.
expect() {
  local name=$1 status=$2 pattern=$3
  shift 4
  timeout 10 "$@" > "$tmp/out" 2> "$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$status" ] || ! grep -qF -- "$pattern" "$tmp/err"; then
    echo "FAIL $name: exit $rc (want $status), stderr:"
    cat "$tmp/err"
    failed=$((failed + 1))
  fi
}

expect "eval, trace is a FIFO" 1 "$tmp/fifo: not a regular file (a FIFO)" -- \
  "$amatac" eval "$policy" --trace "$tmp/fifo"
expect "eval, trace is /dev/zero" 1 "/dev/zero: not a regular file (a character device)" -- \
  "$amatac" eval "$policy" --trace /dev/zero
expect "test, test file is a FIFO" 1 "$tmp/fifo: not a regular file (a FIFO)" -- \
  "$amatac" test "$policy" "$tmp/fifo"
printf 'test "t"\n  trace "fifo"\nend\n' > "$tmp/trace.test"
expect "test, a test's trace is a FIFO" 1 "cannot read trace: $tmp/fifo: not a regular file (a FIFO)" -- \
  "$amatac" test "$policy" "$tmp/trace.test"
expect "check, policy is a FIFO" 2 "$tmp/fifo: not a regular file (a FIFO)" -- \
  "$amatac" check "$tmp/fifo"
printf 'include "fifo"\nnode self {}\n' > "$tmp/inc.amata"
expect "check, include is a FIFO" 1 "inc.amata:1:9: error: cannot read included file: $tmp/fifo: not a regular file (a FIFO)" -- \
  "$amatac" check "$tmp/inc.amata"

[ "$failed" -eq 0 ] && echo ok
