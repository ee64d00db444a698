#!/bin/sh
# Vim itself (headless) with editors/vim on its runtimepath: a .amata file gets the amata
# filetype, and its words, strings, numbers with units and comments the syntax groups of
# editors/vim/syntax/amata.vim.
#   tests/editors/vim_test.sh [REPO]
set -eu
repo=$(realpath "${1:-$(dirname "$0")/../..}")
command -v vim >/dev/null || { echo "vim_test: vim is not installed (tools/setup.sh test installs it)"; exit 1; }
dir=$(mktemp -d /tmp/amata-vim-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/web.amata" <<'POLICY'
# a comment
service web { start "/bin/web\n"; every 500ms }
discover down(s: service) when not s.alive for 2 checks raise Down(s)
recover Down(s) { restart s backoff none; when avg(s.cpu, 5m) > 90% { notify "pager" } }
POLICY
# Each probe: LINE COL, then the group Vim gives the character there.
cat > "$dir/probe.vim" <<'PROBE'
let s:probes = [[1, 3], [2, 1], [2, 15], [2, 21], [2, 30], [2, 35], [2, 41], [3, 1], [3, 27],
      \ [3, 32], [3, 44], [3, 48], [3, 50], [3, 57], [4, 1], [4, 19], [4, 29], [4, 43], [4, 48],
      \ [4, 59], [4, 65], [4, 71]]
let s:out = [&filetype, &commentstring, &makeprg]
for [l, c] in s:probes
  call add(s:out, l . ':' . c . ' ' . synIDattr(synID(l, c, 1), 'name'))
endfor
call writefile(s:out, $OUT)
PROBE
OUT="$dir/out" vim -Nu NONE -i NONE -es -c "set rtp^=$repo/editors/vim" -c 'filetype plugin on' \
  -c 'syntax on' -c "edit $dir/web.amata" -c "source $dir/probe.vim" -c 'qa!' </dev/null || true
cat > "$dir/expected" <<'EXPECTED'
amata
# %s
amatac check %
1:3 amataComment
2:1 amataKind
2:15 amataAction
2:21 amataString
2:30 amataEscape
2:35 amataSetting
2:41 amataNumber
3:1 amataStatement
3:27 amataKeyword
3:32 amataOperator
3:44 amataKeyword
3:48 amataNumber
3:50 amataKeyword
3:57 amataKeyword
4:1 amataStatement
4:19 amataAction
4:29 amataKeyword
4:43 amataKeyword
4:48 amataFunction
4:59 amataNumber
4:65 amataNumber
4:71 amataAction
EXPECTED
if ! diff -u "$dir/expected" "$dir/out"; then
  echo "vim_test: Vim's highlighting differs from the expected groups (above)"
  exit 1
fi
echo "vim_test: filetype, ftplugin and $(($(wc -l < "$dir/expected") - 3)) syntax groups as expected"
