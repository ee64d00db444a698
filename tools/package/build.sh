#!/usr/bin/env bash
# Builds amata's Debian package from the tree's files (the tracked ones and the new ones git
# does not ignore), never from a build directory: a copy in OUT/src, then
# `dpkg-buildpackage -b -us -uc`; amata_VERSION_ARCH.deb (with the -dbgsym package,
# .buildinfo and .changes) is moved to OUT. The copy has no .git, so the commit for
# --version goes in AMATA_COMMIT.
#   tools/package/build.sh [OUT]     OUT defaults to build/package
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-build/package}")
version=$(dpkg-parsechangelog -S Version)
src=$out/src/amata-$version

# Only what this script makes is removed: the copy and earlier results, never OUT itself.
rm -rf "$out/src" "$out"/amata_* "$out"/amata-dbgsym_*
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null --files-from=- -cf - | tar -xf - -C "$src"
AMATA_COMMIT=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
export AMATA_COMMIT
cd "$src"
dpkg-buildpackage -b -us -uc -j"$(nproc)" > "$out/build.log" 2>&1 || {
  tail -40 "$out/build.log"
  echo "package: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
# dpkg-buildpackage leaves its results beside the source directory.
mv "$out"/src/amata*_"$version"_* "$out/"
rm -rf "$out/src"
ls "$out"/amata_"$version"_*.deb
