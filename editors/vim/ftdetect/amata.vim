" amata policies: docs/language.md. Install: editors/README.md.
autocmd BufRead,BufNewFile *.amata setfiletype amata
