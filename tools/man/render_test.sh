#!/usr/bin/env bash
# Each generated man page renders with man(1) (as `man -l` would show it installed), has its
# NAME section, and draws no warning from groff other than those about the terminal's width
# (a wide table or a long literal at 80 columns), which lintian does not count either.
#   tools/man/render_test.sh PAGE...
set -uo pipefail
failed=0
for page in "$@"; do
  out=$(MANWIDTH=80 man --warnings -l "$page" 2>"$page.warnings")
  if ! grep -q '^NAME' <<<"$out"; then
    echo "FAIL $page: no NAME section when rendered"
    failed=$((failed + 1))
  fi
  if grep -vE "cannot adjust line|can't break line|table wider than line width|will not fit on one page|^warning: file '<standard input>', around line" \
       "$page.warnings" | grep -q .; then
    echo "FAIL $page: groff warns:"
    cat "$page.warnings"
    failed=$((failed + 1))
  fi
  rm -f "$page.warnings"
  echo "$(basename "$page"): $(wc -l <<<"$out") lines"
done
exit $((failed > 0))
