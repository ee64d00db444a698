#!/usr/bin/env python3
"""The include check: every #include of the project must point down the layers, never up.

    tools -> engine -> {probes, compiler} -> catalog -> base

A folder may include itself and what stands below it; tests/ and bench/ stand above all.
docs/architecture.md explains each rule. Run from anywhere:

    tools/checks/layers.py [ROOT]      exit 0 when clean, 1 with one line per violation
"""
import pathlib
import re
import sys

# Top-level folder -> the top-level folders its files may include (besides its own).
MAY_INCLUDE = {
    "base": set(),
    "catalog": {"base"},
    "compiler": {"base", "catalog"},
    "probes": {"base", "catalog"},
    "engine": {"base", "catalog", "compiler", "probes"},
    "tools": {"base", "catalog", "compiler", "probes", "engine"},
    "tests": {"base", "catalog", "compiler", "probes", "engine", "tools"},
    "bench": {"base", "catalog", "compiler", "probes", "engine", "tools", "tests"},
}

# Finer rules: (files matching, includes matching, why). A file that matches the first
# pattern may not include a header that matches the second.
FORBIDDEN = [
    (r"^(?!compiler/jit/)", r"^(llvm|llvm-c)/",
     "LLVM stays behind compiler/jit (amatac check and the interpreter never need it)"),
    (r"^engine/(?!daemon/)", r"^engine/daemon/",
     "engine/daemon wires the engine's parts; none of them reaches back up into it"),
    (r"^compiler/(ast|source|diag|parse|check)/", r"^compiler/(ir|interp|jit|lower)/",
     "the front end (parse, check) knows nothing of the back ends it feeds"),
    (r"^(?!base/regex\.cc$)", r"^re2/",
     "RE2 stays behind base/regex.h (the checker, the rules and the probes match one dialect)"),
    (r"^(?!engine/remote/(tls|test_pki)\.cc$)", r"^openssl/",
     "OpenSSL stays behind engine/remote/tls.h (one place decides how the link is secured)"),
    (r"^(?!.*_test\.cc$)", r"^regex$",
     "std::regex backtracks (and recurses per character): match with base/regex.h (RE2)"),
]

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
SOURCES = ("*.h", "*.cc")


def violations(root: pathlib.Path):
    """Yields one line per include that crosses a layer the wrong way."""
    for top in sorted(MAY_INCLUDE):
        allowed = MAY_INCLUDE[top] | {top}
        paths = sorted(p for pattern in SOURCES for p in (root / top).rglob(pattern))
        for path in paths:
            rel = path.relative_to(root).as_posix()
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = match.group(1)
                target_top = target.split("/", 1)[0]
                if "/" in target and target_top in MAY_INCLUDE and target_top not in allowed:
                    yield (f"{rel}:{number}: {top}/ may not include {target} "
                           f"({target_top}/ stands above it)")
                for files, includes, why in FORBIDDEN:
                    if re.search(files, rel) and re.search(includes, target):
                        yield f"{rel}:{number}: {target}: {why}"


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])
    found = list(violations(root.resolve()))
    for v in found:
        print(v)
    if found:
        print(f"layers: {len(found)} include(s) cross a layer the wrong way", file=sys.stderr)
        return 1
    print("layers: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
