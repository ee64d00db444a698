#!/bin/sh
# Neovim's own LSP client (headless, no config) attached to `amatac lsp`: it opens a policy
# with errors, one of them in an included file, and reads back what an editor shows —
# vim.diagnostic.get() for both files, a hover, a completion list, a code action — then
# fixes the error in the buffer and waits for its diagnostic to go away, and formats it.
#   tests/editors/nvim_lsp_test.sh AMATAC
# Written for Neovim 0.7 (Debian 12): vim.lsp.start_client + vim.lsp.buf_attach_client.
set -eu
amatac=$(realpath "$1")
command -v nvim >/dev/null || { echo "nvim_lsp_test: nvim is not installed (tools/setup.sh test installs it)"; exit 1; }
dir=$(mktemp -d /tmp/amata-nvim-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/objects.amata" <<'POLICY'
service web { start "/usr/bin/web"; evry 1s }
POLICY
cat > "$dir/main.amata" <<'POLICY'
include "objects.amata"
discover down when not web.alvie raise Down(web)
recover Down(s) { restart s }
POLICY
cat > "$dir/test.lua" <<'LUA'
local dir, out = os.getenv('DIR'), {}
local function log(s) table.insert(out, s) end
local function finish()
  vim.fn.writefile(out, dir .. '/out')
  vim.cmd('qa!')
end
local client = vim.lsp.start_client({
  name = 'amatac',
  cmd = { os.getenv('AMATAC'), 'lsp' },
  root_dir = dir,
})
if not client then log('no client'); finish() end
vim.cmd('edit ' .. dir .. '/main.amata')
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)
local inc = vim.uri_to_bufnr(vim.uri_from_fname(dir .. '/objects.amata'))
local function code(d)
  return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or '?'
end
local function dump(name, b)
  for _, d in ipairs(vim.diagnostic.get(b)) do
    log(string.format('%s %d:%d %s %s', name, d.lnum + 1, d.col + 1, code(d), d.message))
  end
end
-- Timeouts in seconds: a slow machine waits longer, a broken server still fails.
if not vim.wait(20000, function()
  return #vim.diagnostic.get(buf) > 0 and #vim.diagnostic.get(inc) > 0
end, 50) then log('timeout waiting for diagnostics') end
dump('main', buf)
dump('objects', inc)
local uri = vim.uri_from_bufnr(buf)
local function request(method, params)
  local res = vim.lsp.buf_request_sync(buf, method, params, 10000) or {}
  for _, r in pairs(res) do
    if r.err then log(method .. ' error ' .. vim.inspect(r.err)) end
    return r.result
  end
end
local hover = request('textDocument/hover',
  { textDocument = { uri = uri }, position = { line = 1, character = 24 } })
if hover then
  for line in hover.contents.value:gmatch('[^\n]+') do log('hover ' .. line) end
end
local completion = request('textDocument/completion',
  { textDocument = { uri = uri }, position = { line = 1, character = 27 } })
local labels = {}
for _, item in ipairs((completion and (completion.items or completion)) or {}) do
  table.insert(labels, item.label)
end
table.sort(labels)
log('completion ' .. table.concat(labels, ' '))
local actions = request('textDocument/codeAction', {
  textDocument = { uri = uri },
  range = { start = { line = 1, character = 28 }, ['end'] = { line = 1, character = 28 } },
  context = { diagnostics = {} },
})
for _, a in ipairs(actions or {}) do log('action ' .. a.title) end
-- Fix the typo in the buffer (not on disk): its diagnostic goes, the include's stays.
vim.api.nvim_buf_set_lines(buf, 1, 2, false, { 'discover down when not web.alive raise Down(web)' })
if not vim.wait(20000, function() return #vim.diagnostic.get(buf) == 0 end, 50) then
  log('timeout waiting for the fix')
end
log('after fix: main ' .. #vim.diagnostic.get(buf) .. ', objects ' .. #vim.diagnostic.get(inc))
-- Formatting (amatac fmt) of the buffer as it is; a request sends pending changes first.
vim.api.nvim_buf_set_lines(buf, 2, 3, false, { 'recover Down( s ) {restart s}' })
local edits = request('textDocument/formatting',
  { textDocument = { uri = uri }, options = { tabSize = 2, insertSpaces = true } })
if edits then vim.lsp.util.apply_text_edits(edits, buf, 'utf-16') end
log('formatted ' .. vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1])
vim.lsp.stop_client(client)
vim.wait(5000, function() return vim.lsp.get_client_by_id(client) == nil end, 50)
finish()
LUA
DIR="$dir" AMATAC="$amatac" timeout 120 nvim --headless --clean -u NONE -i NONE \
  -c "luafile $dir/test.lua" -c 'qa!' </dev/null >"$dir/nvim.log" 2>&1 || true
if [ ! -f "$dir/out" ]; then
  echo "nvim_lsp_test: Neovim wrote no results"; cat "$dir/nvim.log"; exit 1
fi
cat "$dir/out"
fail=0
expect() {
  grep -qF -- "$1" "$dir/out" || { echo "nvim_lsp_test: missing: $1"; fail=1; }
}
expect "main 2:28 E0203 service 'web' has no attribute 'alvie'"
expect "objects 1:37 E0205 unknown setting 'evry'"
expect "hover service web"
expect 'hover start "/usr/bin/web"'
expect "alive"
expect "health.failed"
expect "action Replace 'alvie' with 'alive' (E0203)"
expect "after fix: main 0, objects 1"
expect "formatted recover Down(s) { restart s }"
if grep -q "completion .*carrier" "$dir/out"; then
  echo "nvim_lsp_test: an interface's attribute offered for a service"; fail=1
fi
[ "$fail" = 0 ] && echo "nvim_lsp_test: diagnostics, hover, completion, code action and formatting as expected"
exit "$fail"
