#!/usr/bin/env bash
# Runs TEST with the package tools/package/build.sh left in DIR (the newest amata_*.deb).
# No package: skipped (exit 77), or failed under CI=true, where the test command built one.
#   tests/package/with_package.sh DIR TEST
set -uo pipefail
dir=$1 test=$2
deb=$(ls -t "$dir"/amata_*.deb 2> /dev/null | head -1)
if [ -z "$deb" ]; then
  echo "no amata_*.deb in $dir: build it with tools/package/build.sh"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
exec "$test" "$deb"
