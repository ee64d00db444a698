" Vim syntax file for amata policies (.amata), the language of docs/language.md.
" The keyword lists are the parser's and the checker's own words: tests/editors checks that
" they name every one of them and nothing else.
if exists('b:current_syntax')
  finish
endif

syn keyword amataStatement policy include let event discover recover notify_only
syn keyword amataKind node service process interface filesystem host check peer sensor ecc disk raid unit cluster channel
syn keyword amataKeyword when else raise for within times time checks to backoff limit none clear after
syn keyword amataOperator and or not
syn keyword amataBoolean true false
syn keyword amataAction restart start stop reload monitor unmonitor signal run notify wait failover
syn keyword amataSetting every health depends user group dir env log grace pidfile match name
syn keyword amataSetting path address port method timeout command node_id clustered prefer
syn keyword amataSetting only_preferred on_quorum_loss fence watchdog watchdog_timeout remote_port remote_address remote_timeout attach tls_cert tls_key tls_ca chip input zone controller dimm array device
syn keyword amataSetting webhook alertmanager email hook from ca retries failback
syn keyword amataFunction avg min max rate delta changed predict

syn match amataComment "#.*$" contains=@Spell
syn match amataEscape contained "\\[\"\\ntr]"
syn region amataString start=+"+ skip=+\\\\\|\\"+ end=+"+ oneline contains=amataEscape
" A number and its unit suffix, written together: 90%, 2GiB, 500ms, 10MB/s, 3.5.
syn match amataNumber "\<\d\+\%(\.\d\+\)\=\%(%\|[A-Za-z]*\/\%(min\|s\|h\)\|[A-Za-z]\+\)\=\>"
syn match amataNumber "\<\d\+\%(\.\d\+\)\=%"

hi def link amataStatement Statement
hi def link amataKind Type
hi def link amataKeyword Keyword
hi def link amataOperator Operator
hi def link amataBoolean Boolean
hi def link amataAction Function
hi def link amataSetting Identifier
hi def link amataFunction Function
hi def link amataComment Comment
hi def link amataString String
hi def link amataEscape SpecialChar
hi def link amataNumber Number

let b:current_syntax = 'amata'
