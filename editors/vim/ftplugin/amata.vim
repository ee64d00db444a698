" amata policies: comments with #, and :make runs `amatac check` on the file (its
" FILE:LINE:COL: lines fill the quickfix list with Vim's default errorformat).
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1
setlocal comments=:# commentstring=#\ %s
setlocal makeprg=amatac\ check\ %
let b:undo_ftplugin = 'setlocal comments< commentstring< makeprg<'
