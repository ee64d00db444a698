#!/usr/bin/env python3
"""The editors' syntax files name exactly the language's words.

The words come from where the compiler has them: every kw<...> of the parser's grammar
(compiler/parse/grammar.h), the object kinds of the catalog (catalog/catalog.cc), the
settings the checker knows (compiler/check/settings.cc) and the window functions
(compiler/check/temporal.cc). editors/vim/syntax/amata.vim and the TextMate grammar
(editors/vscode/syntaxes/amata.tmLanguage.json) must each list all of them and no other:
a word added to the language and not to an editor, or left in an editor after it left the
language, fails here.

    tests/editors/keywords_test.py [REPO]
"""
import json
import os
import re
import sys

repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../..")


def read(path):
    with open(os.path.join(repo, path), encoding="utf-8") as f:
        return f.read()


def found(name, words):
    if not words:
        sys.exit(f"keywords_test: no {name} found: has the source changed shape?")
    return words


grammar = read("compiler/parse/grammar.h")
keywords = found("kw<...> in grammar.h", {
    "".join(re.findall(r"'([a-z_])'", chars))
    for chars in re.findall(r"\bkw<((?:\s*'[a-z_]'\s*,?)+)>", grammar)})
kinds = found("kinds in catalog.cc", set(re.findall(r'\{Kind::k\w+,\s*"([a-z_]+)"', read("catalog/catalog.cc"))))
settings = found("settings in settings.cc", set(re.findall(r'^\s*\{"([a-z_]+)",\s*\{', read("compiler/check/settings.cc"), re.M)))
functions = found("functions in temporal.cc", set(re.findall(r'\{"([a-z]+)",\s*Op::k', read("compiler/check/temporal.cc"))))
# `cluster { ... }` and `channel { ... }` are statements the parser reads as objects with that
# word for a kind.
language = keywords | kinds | settings | functions | {"cluster", "channel"}

vim = set()
for line in read("editors/vim/syntax/amata.vim").splitlines():
    m = re.match(r"\s*syn keyword \w+\s+(.*)$", line)
    if m:
        vim.update(m.group(1).split())

textmate = set()
tm = json.loads(read("editors/vscode/syntaxes/amata.tmLanguage.json"))
for pattern in tm["repository"]["words"]["patterns"]:
    m = re.fullmatch(r"\\b\(\?:([a-z_|]+)\)\\b", pattern["match"])
    if not m:
        sys.exit(f"keywords_test: a words pattern of another shape: {pattern['match']}")
    textmate.update(m.group(1).split("|"))

failed = False
for name, words in (("editors/vim/syntax/amata.vim", found("vim keywords", vim)),
                    ("editors/vscode/syntaxes/amata.tmLanguage.json", found("TextMate words", textmate))):
    missing, extra = sorted(language - words), sorted(words - language)
    if missing or extra:
        failed = True
        print(f"{name}: missing {missing or 'nothing'}; not in the language {extra or 'nothing'}")
if failed:
    sys.exit(1)
print(f"keywords_test: both editors name the language's {len(language)} words")
