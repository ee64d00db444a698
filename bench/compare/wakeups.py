#!/usr/bin/python3
"""amatad's wake-ups on a busy machine: how often the kernel wakes it, before and after a change.

amatad listens to the netlink proc connector (probes/proc_connector.cc), which reports every
fork, exec and exit on the machine. This measures what that costs amatad when other programs
start processes all the time, for one or more amatad binaries side by side.

Each binary runs the same policy: --services services (`/bin/sleep`, supervised and restarted)
and --foreign foreign processes watched by `process X { match "^DIR/foreign-I " }` (copies of
/bin/sleep the harness starts under a name of its temporary directory, so the pattern finds
them and nothing else). Scenarios:

  found      every `process` is found: amatad needs only the exits of those few pids
  searching  one more `process` whose pattern matches nothing, so amatad keeps looking at
             every exec (as a probe waiting for its process does)

Per run: start amatad, wait until its console (JSON lines) says every service runs and every
foreign process is found, let it settle, then two windows of --window seconds each:

  idle  nothing else started by the harness
  load  --load-workers shells, each `while :; do /bin/true; n=$((n+1)); done` in a process
        group of its own; each counts its iterations (one process each) and reports the count
        on SIGUSR1 at the start and the end of the window

and over each window: amatad's wake-ups (the increase of voluntary_ctxt_switches summed over
/proc/PID/task/*/status: each is amatad blocking, in epoll_wait nearly always, and being woken
again), its involuntary context switches, its CPU (utime+stime of /proc/PID/stat, and the
on-CPU nanoseconds of /proc/PID/task/*/schedstat), the processes the load started, and the
machine's forks (/proc/stat `processes`). The runs alternate between the binaries
(A B A B ...) --reps times per scenario; the table gives the median over the repetitions.
*Extra wake-ups per 1000 processes* is (load wake-ups/s - the same run's idle wake-ups/s)
/ (load processes/s) x 1000: what each process started elsewhere costs amatad.

Everything runs in a temporary directory (policy, state, console socket, logs); the harness
stops by pid (and the load by process group) everything it started, and touches no system
service. Needs root or CAP_NET_ADMIN for the proc connector, as amatad does.

    git worktree add /tmp/before HEAD~1 && (cd /tmp/before && cmake --preset release &&
      cmake --build --preset release --target amatad)
    cmake --preset release && cmake --build --preset release --target amatad
    /usr/bin/python3 bench/compare/wakeups.py \\
      --amatad before=/tmp/before/build/release/tools/amatad/amatad \\
      --amatad after=build/release/tools/amatad/amatad --out build/wakeups
    /usr/bin/python3 bench/compare/wakeups.py --smoke --amatad build/dev/tools/amatad/amatad
Results: the markdown table on stdout; with --out, OUT/results.json (every sample) and
OUT/report.md.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ beside compare.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ConsoleConnection, alive, log, machine  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
SCENARIOS = ["found", "searching"]
CONDITIONS = ["idle", "load"]
SLEEP = "/bin/sleep"
FOREVER = "1000000"  # seconds: the services and foreign processes outlive any run


# ---------------------------------------------------------------- /proc readings


def read_counters(pid):
    """amatad's counters now: context switches over all its threads, CPU, machine forks."""
    c = {"t": time.monotonic(), "vol": 0, "nonvol": 0, "vol_main": 0, "sched_ns": 0,
         "threads": 0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        v = int(line.split()[1])
                        c["vol"] += v
                        if tid == str(pid):
                            c["vol_main"] = v
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        c["nonvol"] += int(line.split()[1])
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                c["sched_ns"] += int(f.read().split()[0])
            c["threads"] += 1
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended between listdir and open
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    c["cpu_ticks"] = int(fields[11]) + int(fields[12])  # utime + stime, all threads
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("processes "):
                c["forks"] = int(line.split()[1])
    return c


def window(before, after):
    """Rates over one window from two read_counters()."""
    dt = after["t"] - before["t"]
    return {
        "seconds": dt,
        "wakeups": after["vol"] - before["vol"],
        "wakeups_main_thread": after["vol_main"] - before["vol_main"],
        "nonvoluntary": after["nonvol"] - before["nonvol"],
        "cpu_ms": (after["cpu_ticks"] - before["cpu_ticks"]) * 1000.0 / CLK_TCK,
        "oncpu_ms": (after["sched_ns"] - before["sched_ns"]) / 1e6,
        "machine_forks": after["forks"] - before["forks"],
        "threads": after["threads"],
    }


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def kill_if(pid, argv0):
    """SIGKILLs `pid` if it is alive and still the program started as `argv0`."""
    if pid and alive(pid) and cmdline(pid)[:1] == [argv0.encode()]:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------- the foreign processes


class Foreign:
    """Copies of /bin/sleep (symlinks DIR/foreign-I), each in a session of its own."""

    def __init__(self, root, n):
        self.procs = []
        self.paths = []
        for i in range(1, n + 1):
            path = os.path.join(root, f"foreign-{i}")
            os.symlink(SLEEP, path)
            self.paths.append(path)
            self.procs.append(subprocess.Popen([path, FOREVER], stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL,
                                               start_new_session=True))

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()


# ---------------------------------------------------------------- amatad


def policy_text(args, foreign, scenario, root):
    lines = ["policy wakeups", ""]
    for i in range(args.services):
        lines.append(f'service s{i} {{ start "{SLEEP}" "{FOREVER}"; stop KILL }}')
    lines.append("")
    for i, path in enumerate(foreign.paths, 1):
        lines.append(f'process f{i} {{ match "^{path} " }}')
    if scenario == "searching":
        # Nothing runs under this name: the probe looks at every exec for it.
        lines.append(f'process absent {{ match "^{os.path.join(root, "absent")} " }}')
    lines += ["",
              "discover down(s: service) when not s.alive raise Down(s)",
              "recover Down(s) { restart s }",
              "discover gone(p: process) when not p.alive raise Gone(p)",
              "event Gone(p: process) notify_only", ""]
    return "\n".join(lines)


def console(sock_path, cmd, timeout=5.0):
    """One request over amatad's console socket (docs/console.md); the result, or None."""
    connection = ConsoleConnection(sock_path, timeout)
    try:
        return connection.request(cmd)[0]
    finally:
        connection.close()


class Amatad:
    def __init__(self, label, binary, scenario, rep, root, args, foreign):
        self.label, self.binary, self.args = label, binary, args
        self.dir = os.path.join(root, f"{label}-{scenario}-{rep}")
        os.makedirs(self.dir)
        self.policy = os.path.join(self.dir, "wakeups.amata")
        with open(self.policy, "w") as f:
            f.write(policy_text(args, foreign, scenario, root))
        self.socket = os.path.join(self.dir, "amatad.sock")
        os.makedirs(os.path.join(self.dir, "hooks"), mode=0o700)  # none: not the system's
        self.foreign = [f"f{i}" for i in range(1, len(foreign.paths) + 1)]
        self.proc = None
        self.service_pids = set()

    def start(self):
        cmd = [self.binary, self.policy, "--state-dir", os.path.join(self.dir, "state"),
               "--socket", self.socket, "--hooks", os.path.join(self.dir, "hooks"),
               "--log-level", "warn"] + self.args.amatad_args
        with open(os.path.join(self.dir, "amatad.out"), "w") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.dir,
                                         start_new_session=True)

    def ready(self):
        status = console(self.socket, "status")
        if status is None:
            return False
        objects = {o["name"]: o for o in status.get("objects", [])}
        for i in range(self.args.services):
            o = objects.get(f"s{i}", {})
            if o.get("state") != "running" or not o.get("pid"):
                return False
            self.service_pids.add(int(o["pid"]))
        return all(objects.get(name, {}).get("attributes", {}).get("alive") == 1
                   for name in self.foreign)

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label}: amatad exited ({self.proc.returncode}); "
                                   f"see {self.dir}/amatad.out")
            if self.ready():
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        """SIGTERM (amatad stops its services), SIGKILL after 10 s; then any service left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.service_pids:
            kill_if(pid, SLEEP)
        self.proc = None


# ---------------------------------------------------------------- the load


WORKER = ('n=0; trap \'echo $n >> "$0"\' USR1; trap \'exit 0\' TERM; '
          'while :; do /bin/true; n=$((n+1)); done')


class Load:
    """--load-workers fork/exec loops, each a process group of its own, counting processes."""

    def __init__(self, directory, workers):
        self.workers = []
        for i in range(workers):
            counts = os.path.join(directory, f"load-{i}.counts")
            open(counts, "w").close()
            p = subprocess.Popen(["/bin/sh", "-c", WORKER, counts], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            self.workers.append((p, counts))

    def mark(self):
        """Asks every worker for its count (read back by counts())."""
        for p, _ in self.workers:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGUSR1)

    def counts(self, marks):
        """Processes started between the first and the last of `marks` marks, summed; None
        if a worker missed a mark."""
        deadline = time.monotonic() + 5
        total = 0
        for _, path in self.workers:
            while True:
                with open(path) as f:
                    values = [int(x) for x in f.read().split()]
                if len(values) >= marks or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            if len(values) < marks:
                return None
            total += values[marks - 1] - values[0]
        return total

    def stop(self):
        for p, _ in self.workers:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for p, _ in self.workers:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            try:  # the /bin/true of the moment, if any, is in the worker's group
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            if p.poll() is None:
                p.wait()


# ---------------------------------------------------------------- one run


def run_one(label, binary, scenario, rep, root, args, foreign):
    d = Amatad(label, binary, scenario, rep, root, args, foreign)
    run = {"label": label, "scenario": scenario, "rep": rep, "error": None}
    load = None
    try:
        d.start()
        if not d.wait_ready(args.ready_timeout):
            run["error"] = f"not ready within {args.ready_timeout:g} s (see {d.dir})"
            return run
        time.sleep(args.settle)  # start-up work is not what is measured
        pid = d.proc.pid
        c0 = read_counters(pid)
        time.sleep(args.window)
        c1 = read_counters(pid)
        run["idle"] = window(c0, c1)
        load = Load(d.dir, args.load_workers)
        time.sleep(args.ramp)
        load.mark()
        c2 = read_counters(pid)
        time.sleep(args.window)
        load.mark()
        c3 = read_counters(pid)
        run["load"] = window(c2, c3)
        load.stop()
        run["load"]["load_processes"] = load.counts(2)
        load = None
        if d.proc.poll() is not None:
            run["error"] = f"amatad exited ({d.proc.returncode}) during the run"
        elif not d.ready():
            run["error"] = "a service or foreign process was lost during the run"
    finally:
        if load:
            load.stop()
        d.stop()
    return run


# ---------------------------------------------------------------- the figures


def rates(run, condition):
    """The figures of one run's window, per second."""
    w = run.get(condition)
    if not w:
        return None
    s = w["seconds"]
    r = {"wakeups_s": w["wakeups"] / s, "nonvoluntary_s": w["nonvoluntary"] / s,
         "cpu_ms_s": w["cpu_ms"] / s, "oncpu_ms_s": w["oncpu_ms"] / s,
         "machine_forks_s": w["machine_forks"] / s, "procs_s": None, "extra_per_1000": None}
    if condition == "load" and w.get("load_processes"):
        r["procs_s"] = w["load_processes"] / s
        idle = run["idle"]["wakeups"] / run["idle"]["seconds"]
        r["extra_per_1000"] = (r["wakeups_s"] - idle) / r["procs_s"] * 1000.0
    return r


