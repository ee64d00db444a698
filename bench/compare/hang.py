#!/usr/bin/env python3
"""Hung-service recovery: amata beside Monit, in one run, on this machine.

The service is Python's http.server (always /usr/bin/python3), started by a small wrapper that
writes its pid to a pidfile and execs it (Monit needs the pidfile; amata gets the same
command). Per repetition: wait until the service answers GET / with 200, wait SETTLE s (5 s:
past amata's `grace 2s` and past Monit's first passed test after a restart, so each stop finds
both in their steady state) plus a random 0-1 s (so the stop falls at a random phase of Monit's
1-s cycle), then freeze the service with SIGSTOP:
the process is alive, its listening socket accepts connections, but nothing answers. Only a
health check finds that. Measured from the SIGSTOP, per repetition:

  stop -> new process running    a new pid in the pidfile, alive
  stop -> answering              GET / answers 200 (with the frozen process gone)
  stop -> old process gone       the frozen process has exited (the supervisor's stop path)

If the supervisor leaves the frozen process behind, the harness SIGKILLs it by pid and counts
a failure for the tool. Each tool runs in its own temporary directory with its own config,
state, socket, pid and log files, under compare_reaper (a subreaper, as in compare.py); every
process started is stopped by pid at the end. No system service is touched.

    bench/compare/hang.py                                    # amata and Monit, 20 reps each
    bench/compare/hang.py --tools amata,monit --reps 2       # a small run (~1 min)
    bench/compare/hang.py --smoke                            # amata only, 2 reps
    bench/compare/hang.py --amatad build/release/tools/amatad/amatad ...   # another build
Results: OUT/results.json (every sample), OUT/report.md (the tables and configs used).
"""

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ beside compare.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402
from compare import (alive, fmt_ms, log, machine, read_pid, start_under_reaper,  # noqa: E402
                     summarize)

TOOLS = ["amata", "monit"]
PORTS = {"amata": 25080, "monit": 25180}
PYTHON = "/usr/bin/python3"
# amata's restart defaults (backoff 100ms .. 30s, limit 10 within 10min, docs/language.md)
# would add a doubling delay to every repetition after the first (the service never runs 30 s
# between two) and give up after the tenth: replaced by Monit's behaviour, which has neither.
AMATA_RESTART = "backoff none limit none"


# ---------------------------------------------------------------- probes


def proc_state(pid):
    """One-letter state from /proc/PID/stat (R, S, T, Z, ...), '' once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def is_our_service(pid, port):
    """The pid runs http.server on our port (checked before any signal is sent to it)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return b"http.server" in argv and str(port).encode() in argv


