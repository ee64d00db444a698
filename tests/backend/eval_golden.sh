#!/usr/bin/env bash
# amatac eval: both back ends print byte-identical output, equal to the recorded golden file;
# a bad trace line gives a located error and exit 1.
set -euo pipefail
amatac=$1
dir=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$dir/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
policy=$root/dsl-examples/web-node.amata
for backend in interp jit; do
  "$amatac" eval "$policy" --trace "$dir/fixtures/web-node.trace.jsonl" --backend "$backend" > "$tmp/$backend"
done
cmp "$tmp/interp" "$tmp/jit"
diff -u "$dir/fixtures/web-node.eval.expected" "$tmp/jit"

if "$amatac" eval "$policy" --trace "$dir/fixtures/bad.trace.jsonl" > "$tmp/out" 2> "$tmp/err"; then
  echo "a bad trace was accepted" >&2
  exit 1
fi
grep -q "bad.trace.jsonl:7:37: error: a service has no attribute 'wings'" "$tmp/err" || {
  cat "$tmp/err" >&2
  exit 1
}
echo '{"t": 1, "set": {"app.alive": tru}}' > "$tmp/syntax.jsonl"
if "$amatac" eval "$policy" --trace "$tmp/syntax.jsonl" 2> "$tmp/err"; then exit 1; fi
grep -q "syntax.jsonl:1:[0-9]*: error: bad JSON" "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
echo ok