def median(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def fmt(x, digits=1):
    if x is None:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return "–"
    if a < 0:
        return "≤ 0"  # an extra cost within the noise of the idle window
    return f"{a / b:.3f}" if a / b < 0.1 else f"{a / b:.2f}"


KEYS = [("wakeups_s", "wake-ups/s"), ("nonvoluntary_s", "involuntary/s"),
        ("cpu_ms_s", "CPU ms/s (utime+stime)"), ("oncpu_ms_s", "on-CPU ms/s (schedstat)"),
        ("procs_s", "load processes/s"), ("machine_forks_s", "machine forks/s"),
        ("extra_per_1000", "extra wake-ups per 1000 processes")]
LOAD_ONLY = ("procs_s", "extra_per_1000")


def summary(results):
    """{(scenario, condition, label): {key: median}}"""
    out = {}
    for scenario in results["args"]["scenarios"]:
        for condition in CONDITIONS:
            for label in results["labels"]:
                rs = [rates(r, condition) for r in results["runs"]
                      if r["label"] == label and r["scenario"] == scenario and not r["error"]]
                rs = [r for r in rs if r]
                out[(scenario, condition, label)] = {
                    k: median([r[k] for r in rs]) for k, _ in KEYS} | {"n": len(rs)}
    return out


def report(results):
    a, m = results["args"], results["machine"]
    labels = results["labels"]
    s = summary(results)
    lines = []
    w = lines.append
    w("## amatad wake-ups under a fork/exec load, " + " beside ".join(labels) + "\n")
    w(f"Run {m['date_utc']}, {results['seconds'] / 60:.1f} min. Machine: {m['cpu_model']}, "
      f"{m['nproc']} CPUs (nproc), kernel {m['kernel']}; load average at start "
      f"{' '.join(m['loadavg_at_start'])}.\n")
    for label in labels:
        w(f"- {label}: `{results['binaries'][label]}`")
    w("")
    w(f"Policy: {a['services']} services (`{SLEEP}`), {a['foreign']} foreign processes found by "
      f"`match`; *searching* adds one `process` whose pattern matches nothing. Windows of "
      f"{a['window']:g} s; load: {a['load_workers']} × `while :; do /bin/true; done`. "
      f"Median of {a['reps']} runs per cell, binaries alternating. Wake-ups: voluntary "
      "context switches of all amatad's threads. Machine forks/s: /proc/stat `processes`, "
      "every fork on the machine (the load's too; in the idle window, what else ran). Extra "
      "wake-ups per 1000 processes: (load wake-ups/s − idle wake-ups/s of the same run) / "
      "load processes/s × 1000.\n")
    cols = [k for k, _ in KEYS]
    head = "| scenario | window | amatad | " + " | ".join(t for _, t in KEYS) + " |"
    w(head)
    w("|" + "---|" * (head.count("|") - 1))
    for scenario in a["scenarios"]:
        for condition in CONDITIONS:
            for label in labels:
                c = s[(scenario, condition, label)]
                row = [scenario, condition, f"{label} ({c['n']})"]
                for k in cols:
                    row.append("–" if condition == "idle" and k in LOAD_ONLY
                               else fmt(c[k], 2 if k.startswith(("cpu", "oncpu")) else 1))
                w("| " + " | ".join(row) + " |")
            if len(labels) > 1:
                base = s[(scenario, condition, labels[0])]
                for label in labels[1:]:
                    c = s[(scenario, condition, label)]
                    row = [scenario, condition, f"**{label} / {labels[0]}**"]
                    for k in cols:
                        row.append("–" if condition == "idle" and k in LOAD_ONLY
                                   else ratio(c[k], base[k]))
                    w("| " + " | ".join(row) + " |")
    w("")
    errs = [r for r in results["runs"] if r["error"]]
    if errs:
        w("Errors: " + "; ".join(f"{r['label']} {r['scenario']} rep {r['rep']}: {r['error']}"
                                 for r in errs) + "\n")
    w(f"Command: `{results['command']}`\n")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def parse_binary(text, p):
    label, sep, path = text.partition("=")
    if not sep:
        label, path = "amatad", text
    path = os.path.abspath(path)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", label):
        p.error(f"--amatad {text}: a label of letters, digits, '_', '.', '-'")
    if not os.access(path, os.X_OK):
        p.error(f"no amatad at {path}")
    return label, path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--amatad", action="append", default=[], metavar="[LABEL=]PATH",
                   help="an amatad binary (repeatable; the first is the base of the ratios)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--reps", type=int, default=3, help="runs per binary and scenario")
    p.add_argument("--window", type=float, default=20, help="seconds per window")
    p.add_argument("--settle", type=float, default=3, help="seconds after ready, before idle")
    p.add_argument("--ramp", type=float, default=1, help="seconds of load before its window")
    p.add_argument("--services", type=int, default=5)
    p.add_argument("--foreign", type=int, default=3, help="foreign processes found by match")
    p.add_argument("--load-workers", type=int, default=os.cpu_count() or 1,
                   help="fork/exec loops (default: one per CPU)")
    p.add_argument("--ready-timeout", type=float, default=30)
    p.add_argument("--amatad-arg", dest="amatad_args", action="append", default=[],
                   help="one more argument for every amatad (repeatable)")
    p.add_argument("--out", default=None, help="also write OUT/results.json and OUT/report.md")
    p.add_argument("--smoke", action="store_true", help="1 rep, 3 s windows, found only")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop all by pid
    if not args.amatad:
        p.error("at least one --amatad [LABEL=]PATH")
    binaries = dict(parse_binary(b, p) for b in args.amatad)
    if len(binaries) != len(args.amatad):
        p.error("two --amatad with one label")
    if args.smoke:
        args.reps, args.window, args.settle, args.scenarios = 1, 3, 1, "found"
    args.scenarios = args.scenarios.split(",")
    for sc in args.scenarios:
        if sc not in SCENARIOS:
            p.error(f"unknown scenario {sc} (known: {', '.join(SCENARIOS)})")
    args.amatad_args = list(args.amatad_args)

    root = tempfile.mkdtemp(prefix="amata-wakeups-")
    # The directory goes verbatim into `match` patterns and policy strings.
    if not re.fullmatch(r"[A-Za-z0-9_/-]+", root):
        shutil.rmtree(root)
        p.error(f"temporary directory {root}: only letters, digits, '_', '-', '/' please "
                "(set TMPDIR)")
    m = machine()
    for k in ("monit", "supervisord", "stress_ng"):
        m.pop(k, None)
    labels = list(binaries)
    results = {"machine": m, "args": vars(args), "command": shlex.join(sys.argv),
               "labels": labels, "binaries": binaries, "runs": []}
    started = time.monotonic()
    foreign = None
    ok = True
    try:
        foreign = Foreign(root, args.foreign)
        for scenario in args.scenarios:
            for rep in range(args.reps):
                for label in labels:  # A B A B ...
                    run = run_one(label, binaries[label], scenario, rep, root, args, foreign)
                    results["runs"].append(run)
                    if run["error"]:
                        ok = False
                        log(f"{scenario:9} rep {rep + 1}/{args.reps} {label}: {run['error']}")
                        continue
                    i, ld = rates(run, "idle"), rates(run, "load")
                    log(f"{scenario:9} rep {rep + 1}/{args.reps} {label:8} idle "
                        f"{i['wakeups_s']:7.1f} wake-ups/s {i['cpu_ms_s']:6.2f} CPU ms/s | load "
                        f"{ld['wakeups_s']:8.1f} wake-ups/s {ld['cpu_ms_s']:7.2f} CPU ms/s, "
                        f"{fmt(ld['procs_s'])} processes/s, "
                        f"{fmt(ld['extra_per_1000'])} extra wake-ups/1000 processes")
    finally:
        results["seconds"] = time.monotonic() - started
        if foreign:
            foreign.stop()
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    text = report(results)
    if args.out:
        with open(os.path.join(args.out, "report.md"), "w") as f:
            f.write(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
