#!/bin/sh
# Golden diagnostics: runs `amatac check NAME.amata` for every policy in this directory
# (files named *.inc.amata are only included by others) and compares its output and exit
# code with NAME.err. Shows a unified diff on mismatch. With --update, rewrites the .err files.
#   tests/diagnostics/run_golden.sh build/dev/tools/amatac/amatac [--update]
set -u
amatac=$(realpath "$1")
update=${2:-}
cd "$(dirname "$0")" || exit 2
failed=0
count=0
for policy in *.amata; do
  case "$policy" in *.inc.amata) continue ;; esac
  name=${policy%.amata}
  actual=$( { "$amatac" check "$policy" 2>&1; echo "exit: $?"; } )
  count=$((count + 1))
  if [ "$update" = "--update" ]; then
    printf '%s\n' "$actual" > "$name.err"
    continue
  fi
  if [ ! -f "$name.err" ]; then
    echo "MISSING $name.err"
    failed=$((failed + 1))
    continue
  fi
  if ! printf '%s\n' "$actual" | diff -u "$name.err" - > /tmp/amata-golden-$$.diff; then
    echo "FAIL $name"
    cat /tmp/amata-golden-$$.diff
    failed=$((failed + 1))
  fi
done
rm -f /tmp/amata-golden-$$.diff
echo "$count golden policies, $failed failed"
[ "$failed" -eq 0 ]
