#!/usr/bin/env python3
"""`amatac lsp`: how long after an edit the editor has the new diagnostics (docs/benchmarks.md,
"amatac lsp").

Starts `amatac lsp` as an editor does (pipes, framed JSON-RPC), opens a generated N-rule
policy (bench/check_bench --write-policy) and sends REPS full-text edits, each of which adds
or removes one error at the middle of the file, so each edit is answered by exactly one
textDocument/publishDiagnostics. The figure is the time from writing didChange to reading
that notification: the server's whole re-check (include loading, parse, every checker pass,
the conversion to LSP positions) plus the pipe both ways. The server process's CPU time is
read from /proc before and after.

    bench/lsp/lsp_bench.py --amatac build/dev/tools/amatac/amatac \\
        --check-bench build/dev/bench/check_bench --rules 10000 --reps 30
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_msg(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("amatac lsp closed its output")
        line = line.strip()
        if not line:
            if length is not None:
                break
            continue
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(stream.read(length))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPU ({model}), Linux {platform.release()}, "
            f"load average {os.getloadavg()[0]:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--amatac", required=True)
    ap.add_argument("--check-bench", help="writes the policy (bench/check_bench)")
    ap.add_argument("--policy", help="a policy file instead of a generated one")
    ap.add_argument("--rules", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="amata-lsp-bench-")
    path = os.path.join(tmp, "policy.amata")
    if args.policy:
        with open(args.policy) as f:
            text = f.read()
    else:
        subprocess.run([args.check_bench, "--write-policy", path, str(args.rules)], check=True)
        with open(path) as f:
            text = f.read()
    with open(path, "w") as f:
        f.write(text)
    # The edit: a rule with an unknown attribute, inserted before the first rule past the
    # middle of the file.
    middle = text.index("\ndiscover ", len(text) // 2) + 1
    broken = text[:middle] + "discover lsp_bench when self.cpux > 1% raise LspBench(self)\n" + \
        text[middle:]
    uri = "file://" + path

    server = subprocess.Popen([args.amatac, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    send = lambda m: (server.stdin.write(frame(m)), server.stdin.flush())

    def wait_publish():
        while True:
            msg = read_msg(server.stdout)
            if msg.get("method") == "textDocument/publishDiagnostics" and \
                    msg["params"]["uri"] == uri:
                return msg["params"]["diagnostics"]

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
          "params": {"processId": os.getpid(), "rootUri": None, "capabilities": {}}})
    while read_msg(server.stdout).get("id") != 1:
        pass
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    t0 = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "amata", "version": 1,
                                      "text": broken}}})
    first = wait_publish()
    open_ms = (time.perf_counter() - t0) * 1000
    assert any(d["code"] == "E0203" for d in first), first

    times, cpu0 = [], cpu_seconds(server.pid)
    for i in range(args.reps):
        t0 = time.perf_counter()
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": i + 2},
                         "contentChanges": [{"text": text if i % 2 == 0 else broken}]}})
        diags = wait_publish()
        times.append((time.perf_counter() - t0) * 1000)
        assert (len(diags) == 0) == (i % 2 == 0), diags
    cpu_ms = (cpu_seconds(server.pid) - cpu0) * 1000 / args.reps

    send({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
    while read_msg(server.stdout).get("id") != 2:
        pass
    send({"jsonrpc": "2.0", "method": "exit", "params": None})
    rc = server.wait(timeout=30)
    os.unlink(path)
    os.rmdir(tmp)

    times.sort()
    print(f"policy: {len(text.encode()) / 1e6:.2f} MB, {text.count(chr(10))} lines "
          f"({args.rules if not args.policy else args.policy} rules)")
    print(f"didOpen -> diagnostics: {open_ms:.0f} ms")
    print(f"didChange -> publishDiagnostics over {args.reps} edits: "
          f"median {statistics.median(times):.0f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1]:.0f} ms, max {times[-1]:.0f} ms; "
          f"server CPU {cpu_ms:.0f} ms per edit")
    print(f"machine: {machine()}", flush=True)
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
