#!/usr/bin/env python3
"""The include check must catch what it exists for: includes built to break each rule."""
import pathlib
import subprocess
import sys
import tempfile

CHECK = pathlib.Path(__file__).with_name("layers.py")

CASES = {
    # file: (its text, a word the violation line must contain; None: must pass)
    "probes/up.cc": ('#include "engine/daemon/daemon.h"\n', "probes/ may not include"),
    "base/up.h": ('#include "catalog/catalog.h"\n', "base/ may not include"),
    "catalog/up.h": ('#include "compiler/ir/ir.h"\n', "catalog/ may not include"),
    "compiler/check/up.cc": ('#include "probes/probe.h"\n', "compiler/ may not include"),
    "compiler/parse/llvm.cc": ("#include <llvm/IR/Module.h>\n", "LLVM stays behind"),
    "engine/store/back.cc": ('#include "engine/daemon/daemon.h"\n', "engine/daemon wires"),
    "compiler/check/back.cc": ('#include "compiler/jit/jit.h"\n', "the front end"),
    "probes/re2.cc": ("#include <re2/re2.h>\n", "RE2 stays behind"),
    "base/regex.h": ("#include <re2/re2.h>\n", "RE2 stays behind"),
    "base/regex.cc": ("#include <re2/re2.h>\n", None),
    "compiler/frontend/std.cc": ("#include <regex>\n", "std::regex backtracks"),
    "engine/metrics/x_test.cc": ("#include <regex>\n", None),
    "engine/daemon/ok.cc": ('#include "engine/store/event_store.h"\n#include <vector>\n', None),
    "compiler/jit/ok.cc": ("#include <llvm/IR/Module.h>\n", None),
    "tests/ok.cc": ('#include "engine/daemon/daemon.h"\n', None),
}


def run(root):
    return subprocess.run([sys.executable, str(CHECK), str(root)], capture_output=True, text=True)


def main() -> int:
    failures = 0
    for name, (text, expect) in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp, name)
            path.parent.mkdir(parents=True)
            path.write_text(text)
            result = run(tmp)
            if expect is None:
                ok = result.returncode == 0
            else:
                ok = result.returncode == 1 and expect in result.stdout and name in result.stdout
            if not ok:
                failures += 1
                print(f"FAIL {name}: exit {result.returncode}\n{result.stdout}{result.stderr}")
    print(f"layers_test: {len(CASES) - failures}/{len(CASES)} cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
