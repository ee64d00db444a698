#!/usr/bin/python3
"""A restart storm: 100 services killed at once, amata beside Monit and supervisord.

Each supervisor keeps N (100) compare_tcp_service processes that each spend --burn-ms of CPU
starting (as an interpreter does: python3 -m http.server takes about 60 ms here), so the
services it restarts compete for the CPU with the supervisor itself, as real ones do. Each
repetition compare_meter SIGKILLs all N at once and stamps, per service, kill -> the new
process forked (the kernel's stamp of the supervisor's fork; Monit's services daemonize, so
it has none), kill -> running (the process's own main() stamp) and kill -> accepting. Per
repetition this script keeps the last of the N — the last forked, the last running, the last
accepting — and puts them beside the physical bound: the N services' start-up CPU
divided by the cores. For amata it also times `amatactl status` again and again through the
storm (the console must answer while amatad restarts). Conditions: no load, and I/O load
(stress-ng --hdd, as in compare.py).

    cmake --preset release -B build/rel && cmake --build build/rel --target amatad amatactl \\
      compare_tcp_service compare_meter compare_reaper
    /usr/bin/python3 bench/compare/storm.py --bin-dir build/rel/bench/compare \\
      --amatad build/rel/tools/amatad/amatad --out build/rel/storm

Tools: amata (defaults), amata-noboost (--priority-boost 0: amatad at its services' nice),
monit-process, supervisord. results.json keeps every sample; report.md the tables.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the supervisors, the load, the machine: one harness)


class AmataNoBoost(compare.Amata):
    def command(self):
        return super().command() + ["--priority-boost", "0"]


TOOLS = {"amata": compare.Amata, "amata-noboost": AmataNoBoost,
         "monit-process": compare.Monit, "supervisord": compare.Supervisord}
# Below the kernel's ephemeral ports (32768-60999): a client socket never holds one.
PORT_BASE = {"amata": 25000, "amata-noboost": 26000, "monit-process": 27000,
             "supervisord": 28000}


def console_latencies(amatactl, path, stop, out, open_out):
    """`amatactl status` every 100 ms until `stop` (an operator looking, not a load: each
    answer renders all N services), each call's wall time in ms; after each, the same request
    on a connection kept open, to tell amatad's answer from the client process's start."""
    console = compare.ConsoleConnection(path)
    while not stop.is_set():
        t0 = time.monotonic()
        r = subprocess.run([amatactl, "--socket", path, "status"], capture_output=True)
        out.append((time.monotonic() - t0) * 1000.0 if r.returncode == 0 else None)
        result, ms = console.request("status")
        open_out.append(ms if result is not None else None)
        stop.wait(0.1)
    console.close()


def run_cell(tool, condition, n, reps, root, args, rng):
    cls = compare.in_cgroup(TOOLS[tool]) if args.cgroup_root else TOOLS[tool]
    sup = cls(tool, n, PORT_BASE[tool], os.path.join(root, condition), args)
    cell = {"tool": tool, "condition": condition, "n": n, "reps": [], "errors": []}
    load = None
    try:
        sup.start()
        if not sup.wait_ready(args.ready_timeout):
            cell["errors"].append("services never all came up")
            return summarized(cell)
        time.sleep(max(sup.settle, 1.0))
        load = compare.Load(condition, root, args.stress_timeout)
        for rep in range(reps):
            latencies, open_latencies, stop = [], [], threading.Event()
            poller = None
            if tool.startswith("amata"):
                poller = threading.Thread(target=console_latencies, args=(
                    args.amatactl, os.path.join(sup.dir, "amatad.sock"), stop, latencies,
                    open_latencies))
                poller.start()
            r = subprocess.run([os.path.join(args.bin_dir, "compare_meter"), "--timeout",
                                str(args.rep_timeout), "--supervisor", str(sup.pid),
                                sup.list_file],
                               capture_output=True, text=True)
            stop.set()
            if poller:
                poller.join()
            if r.returncode not in (0, 3) or not r.stdout.strip():
                cell["errors"].append(f"rep {rep}: meter rc {r.returncode}: {r.stderr.strip()}")
            else:
                services = json.loads(r.stdout)["services"]
                dead = [s["dead_ms"] for s in services]
                forked = [s["forked_ms"] for s in services]
                # The supervisor's own share: each service's death (its pidfd, the kernel's
                # word) to its new process's fork.
                reaction = [f - d for f, d in zip(forked, dead) if f is not None and d is not None]
                running = [s["running_ms"] for s in services]
                accepting = [s["accepting_ms"] for s in services]
                cell["reps"].append({
                    "dead": dead, "forked": forked, "reaction": reaction,
                    "dead_last": None if None in dead else max(dead),
                    "reaction_max": max(reaction) if reaction else None, "running": running, "accepting": accepting,
                    "console_ms": latencies, "console_open_ms": open_latencies,
                    "forked_last": None if None in forked else max(forked),
                    "running_last": None if None in running else max(running),
                    "accepting_last": None if None in accepting else max(accepting)})
            if not sup.wait_ready(args.ready_timeout):
                cell["errors"].append(f"rep {rep}: services not back within "
                                      f"{args.ready_timeout:g} s")
                break
            time.sleep(sup.settle + rng.uniform(0, sup.jitter))
    finally:
        if load:
            load.stop()
        sup.stop()
    return summarized(cell)


def summarized(cell):
    for key in ["dead_last", "reaction_max", "forked_last", "running_last", "accepting_last"]:
        cell[key] = compare.summarize([r[key] for r in cell["reps"]])
    cell["console"] = compare.summarize([x for r in cell["reps"] for x in r["console_ms"]])
    cell["console_open"] = compare.summarize(
        [x for r in cell["reps"] for x in r.get("console_open_ms", [])])
    return cell


def fmt(x):
    return "–" if x is None else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")


def report(results):
    args = results["args"]
    bound = results["bound_ms"]
    m = results["machine"]
    lines = [
        f"Storm: {args['n']} services killed at once, each spending {args['burn_ms']} ms of CPU "
        f"to start; {args['reps']} repetitions a cell.",
        f"{m['date_utc']}, amata {m['amata_commit']}; {m['cpu_model']}, {m['nproc']} cores; "
        f"load average at start {' '.join(m['loadavg_at_start'])}; {m['monit']}; "
        f"supervisord {m['supervisord']}. Physical bound (start-up CPU / cores): {bound:.0f} ms. "
        + ("Each supervisor in a cpu cgroup of its own, as systemd runs a unit."
           if args.get("cgroup_root") else
           "The supervisors in the harness's session (autogroup: every service that leads a "
           "session of its own is a scheduling group as heavy as its supervisor)."),
        "",
        "| tool | load | last dead, ms (median / max) | slowest death → fork, ms (median / max) "
        "| last forked, ms (median / max) | last running, ms (median / max) "
        "| last accepting, ms (median / max) | accepting / bound (median) "
        "| `amatactl status` during the storm, ms (median / max) "
        "| status on an open connection, ms (median / max) | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results["cells"]:
        f, a, con = c["forked_last"], c["accepting_last"], c["console"]
        con_open = c.get("console_open", {})
        run, dead, react = c["running_last"], c.get("dead_last", {}), c.get("reaction_max", {})
        ratio = a.get("median") / bound if a.get("median") and bound else None
        lines.append(
            f"| {c['tool']} | {c['condition']} | {fmt(dead.get('median'))} / {fmt(dead.get('max'))} | "
            f"{fmt(react.get('median'))} / {fmt(react.get('max'))} | "
            f"{fmt(f.get('median'))} / {fmt(f.get('max'))} | "
            f"{fmt(run.get('median'))} / {fmt(run.get('max'))} | "
            f"{fmt(a.get('median'))} / {fmt(a.get('max'))} | "
            f"{'–' if ratio is None else f'{ratio:.2f}'} | "
            f"{fmt(con.get('median')) + ' / ' + fmt(con.get('max')) if con.get('n') else '–'} | "
            f"{fmt(con_open.get('median')) + ' / ' + fmt(con_open.get('max')) if con_open.get('n') else '–'} | "
            f"{len(c['errors']) or ''} |")
    return "\n".join(lines) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tools", default="amata,amata-noboost,monit-process,supervisord")
    p.add_argument("--conditions", default="none,io")
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--burn-ms", type=int, default=60)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--rep-timeout", type=float, default=60)
    p.add_argument("--ready-timeout", type=float, default=180,
                   help="seconds for all N services to accept, at the start and after a rep")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--stress-timeout", type=float, default=900)
    p.add_argument("--bin-dir", default=os.path.join(repo, "build/rel/bench/compare"))
    p.add_argument("--amatad", default=os.path.join(repo, "build/rel/tools/amatad/amatad"))
    p.add_argument("--amatactl", default=None, help="default: beside --amatad's directory")
    p.add_argument("--amatad-arg", dest="amatad_args", action="append", default=[],
                   help="one more argument for amatad (repeatable)")
    p.add_argument("--out", default=os.path.join(repo, "build/rel/storm"))
    p.add_argument("--smoke", action="store_true", help="amata, N=10, 2 reps, no load")
    p.add_argument("--no-cgroup", action="store_true",
                   help="run the supervisors in this session's scheduling group (autogroup)")
    args = p.parse_args()
    if args.smoke:
        args.tools, args.conditions, args.n, args.reps = "amata", "none", 10, 2
    args.bin_dir, args.amatad = os.path.abspath(args.bin_dir), os.path.abspath(args.amatad)
    if args.amatactl is None:
        args.amatactl = os.path.join(os.path.dirname(os.path.dirname(args.amatad)),
                                     "amatactl", "amatactl")
    args.jitter = 1.0
    args.cgroup_root = None
    if not args.no_cgroup and os.access(compare.CPU_CGROUPS, os.W_OK):
        args.cgroup_root = compare.CPU_CGROUPS
    for t in args.tools.split(","):
        if t not in TOOLS:
            p.error(f"unknown tool {t}")
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="amata-storm-")
    machine = compare.machine()
    cores = os.cpu_count() or 1
    results = {"machine": machine, "args": vars(args), "cells": [],
               "bound_ms": args.burn_ms * args.n / cores}
    ok = True
    try:
        for condition in args.conditions.split(","):
            for tool in args.tools.split(","):
                cell = run_cell(tool, condition, args.n, args.reps, root, args, rng)
                results["cells"].append(cell)
                compare.log(f"{condition:4} {tool:14} forked {cell['forked_last']} "
                            f"accepting {cell['accepting_last']} console {cell['console']} "
                            f"{cell['errors'] or ''}")
                ok = ok and not cell["errors"]
    finally:
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        if args.keep:
            compare.log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report(results))
    compare.log(f"{args.out}/report.md")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
