#!/usr/bin/env bash
# The built package, without installing it: lintian finds no error; the policy is a conffile;
# the man pages, the bash completions, the unit and the tools are where Debian looks for
# them; nothing depends on libLLVM (LLVM is linked in); each tool answers --version with the
# package's version and a commit.
#   tests/package/contents_test.sh PACKAGE.deb
set -uo pipefail
deb=$(realpath "$1")
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

version=$(dpkg-deb -f "$deb" Version)
# --fail-on error: warnings and notes are printed, not fatal. Run as root, lintian needs to
# be told that is on purpose.
lintian --allow-root --fail-on error --tag-display-limit 0 "$deb" || fail "lintian reports errors"

conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null)
grep -qx /etc/amata/policy.amata <<< "$conffiles" ||
  fail "/etc/amata/policy.amata is not a conffile (conffiles: ${conffiles:-none})"
depends=$(dpkg-deb -f "$deb" Depends)
grep -qi llvm <<< "$depends" && fail "the package depends on LLVM: $depends"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/amatac /usr/bin/amatactl /usr/sbin/amatad /lib/systemd/system/amatad.service \
         /etc/amata/policy.amata /etc/amata/hooks/ \
         /usr/share/man/man1/amatac.1.gz /usr/share/man/man1/amatactl.1.gz \
         /usr/share/man/man8/amatad.8.gz /usr/share/man/man5/amata.policy.5.gz \
         /usr/share/bash-completion/completions/amatactl \
         /usr/share/doc/amata/operations.md.gz /usr/share/doc/amata/examples/web-node.amata \
         /usr/share/doc/amata/copyright /usr/share/vim/vimfiles/syntax/amata.vim \
         /usr/share/vim/vimfiles/ftdetect/amata.vim /usr/share/vim/vimfiles/ftplugin/amata.vim; do
  grep -qxF "$f" <<< "$contents" || fail "$f is not in the package"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
for tool in usr/bin/amatac usr/bin/amatactl usr/sbin/amatad; do
  name=$(basename "$tool")
  line=$("$tmp/$tool" --version 2>&1)
  [[ $line =~ ^$name\ ${version//./\\.}\ \(commit\ [0-9a-z.+-]+\)$ ]] ||
    fail "$name --version says '$line', want '$name $version (commit ...)'"
  [[ $line == *"(commit unknown)" ]] && fail "$name --version knows no commit: $line"
done
# The shipped amatad runs a policy's JIT-compiled code without libLLVM.so: ldd shows none.
ldd "$tmp/usr/sbin/amatad" | grep -i llvm && fail "the packaged amatad links libLLVM"

((failed)) && exit 1
echo "package $version: lintian clean, files in place, conffile, no libLLVM, --version"