def http_ok(port, timeout=0.25):
    """GET / answers 200 within TIMEOUT s (a frozen server accepts, then never answers)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while b"\r\n" not in data and len(data) < 512:
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
        parts = data.split(b" ", 2)
        return len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1] == b"200"
    except OSError:
        return False


# ---------------------------------------------------------------- the supervisors


class Supervisor:
    """One supervisor keeping the one web service, in its own directory, under compare_reaper."""

    def __init__(self, name, root, args):
        self.name, self.args, self.port = name, args, PORTS[name]
        self.dir = os.path.join(root, name)
        self.www = os.path.join(self.dir, "www")
        os.makedirs(self.www, exist_ok=True)
        with open(os.path.join(self.www, "index.html"), "w") as f:
            f.write("ok\n")
        self.pidfile = os.path.join(self.dir, "web.pid")
        self.serve = os.path.join(self.dir, "serve.sh")
        with open(self.serve, "w") as f:
            f.write("# the service: writes its pid (atomically), then becomes http.server\n"
                    f"echo $$ > {self.pidfile}.tmp && mv {self.pidfile}.tmp {self.pidfile}\n"
                    f"exec {PYTHON} -m http.server {self.port} --bind 127.0.0.1 "
                    f"--directory {self.www}\n")
        self.config_path, self.config_text = self.write_config()
        self.proc = None
        self.pid = 0

    def write_config(self):
        raise NotImplementedError

    def command(self):
        raise NotImplementedError

    def start(self):
        if self.port_taken():
            raise RuntimeError(f"{self.name}: port {self.port} already in use")
        self.proc, self.pid = start_under_reaper(self.args.bin_dir, self.dir, self.command(),
                                                 self.name)

    def port_taken(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def ready(self):
        pid = read_pid(self.pidfile)
        return bool(pid) and proc_state(pid) not in ("", "Z", "X", "T", "t") and http_ok(self.port)

    # compare.py's: polls ready() and fails when the supervisor exits (uses proc, name, dir).
    wait_ready = compare.Supervisor.wait_ready

    def kill_service(self, pid):
        """SIGKILL one of our http.server processes by pid (never anything else)."""
        if pid and alive(pid) and is_our_service(pid, self.port):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                return False
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and alive(pid):
                time.sleep(0.01)
            return True
        return False

    def stop(self, extra_pids=()):
        """Stops the supervisor, then kills by pid whatever service it left behind."""
        if self.proc is None:
            return
        if self.pid and alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and alive(self.pid):
                time.sleep(0.02)
            if alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
        for pid in [read_pid(self.pidfile)] + list(extra_pids):
            self.kill_service(pid)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Amata(Supervisor):
    def write_config(self):
        path = os.path.join(self.dir, "hang.amata")
        restart = f"restart s {self.args.amata_restart}".rstrip()
        text = ("policy hang\n"
                "service web {\n"
                f'  start "/bin/sh" "{self.serve}"\n'
                "  stop TERM then KILL after 2s\n"
                f'  health http "http://127.0.0.1:{self.port}/" every 500ms timeout 500ms\n'
                "  grace 2s\n"
                "}\n"
                "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                "discover sick(s: service) when s.health.failed for 2 checks raise ServiceSick(s)\n"
                f"recover ServiceDown(s) {{ {restart} }}\n"
                f"recover ServiceSick(s) {{ {restart} }}\n")
        with open(path, "w") as f:
            f.write(text)
        return path, text

    def command(self):
        return [self.args.amatad, "--state-dir", os.path.join(self.dir, "state"),
                "--socket", os.path.join(self.dir, "amatad.sock"), "--log-level", "warn",
                self.config_path]


class Monit(Supervisor):
    def write_config(self):
        d = self.dir
        # Monit's stop program, as its manual has an operator write one: SIGTERM, then SIGKILL
        # if the process has not gone after a while (2 s, amata's `after 2s`). A process
        # frozen by SIGSTOP cannot act on the SIGTERM, so the SIGKILL is what ends it.
        stop = os.path.join(d, "stop.sh")
        with open(stop, "w") as f:
            f.write("# stop: TERM, then KILL after 2 s\n"
                    f"p=$(cat {self.pidfile}) || exit 0\n"
                    'kill -TERM "$p" 2>/dev/null || exit 0\n'
                    "i=0\n"
                    'while [ "$i" -lt 20 ]; do\n'
                    '  kill -0 "$p" 2>/dev/null || exit 0\n'
                    "  sleep 0.1\n"
                    "  i=$((i + 1))\n"
                    "done\n"
                    'kill -KILL "$p" 2>/dev/null\n'
                    "exit 0\n")
        self.stop_script = stop
        path = os.path.join(d, "monitrc")
        # `set daemon 1`: Monit's shortest cycle. Monit waits for its start program to exit:
        # the wrapper runs in the background with its output in a file. Monit pauses the
        # connection test for the start program's timeout after every start ("connection test
        # paused for 29 s while the process is starting"; 30 s by default): `with timeout 2
        # seconds` makes that pause amata's `grace 2s`, else every stop within 30 s of the
        # previous restart waits out the rest of those 30 s.
        text = (f"set daemon 1\nset logfile {d}/monit.log\nset idfile {d}/monit.id\n"
                f"set statefile {d}/monit.state\nset pidfile {d}/monit.pid\n\n"
                f"check process web with pidfile {self.pidfile}\n"
                f"  start program = \"/bin/sh -c '/bin/sh {self.serve} </dev/null "
                f">>{d}/web.log 2>&1 &'\" with timeout {self.args.monit_start_timeout} seconds\n"
                f'  stop program = "/bin/sh {stop}"\n'
                f'  if failed port {self.port} protocol http request "/" '
                "with timeout 1 seconds for 2 cycles then restart\n")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path, text

    def command(self):
        return ["/usr/bin/monit", "-I", "-c", self.config_path]


SUPERVISORS = {"amata": Amata, "monit": Monit}


# ---------------------------------------------------------------- one repetition


def run_rep(sup, rep, rng, args):
    """Freezes the service once; returns the sample (times in ms from the SIGSTOP)."""
    pause = rng.uniform(0, 1.0)
    time.sleep(args.settle + pause)
    old = read_pid(sup.pidfile)
    sample = {"rep": rep, "pause_s": round(pause, 4), "old_pid": old, "new_pid": None,
              "running_ms": None, "answering_ms": None, "old_gone_ms": None,
              "old_left_stopped": False, "error": None}
    if not old or proc_state(old) in ("", "Z", "X") or not is_our_service(old, sup.port):
        sample["error"] = f"no service to stop (pid {old})"
        return sample
    t0 = time.monotonic()
    sample["stop_at"] = time.strftime("%H:%M:%S", time.localtime()) + f"{time.time() % 1:.3f}"[1:]
    os.kill(old, signal.SIGSTOP)
    deadline = t0 + args.rep_timeout
    t_run = t_ans = t_gone = None
    new = 0
    while True:
        now = time.monotonic()
        if t_gone is None and not alive(old):
            t_gone = now
        if t_run is None:
            pid = read_pid(sup.pidfile)
            if pid and pid != old and alive(pid):
                t_run, new = now, pid
        # The old process, once continued, could answer too: only the new one counts.
        if t_run is not None and t_gone is not None and http_ok(sup.port):
            t_ans = time.monotonic()
            break
        if now > deadline:
            break
        time.sleep(0.005)
    ms = lambda t: None if t is None else round((t - t0) * 1000, 2)  # noqa: E731
    sample.update(new_pid=new or None, running_ms=ms(t_run), answering_ms=ms(t_ans),
                  old_gone_ms=ms(t_gone))
    if t_ans is None:
        sample["error"] = f"not answering within {args.rep_timeout:g} s"
    state = proc_state(old)
    if state and state not in ("Z", "X"):
        # The supervisor left the frozen process behind: end it and count the failure.
        sample["old_left_stopped"] = True
        sample["old_state"] = state
        sup.kill_service(old)
        sample["error"] = (sample["error"] + "; " if sample["error"] else "") + \
            f"old process {old} left in state {state}, SIGKILLed by the harness"
    return sample


def run_tool(tool, root, args):
    # One generator per tool, seeded by tool name: `--tools monit` repeats Monit's pauses.
    rng = random.Random(f"{args.seed}-{tool}")
    sup = SUPERVISORS[tool](tool, root, args)
    result = {"tool": tool, "config_file": os.path.basename(sup.config_path),
              "config": sup.config_text, "samples": [], "errors": []}
    if tool == "monit":
        with open(sup.stop_script) as f:
            result["stop_program"] = f.read()
    with open(sup.serve) as f:
        result["service"] = f.read()
    olds = []
    try:
        sup.start()
        if not sup.wait_ready(60):
            result["errors"].append("service never came up")
            return result
        for rep in range(args.reps):
            s = run_rep(sup, rep, rng, args)
            olds.append(s["old_pid"])
            result["samples"].append(s)
            log(f"{tool:5} rep {rep + 1}/{args.reps}: pause {s['pause_s']:.3f} s, stop -> "
                f"running {fmt_ms(s['running_ms'])} ms, answering {fmt_ms(s['answering_ms'])} "
                f"ms, old gone {fmt_ms(s['old_gone_ms'])} ms"
                + (f"  ERROR {s['error']}" if s["error"] else ""))
            if not sup.wait_ready(60):
                result["errors"].append(f"rep {rep}: service not back within 60 s")
                break
    finally:
        sup.stop(extra_pids=[p for p in olds if p])
        for name in ("monit.log", "supervisor.out", "web.log"):
            src = os.path.join(sup.dir, name)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(args.out, f"{tool}-{name}"))
    samples = result["samples"]
    for key in ("running_ms", "answering_ms", "old_gone_ms"):
        result[key[:-3]] = summarize([s[key] for s in samples])
    result["failures"] = sum(1 for s in samples if s["error"])
    result["old_left_stopped"] = sum(1 for s in samples if s["old_left_stopped"])
    return result


# ---------------------------------------------------------------- the report


def reproduce(args, tools):
    cmd = ["bench/compare/hang.py", "--tools", ",".join(tools), "--reps", str(args.reps),
           "--seed", str(args.seed), "--settle", f"{args.settle:g}",
           "--rep-timeout", f"{args.rep_timeout:g}"]
    if "amata" in tools:
        cmd += ["--amatad", args.amatad, "--amata-restart", args.amata_restart]
    if "monit" in tools:
        cmd += ["--monit-start-timeout", str(args.monit_start_timeout)]
    cmd += ["--bin-dir", args.bin_dir, "--out", args.out]
    return shlex.join(cmd)


def report(results):
    m, a = results["machine"], results["args"]
    tools = [t["tool"] for t in results["tools"]]
    lines = []
    w = lines.append
    w("## Hung-service recovery (SIGSTOP), " + " beside ".join(tools) + "\n")
    w(f"Run {m['date_utc']}, amata {m['amata_commit']}{' (tree dirty)' if m['amata_dirty'] else ''}"
      f", {results['seconds'] / 60:.1f} min. Machine: {m['cpu_model']}, {m['nproc']} CPUs "
      f"(nproc), kernel {m['kernel']}, {(m['mem_total_kib'] or 0) // 1024} MiB; load average "
      f"at start {' '.join(m['loadavg_at_start'])}. {m['monit']}. Service: {m['python']} "
      f"`-m http.server`. amatad: `{a['amatad']}`.\n")
    w(f"{a['reps']} repetitions per tool. Each: wait until GET / answers 200, wait "
      f"{a['settle']:g} s (past amata's `grace 2s`, and past Monit's first passed test after "
      "the restart: a hang before that finds Monit's connection test still failed from the "
      "last hang, and one failed cycle restarts instead of two) plus a random 0-1 s (a random "
      "phase of Monit's 1-s cycle), SIGSTOP the service's pid; times from the SIGSTOP. "
      "*Running*: a "
      "new pid in the pidfile, alive. *Answering*: GET / answers 200 and the frozen process is "
      "gone. *Old gone*: the frozen process has exited. Failures: a repetition not answering "
      f"within {a['rep_timeout']:g} s, or one whose frozen process the supervisor left behind "
      "(the harness SIGKILLs it).\n")
    w("### Stop → recovered, ms (median / p95 / max)\n")
    w("| tool | samples | stop → running | stop → answering | stop → old gone | failures |")
    w("|---|---|---|---|---|---|")
    for t in results["tools"]:
        row = [t["tool"], str(len(t["samples"]))]
        for key in ("running", "answering", "old_gone"):
            s = t.get(key, {})
            cell = " / ".join(fmt_ms(s.get(k)) for k in ("median", "p95", "max")) \
                if s.get("n") else "–"
            if s.get("missing"):
                cell += f" ({s['missing']} never)"
            row.append(cell)
        fails = str(t.get("failures", 0))
        if t.get("old_left_stopped"):
            fails += f" ({t['old_left_stopped']} left the frozen process)"
        if t["errors"]:
            fails += " + " + "; ".join(t["errors"])
        row.append(fails)
        w("| " + " | ".join(row) + " |")
    w("")
    if a["reps"] < 20:
        w(f"Only {a['reps']} repetitions: the p95 and max are the largest samples.\n")
    for t in results["tools"]:
        w(f"### {t['tool']}\n")
        w(f"Reproduce (this tool alone, same pauses): `{reproduce_one(a, t['tool'])}`\n")
        w(f"The service (`serve.sh`, started by {t['tool']}):\n")
        w("```sh\n" + t["service"] + "```\n")
        w(f"`{t['config_file']}`:\n")
        w("```\n" + t["config"] + "```\n")
        if t["tool"] == "amata":
            w(f"`restart s {a['amata_restart']}`: amata's defaults (`backoff 100ms .. 30s`, "
              "`limit 10 within 10min`) would delay every restart after the first by a "
              "doubling backoff (the service never runs the 30 s that resets it) and give up "
              "after the tenth; Monit has neither, so they are switched off here. "
              "`--amata-restart ''` runs the plain `restart s`. `for 2 checks` on "
              "`s.health.failed` counts health checks (docs/language.md), whatever the "
              "service's `every` (1 s by default).\n")
        if t["tool"] == "monit":
            w("Monit's stop program (`stop.sh`): SIGTERM, then SIGKILL after 2 s if the process "
              "is still there, as an operator following Monit's manual writes it (Monit itself "
              "only runs the program). A process frozen by SIGSTOP cannot act on SIGTERM, so "
              "the SIGKILL 2 s later ends it: about 2 s of Monit's stop → old gone (and of "
              "everything after it) is that wait. amata sends SIGCONT after its stop signal, "
              "as systemd does, so its SIGTERM ends the process at once.\n")
            w("```sh\n" + t["stop_program"] + "```\n")
            w(f"`with timeout {a['monit_start_timeout']} seconds` on the start program: Monit "
              "pauses the connection test after every start for the start timeout (its log: "
              "\"connection test paused for 29 s while the process is starting\"; 30 s by "
              "default), the counterpart of amata's `grace 2s`. With the default, a service that "
              "hangs within 30 s of its (re)start is found only after those 30 s "
              "(`--monit-start-timeout 30` measures that).\n")
        w("| rep | pause s | stop → running | stop → answering | stop → old gone | error |")
        w("|---|---|---|---|---|---|")
        for s in t["samples"]:
            w(f"| {s['rep'] + 1} | {s['pause_s']:.3f} | {fmt_ms(s['running_ms'])} | "
              f"{fmt_ms(s['answering_ms'])} | {fmt_ms(s['old_gone_ms'])} | {s['error'] or ''} |")
        w("")
    w(f"Whole run: `{reproduce(argparse.Namespace(**a), tools)}`\n")
    return "\n".join(lines) + "\n"


def reproduce_one(a, tool):
    return reproduce(argparse.Namespace(**a), [tool])


# ---------------------------------------------------------------- main


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tools", default=",".join(TOOLS))
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--settle", type=float, default=5,
                   help="seconds between the service answering and the random 0-1 s pause: "
                        "past amata's grace 2s, and past Monit's first passed test after a "
                        "restart (before it, Monit's failed state carries over and one failed "
                        "cycle restarts)")
    p.add_argument("--rep-timeout", type=float, default=60,
                   help="seconds from the stop before a repetition counts as failed")
    p.add_argument("--monit-start-timeout", type=int, default=2,
                   help="Monit's start program timeout, s: also how long Monit pauses its "
                        "connection test after a start (Monit's default 30; amata: grace 2s)")
    p.add_argument("--amata-restart", default=AMATA_RESTART,
                   help="options of amata's `restart s` ('' for the defaults)")
    p.add_argument("--bin-dir", default=os.path.join(repo, "build/dev/bench/compare"),
                   help="where compare_reaper is")
    p.add_argument("--amatad", default=os.path.join(repo, "build/dev/tools/amatad/amatad"))
    p.add_argument("--out", default=os.path.join(repo, "build/hang"))
    p.add_argument("--smoke", action="store_true", help="amata only, 2 reps")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args()
    # A SIGTERM to the harness unwinds like ^C: supervisors and services are stopped by pid.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.smoke:
        args.tools, args.reps = "amata", 2
    # The supervisors run in their own directories: every path handed to them is absolute.
    args.bin_dir, args.amatad = os.path.abspath(args.bin_dir), os.path.abspath(args.amatad)
    args.out = os.path.abspath(args.out)
    tools = args.tools.split(",")
    for t in tools:
        if t not in SUPERVISORS:
            p.error(f"unknown tool {t} (known: {', '.join(TOOLS)})")
    if not os.access(os.path.join(args.bin_dir, "compare_reaper"), os.X_OK):
        p.error(f"compare_reaper not built in {args.bin_dir}")
    if "amata" in tools and not os.access(args.amatad, os.X_OK):
        p.error(f"no amatad at {args.amatad}")
    if "monit" in tools and not os.access("/usr/bin/monit", os.X_OK):
        p.error("no /usr/bin/monit")
    if not os.access(PYTHON, os.X_OK):
        p.error(f"no {PYTHON}")
    os.makedirs(args.out, exist_ok=True)

    m = machine()
    for k in ("supervisord", "stress_ng"):
        m.pop(k, None)
    git = ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"]
    m["amata_dirty"] = bool(subprocess.run(git, capture_output=True, text=True).stdout.strip())
    m["python"] = subprocess.run([PYTHON, "-V"], capture_output=True,
                                 text=True).stdout.strip()
    m["platform"] = platform.platform()
    root = tempfile.mkdtemp(prefix="amata-hang-")
    results = {"machine": m, "args": vars(args), "command": shlex.join(sys.argv),
               "tools": []}
    started = time.monotonic()
    try:
        for tool in tools:
            log(f"{tool}: {args.reps} repetitions, port {PORTS[tool]}, in {root}/{tool}")
            results["tools"].append(run_tool(tool, root, args))
    finally:
        results["seconds"] = time.monotonic() - started
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report(results))
    for t in results["tools"]:
        r, a = t["running"], t["answering"]
        log(f"{t['tool']:5}: stop -> running median {fmt_ms(r.get('median'))} ms p95 "
            f"{fmt_ms(r.get('p95'))} max {fmt_ms(r.get('max'))} | answering median "
            f"{fmt_ms(a.get('median'))} ms p95 {fmt_ms(a.get('p95'))} max "
            f"{fmt_ms(a.get('max'))} | failures {t['failures']}"
            + (f" + {'; '.join(t['errors'])}" if t["errors"] else ""))
    log(f"done in {results['seconds']:.0f} s: {args.out}/results.json, {args.out}/report.md")
    ok = all(not t["errors"] and not t["failures"] and len(t["samples"]) == args.reps
             for t in results["tools"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
