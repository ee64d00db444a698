#!/usr/bin/env bash
# `cmake --install` of a build tree into a temporary root (DESTDIR): every file lands where an
# FHS system and systemd look for it, the unit names the installed paths, and the installed
# tools run: each answers --version, and the installed amatac checks the installed default
# policy clean. The presets configure prefix /usr, the Debian layout: configuration in /etc.
#   tests/install/install_test.sh BUILD_DIR
set -uo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ -n "$prefix" ] || { echo "FAIL no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"; exit 1; }
p=${prefix#/}
# GNUInstallDirs: prefix /usr keeps its configuration in /etc, any other under the prefix.
if [ "$prefix" = /usr ]; then etc=etc; else etc=$p/etc; fi

if ! DESTDIR=$root cmake --install "$build" > "$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  exit 1
fi

for f in $p/bin/amatac $p/bin/amatactl $p/sbin/amatad; do
  [ -x "$root/$f" ] || fail "$f is not an installed executable"
done
for f in $p/lib/systemd/system/amatad.service $etc/amata/policy.amata \
         $p/share/doc/amata/README.md $p/share/doc/amata/operations.md \
         $p/share/doc/amata/language.md $p/share/doc/amata/examples/web-node.amata \
         $p/share/man/man1/amatac.1 $p/share/man/man1/amatactl.1 $p/share/man/man8/amatad.8 \
         $p/share/man/man5/amata.policy.5 $p/share/bash-completion/completions/amatactl; do
  [ -f "$root/$f" ] || fail "$f is missing"
done
[ -d "$root/$etc/amata/hooks" ] || fail "$etc/amata/hooks is missing"
mode=$(stat -c %a "$root/$etc/amata/hooks" 2>/dev/null)
[ "$mode" = 755 ] || fail "$etc/amata/hooks has mode $mode, want 755 (root's alone to write)"

unit=$root/$p/lib/systemd/system/amatad.service
want="ExecStart=/$p/sbin/amatad /$etc/amata/policy.amata --state-dir /var/lib/amata"
want+=" --socket /run/amata/amatad.sock --hooks /$etc/amata/hooks"
grep -qxF "$want" "$unit" ||
  fail "the unit's ExecStart does not name the installed paths: $(grep ExecStart= "$unit")"
grep -q '@' "$unit" && fail "the unit has an unsubstituted @VARIABLE@: $(grep '@' "$unit")"

for tool in $p/bin/amatac $p/bin/amatactl $p/sbin/amatad; do
  name=$(basename "$tool")
  out=$("$root/$tool" --version 2>&1) || fail "installed $name --version exited $?: $out"
  [[ $out == "$name "* ]] || fail "installed $name --version said: $out"
done
MANWIDTH=80 man -l "$root/$p/share/man/man8/amatad.8" 2>/dev/null | grep -q 'amatad - keep' ||
  fail "man -l of the installed amatad.8 does not show its NAME line"
"$root/$p/bin/amatac" check --werror "$root/$etc/amata/policy.amata" ||
  fail "the installed amatac does not check the installed policy clean"

if ((failed)); then
  echo "install layout:"
  (cd "$root" && find . | sort)
  exit 1
fi
echo "install: $(cd "$root" && find . -type f | wc -l) files, layout and tools ok"
