#!/usr/bin/env bash
# The man page of each tool names every option and every command its --help-all lists, so a
# flag added to a tool without its page fails here.
#   tools/man/options_test.sh MAN_DIR AMATAC AMATACTL AMATAD
set -uo pipefail
dir=$1
shift
failed=0
for tool in "$@"; do
  name=$(basename "$tool")
  page=$(ls "$dir/$name".[0-9].md)
  help=$("$tool" --help-all 2>/dev/null || "$tool" --help)
  # Pandoc source spells "--" as "\-\-" so that it is not typeset as a dash.
  text=$(sed 's/\\-/-/g' "$page")
  mapfile -t options < <(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u)
  # Commands: the unindented lines between "Subcommands:" and the end.
  mapfile -t commands < <(sed -n '/^Subcommands:/,$p' <<<"$help" | grep -E '^[a-z]+$')
  for word in "${options[@]}" "${commands[@]}"; do
    if ! grep -qE -- "(^|[^a-z-])${word}([^a-z-]|$)" <<<"$text"; then
      echo "FAIL $page does not name $word (from $name --help-all)"
      failed=$((failed + 1))
    fi
  done
  echo "$name: ${#options[@]} options, ${#commands[@]} commands checked"
done
exit $((failed > 0))
