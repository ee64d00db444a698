#!/usr/bin/env python3
"""The paper's experiment, with amata beside Monit and supervisord (docs/benchmarks.md).

Each supervisor keeps N small TCP services alive (compare_tcp_service). compare_meter kills
all N at once with SIGKILL and measures, per service, kill -> new process running and
kill -> accepting TCP connections, for REPS repetitions per cell, under no load, CPU load and
I/O load (stress-ng, one bounded instance per cell). For a supervisor that forks its services
itself the supervisor's part is split where the kernel stamps it (fork, exec) and by the new
process's own wait for a CPU. Each supervisor's own CPU (on-CPU time
of all its threads, /proc/PID/task/*/schedstat) and RSS are recorded idle (10 services) and
while recovering.

Everything runs in a temporary directory with its own configs, sockets, state and pid files;
everything started is stopped by pid at the end. No system service is touched.

    bench/compare/compare.py --out build/bx/compare          # the full run (~15 min)
    bench/compare/compare.py --quick --out /tmp/cmp          # a small run (~2 min)
    bench/compare/compare.py --smoke ...                     # ctest: amata, 1 service, 2 reps
    bench/compare/compare.py --cgroup ...                    # each supervisor as a unit: a cpu cgroup
Results: OUT/results.json (every sample), OUT/report.md (the tables); plots with plot.py.
"""

import argparse
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOOLS = ["amata", "monit-process", "monit-port", "supervisord"]
CONDITIONS = ["none", "cpu", "io"]
# Paper, Table 1 (recovery time, seconds, 1/2/3 services) and Table 2 (% CPU).
PAPER_SECONDS = {
    "none": {1: 3.960, 2: 4.061, 3: 4.794},
    "cpu": {1: 12.782, 2: 19.056, 3: 19.458},
    "io": {1: 6.840, 2: 17.760, 3: 16.249},
}
PAPER_CPU = {"none": "1.5-3", "cpu": "0.5-1", "io": "1.5-2"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc readings


def proc_cpu_seconds(pid):
    """CPU time of one process (all its threads), seconds; None once it is gone.

    From each thread's /proc/PID/task/TID/schedstat (nanoseconds on a CPU), because
    utime+stime in /proc/PID/stat counts in 10 ms ticks: too coarse for an idle daemon.
    Falls back to utime+stime where schedstat is missing."""
    try:
        total = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_wakeups(pid):
    """Times any thread of `pid` went to sleep and was woken (voluntary context switches)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
    except OSError:
        pass
    return total


def alive(pid):
    """True for a running process (a zombie is dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().strip() or 0)
    except (OSError, ValueError):
        return 0


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- the supervisors


def start_under_reaper(bin_dir, directory, command, name):
    """Starts `command` in `directory` under compare_reaper (a subreaper), its output in
    supervisor.out; returns the Popen and the supervisor's own pid."""
    pidout = os.path.join(directory, "supervisor.pid.reaper")
    with open(os.path.join(directory, "supervisor.out"), "w") as out:
        proc = subprocess.Popen([os.path.join(bin_dir, "compare_reaper"), pidout] + command,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=directory, start_new_session=True)
    pid = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not pid:
        pid = read_pid(pidout)
        time.sleep(0.01)
    if not pid:
        raise RuntimeError(f"{name}: supervisor did not start")
    return proc, pid


class Supervisor:
    """One supervisor keeping N services, in its own directory, under compare_reaper."""

    # Seconds between "all accepting" and the next kill, plus a uniform random 0..jitter s:
    # Monit and supervisord wake every second, and a fixed pause would lock the kill to one
    # phase of that cycle (it did: every Monit sample came out at 914 ms). amata has no such
    # cycle on its path (pidfd), so its pause is shorter.
    settle = 0.2
    jitter = 1.0
    # The supervisor forks each service itself: the meter takes the kernel's fork and exec
    # stamps of its children (Monit's services daemonize, forked by their start program).
    forks_services = True

    def __init__(self, name, n, port_base, root, args):
        self.name, self.n, self.args = name, n, args
        self.dir = os.path.join(root, f"{name}-{n}")
        os.makedirs(os.path.join(self.dir, "pids"), exist_ok=True)
        self.services = [
            (f"s{i}", port_base + i, os.path.join(self.dir, "pids", f"s{i}.pid")) for i in range(n)
        ]
        self.service_bin = os.path.join(args.bin_dir, "compare_tcp_service")
        burn = getattr(args, "burn_ms", 0)
        self.burn = f" --burn {burn}" if burn else ""  # after the port and pidfile
        self.proc = None
        self.pid = 0
        self.list_file = os.path.join(self.dir, "services.txt")
        with open(self.list_file, "w") as f:
            for name_, port, pidfile in self.services:
                f.write(f"{name_} {port} {pidfile}\n")

    def command(self):
        raise NotImplementedError

    def start(self):
        self.proc, self.pid = start_under_reaper(self.args.bin_dir, self.dir, self.command(),
                                                 self.name)

    def ready(self):
        for _, port, pidfile in self.services:
            pid = read_pid(pidfile)
            if not pid or not alive(pid) or not accepts(port):
                return False
        return True

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: supervisor exited ({self.proc.returncode}); "
                                   f"see {self.dir}/supervisor.out")
            if self.ready():
                return True
            time.sleep(0.02)
        return False

    def stop(self):
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
        for _, _, pidfile in self.services:
            pid = read_pid(pidfile)
            if pid and alive(pid):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        ours = f.read().split(b"\0")[0].endswith(b"compare_tcp_service")
                    if ours:
                        os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Amata(Supervisor):
    jitter = 0.2

    def command(self):
        policy = os.path.join(self.dir, "bench.amata")
        with open(policy, "w") as f:
            f.write("policy compare\n\n")
            for name, port, pidfile in self.services:
                burn = f' "--burn" "{self.args.burn_ms}"' if self.burn else ""
                health = (f'  health tcp "127.0.0.1:{port}" every 1s timeout 1s\n'
                          if getattr(self.args, "health", False) else "")
                f.write(f'service {name} {{\n  start "{self.service_bin}" "{port}" "{pidfile}"{burn}\n'
                        f"  stop KILL\n{health}}}\n")
            # The paper's rule pair: a dead service raises an event; its recovery restarts it,
            # at once every time, as Monit and supervisord do here: the default backoff
            # (100 ms, doubling while a service has not run 30 s) and limit (10 within
            # 10 min) would delay every repetition after the first and give up at the 11th.
            f.write("\ndiscover down(s: service) when not s.alive raise ServiceDown(s)\n"
                    "recover ServiceDown(s) { restart s backoff none limit none }\n")
        return [self.args.amatad, policy, "--state-dir", os.path.join(self.dir, "state"),
                "--socket", os.path.join(self.dir, "amatad.sock"), "--log-level", "warn"] + \
            list(getattr(self.args, "amatad_args", []) or [])


class Monit(Supervisor):
    check = "process"
    forks_services = False

    def command(self):
        rc = os.path.join(self.dir, "monitrc")
        with open(rc, "w") as f:
            d = self.dir
            # `set daemon 1`: Monit's shortest cycle.
            f.write(f"set daemon 1\nset logfile {d}/monit.log\nset idfile {d}/monit.id\n"
                    f"set statefile {d}/monit.state\nset pidfile {d}/monit.pid\n\n")
            for name, port, pidfile in self.services:
                # Monit waits for its start program to exit: the service detaches.
                start = f'start program = "{self.service_bin} {port} {pidfile} --daemon{self.burn}"'
                if self.check == "process":
                    f.write(f"check process {name} with pidfile {pidfile}\n  {start}\n")
                else:
                    stop = f"stop program = \"/bin/sh -c 'kill -9 `cat {pidfile}` || true'\""
                    f.write(f"check host {name} with address 127.0.0.1\n  {start}\n  {stop}\n"
                            f"  if failed port {port} type tcp then restart\n")
        os.chmod(rc, 0o600)
        return ["/usr/bin/monit", "-I", "-c", rc]


class MonitPort(Monit):
    check = "port"


class Supervisord(Supervisor):
    # Defaults: startsecs=1, so a process killed within 1 s of its start counts as a failed
    # start (BACKOFF). Wait that out between repetitions.
    settle = 1.05

    def command(self):
        conf = os.path.join(self.dir, "supervisord.conf")
        d = self.dir
        with open(conf, "w") as f:
            f.write(f"[supervisord]\nnodaemon=true\nlogfile={d}/supervisord.log\n"
                    f"pidfile={d}/supervisord.pid\nchildlogdir={d}\n\n"
                    f"[unix_http_server]\nfile={d}/supervisor.sock\n\n"
                    "[rpcinterface:supervisor]\n"
                    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n")
            for name, port, pidfile in self.services:
                f.write(f"[program:{name}]\ncommand={self.service_bin} {port} {pidfile}{self.burn}\n\n")
        return ["/usr/bin/supervisord", "-n", "-c", conf]


class ConsoleConnection:
    """A connection to amatad's console socket (docs/console.md), opened at the first request
    and kept open; after an error the next request opens a new one."""

    def __init__(self, path, timeout=10.0):
        self.path, self.timeout = path, timeout
        self.sock, self.file, self.next_id = None, None, 0

    def request(self, cmd):
        """Sends `cmd`; (its result or None when refused or failed, ms until the reply)."""
        try:
            if self.sock is None:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(self.timeout)
                self.sock.connect(self.path)
                self.file = self.sock.makefile("rb")
            self.next_id += 1
            t0 = time.monotonic()
            self.sock.sendall(json.dumps({"id": self.next_id, "protocol": 1, "cmd": cmd}).encode()
                              + b"\n")
            reply = json.loads(self.file.readline())
            ms = (time.monotonic() - t0) * 1000.0
            ok = reply.get("ok") is True and reply.get("id") == self.next_id
            return (reply.get("result") if ok else None), ms
        except (OSError, ValueError):
            self.close()
            return None, None

    def close(self):
        for f in (self.file, self.sock):
            if f is not None:
                f.close()
        self.sock, self.file = None, None


CPU_CGROUPS = "/sys/fs/cgroup/cpu"  # cgroup v1's cpu controller (v2: /sys/fs/cgroup)


def in_cgroup(cls):
    """`cls` run as systemd runs a unit: the supervisor and all it starts in a cpu cgroup of
    their own. Outside the root cgroup the kernel's autogroup (a scheduling group per session)
    does not apply, so a supervisor's nice value counts against the services it starts, which
    each lead a session of their own."""

    class InCgroup(cls):
        def command(self):
            self.cgroup = os.path.join(self.args.cgroup_root, f"{self.name}-{os.getpid()}")
            os.makedirs(self.cgroup, exist_ok=True)
            return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"',
                    self.cgroup] + super().command()

        def stop(self):
            super().stop()
            try:
                os.rmdir(self.cgroup)
            except OSError:
                pass

    return InCgroup


SUPERVISORS = {"amata": Amata, "monit-process": Monit, "monit-port": MonitPort,
               "supervisord": Supervisord}
PORT_BASE = {"amata": 21000, "monit-process": 22000, "monit-port": 23000, "supervisord": 24000}


# ---------------------------------------------------------------- load


class Load:
    """stress-ng for one cell: bounded by --timeout, stopped by pid (and its group) after."""

    def __init__(self, condition, root, timeout):
        self.proc = None
        if condition == "none":
            return
        ncpu = os.cpu_count() or 1
        if condition == "cpu":
            cmd = ["stress-ng", "--cpu", str(2 * ncpu)]
        else:
            tmp = os.path.join(root, "io-load")
            os.makedirs(tmp, exist_ok=True)
            cmd = ["stress-ng", "--hdd", str(ncpu), "--hdd-bytes", "256M", "--iomix", "1",
                   "--temp-path", tmp]
        cmd += ["--timeout", f"{int(timeout)}s", "--quiet"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        time.sleep(1.0)  # let the workers start

    def present(self):
        return self.proc is None or self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:  # its workers are in its own session; none may outlive the cell
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.wait()


# ---------------------------------------------------------------- statistics


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def summarize(values):
    v = sorted(x for x in values if x is not None)
    s = {"n": len(v), "missing": sum(1 for x in values if x is None)}
    if v:
        s.update(median=percentile(v, 50), p95=percentile(v, 95), max=v[-1])
        s["p99"] = percentile(v, 99) if len(v) >= 100 else None
    return s


# ---------------------------------------------------------------- the run


def run_cell(tool, condition, n, reps, root, args, rng):
    cls = in_cgroup(SUPERVISORS[tool]) if args.cgroup_root else SUPERVISORS[tool]
    sup = cls(tool, n, PORT_BASE[tool], os.path.join(root, condition), args)
    cell = {"tool": tool, "condition": condition, "n": n, "reps": [], "errors": []}
    load = None
    try:
        sup.start()
        if not sup.wait_ready(60):
            cell["errors"].append("services never all came up")
            return cell
        time.sleep(max(sup.settle, 1.0))
        load = Load(condition, root, args.stress_timeout)
        cpu0, t0 = proc_cpu_seconds(sup.pid), time.monotonic()
        rss_max = proc_rss_kib(sup.pid) or 0
        for rep in range(reps):
            if not load.present():
                cell["errors"].append(f"load ended early at rep {rep}")
                break
            supervisor = ["--supervisor", str(sup.pid)] if sup.forks_services else []
            r = subprocess.run([os.path.join(args.bin_dir, "compare_meter"), "--timeout",
                                str(args.rep_timeout)] + supervisor + [sup.list_file],
                               capture_output=True, text=True)
            if r.returncode not in (0, 3) or not r.stdout.strip():
                cell["errors"].append(f"rep {rep}: meter rc {r.returncode}: {r.stderr.strip()}")
                if not sup.wait_ready(60):
                    break
                continue
            services = json.loads(r.stdout)["services"]
            cell["reps"].append([[s["running_ms"], s["accepting_ms"], s["dead_ms"],
                                  s["listening_ms"], s.get("forked_ms"), s.get("exec_ms"),
                                  s.get("start_cpu_ms"), s.get("start_run_delay_ms")]
                                 for s in services])
            rss_max = max(rss_max, proc_rss_kib(sup.pid) or 0)
            if not sup.wait_ready(60):
                cell["errors"].append(f"rep {rep}: services not back within 60 s")
                break
            time.sleep(sup.settle + rng.uniform(0, sup.jitter * args.jitter))
        cpu1, t1 = proc_cpu_seconds(sup.pid), time.monotonic()
        if cpu0 is not None and cpu1 is not None:
            cell["cpu_recovering_pct"] = 100.0 * (cpu1 - cpu0) / (t1 - t0)
        cell["rss_max_kib"] = rss_max
        cell["seconds"] = t1 - t0
    finally:
        if load:
            load.stop()
        sup.stop()
    running = [x[0] for rep in cell["reps"] for x in rep]
    accepting = [x[1] for rep in cell["reps"] for x in rep]
    cell["running"] = summarize(running)
    cell["accepting"] = summarize(accepting)
    cell["dead"] = summarize([x[2] for rep in cell["reps"] for x in rep])
    # The supervisor's own part: from the old process's death to the new one running.
    cell["own"] = summarize([x[0] - x[2] if x[0] is not None and x[2] is not None else None
                             for rep in cell["reps"] for x in rep])
    # The supervisor's own part split where the kernel stamps it: dead -> forked (the
    # supervisor reacting), forked -> exec (the child's exec), exec -> running (the new program
    # loading up to its main()); and of the new process's fork -> main(), how long it waited
    # on a run queue for a CPU (its own schedstat).
    samples = [x for rep in cell["reps"] for x in rep]

    def span(a, b):
        return summarize([x[b] - x[a] if len(x) > b and x[a] is not None and x[b] is not None
                          else None for x in samples])
    cell["reaction"], cell["exec"], cell["loading"] = span(2, 4), span(4, 5), span(5, 0)
    cell["start_run_delay"] = summarize([x[7] if len(x) > 7 else None for x in samples])
    return cell


def run_idle(tools, root, args):
    """Each supervisor with 10 services, all side by side, untouched for a window."""
    sups = [SUPERVISORS[t](t, 10, PORT_BASE[t] + 500, os.path.join(root, "idle"), args)
            for t in tools]
    idle = {}
    try:
        for s in sups:
            s.start()
        for s in sups:
            if not s.wait_ready(60):
                raise RuntimeError(f"{s.name}: services never all came up (idle)")
        time.sleep(3)  # start-up work is not idle work
        before = {s.name: proc_cpu_seconds(s.pid) for s in sups}
        wakes_before = {s.name: proc_wakeups(s.pid) for s in sups}
        t0 = time.monotonic()
        time.sleep(args.idle_seconds)
        t1 = time.monotonic()
        for s in sups:
            cpu = proc_cpu_seconds(s.pid)
            idle[s.name] = {"cpu_pct": 100.0 * (cpu - before[s.name]) / (t1 - t0),
                            "cpu_seconds": cpu - before[s.name], "window_s": t1 - t0,
                            "rss_kib": proc_rss_kib(s.pid),
                            "wakeups_per_s": (proc_wakeups(s.pid) - wakes_before[s.name]) / (t1 - t0)}
    finally:
        for s in sups:
            s.stop()
    return idle


def machine():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    lscpu = {}
    for line in out(["lscpu"]).splitlines():
        k, _, v = line.partition(":")
        lscpu[k.strip()] = v.strip()
    mem = out(["sh", "-c", "grep MemTotal /proc/meminfo"]).split()
    here = os.path.dirname(os.path.abspath(__file__))
    return {
        "cpu_model": lscpu.get("Model name", ""), "cpus": lscpu.get("CPU(s)", ""),
        "nproc": os.cpu_count(), "kernel": platform.release(),
        "mem_total_kib": int(mem[1]) if len(mem) > 1 else None,
        "monit": out(["monit", "-V"]).splitlines()[0] if out(["monit", "-V"]) else "",
        "supervisord": out(["supervisord", "-v"]), "stress_ng": out(["stress-ng", "-V"]),
        "amata_commit": out(["git", "-C", here, "rev-parse", "--short", "HEAD"]),
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tools", default=",".join(TOOLS))
    p.add_argument("--ns", default="1,2,3,10,100", help="numbers of services per cell")
    p.add_argument("--conditions", default=",".join(CONDITIONS))
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--reps-100", type=int, default=None,
                   help="repetitions when N >= 100 (each already gives N samples)")
    p.add_argument("--idle-seconds", type=float, default=30)
    p.add_argument("--jitter", type=float, default=1.0,
                   help="scale of the random pause before each kill (1: up to 1 s for Monit "
                        "and supervisord, 0.2 s for amata)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--rep-timeout", type=float, default=30)
    p.add_argument("--stress-timeout", type=float, default=600)
    p.add_argument("--bin-dir", default=os.path.join(repo, "build/bx/bench/compare"))
    p.add_argument("--amatad", default=os.path.join(repo, "build/bx/tools/amatad/amatad"))
    p.add_argument("--amatad-arg", dest="amatad_args", action="append", default=[],
                   help="one more argument for amatad (repeatable), e.g. --amatad-arg=--priority-boost=0")
    p.add_argument("--idle-only", action="store_true", help="the idle window, no kills")
    p.add_argument("--health", action="store_true",
                   help="amata checks every service over TCP each second, as monit-port does")
    p.add_argument("--burn-ms", type=int, default=0,
                   help="CPU each service spends starting (compare_tcp_service --burn)")
    p.add_argument("--out", default=os.path.join(repo, "build/bx/compare"))
    p.add_argument("--quick", action="store_true", help="N=1,3,10, 5 reps, 5 s idle")
    p.add_argument("--smoke", action="store_true", help="amata, N=1, 2 reps, no load")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--cgroup", action="store_true",
                   help="each supervisor in a cpu cgroup of its own, as systemd runs a unit "
                        "(default: in this session's scheduling group, autogroup)")
    args = p.parse_args()
    args.cgroup_root = None
    if args.cgroup:
        if not os.access(CPU_CGROUPS, os.W_OK):
            p.error(f"--cgroup: {CPU_CGROUPS} is not writable")
        args.cgroup_root = CPU_CGROUPS
    if args.quick:
        args.ns, args.reps, args.idle_seconds = "1,3,10", 5, 5
    if args.smoke:
        args.tools, args.ns, args.conditions, args.reps, args.idle_seconds = \
            "amata", "1", "none", 2, 1
    # The supervisors run in their own directories: every path handed to them is absolute.
    args.bin_dir, args.amatad = os.path.abspath(args.bin_dir), os.path.abspath(args.amatad)
    tools = args.tools.split(",")
    ns = [int(x) for x in args.ns.split(",")]
    conditions = args.conditions.split(",")
    for t in tools:
        if t not in SUPERVISORS:
            p.error(f"unknown tool {t}")
    for c in conditions:
        if c not in CONDITIONS:
            p.error(f"unknown condition {c}")
    for b in ["compare_tcp_service", "compare_meter", "compare_reaper"]:
        if not os.access(os.path.join(args.bin_dir, b), os.X_OK):
            p.error(f"{b} not built in {args.bin_dir}")
    os.makedirs(args.out, exist_ok=True)

    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="amata-compare-")
    results = {"machine": machine(), "args": vars(args), "cells": [], "idle": {}}
    started = time.monotonic()
    ok = True
    try:
        log(f"idle: {', '.join(tools)} with 10 services each, {args.idle_seconds:g} s")
        results["idle"] = run_idle(tools, root, args)
        for condition in ([] if args.idle_only else conditions):
            for tool in tools:
                for n in ns:
                    reps = args.reps_100 if (args.reps_100 and n >= 100) else args.reps
                    cell = run_cell(tool, condition, n, reps, root, args, rng)
                    results["cells"].append(cell)
                    r, a = cell["running"], cell["accepting"]
                    log(f"{condition:4} {tool:13} N={n:3}: running median "
                        f"{r.get('median', float('nan')):8.2f} ms p95 {r.get('p95', float('nan')):8.2f}"
                        f" max {r.get('max', float('nan')):8.2f} | accepting median "
                        f"{a.get('median', float('nan')):8.2f} ms | cpu "
                        f"{cell.get('cpu_recovering_pct', float('nan')):.2f}% "
                        f"{'ERR ' + '; '.join(cell['errors']) if cell['errors'] else ''}")
                    if cell["errors"] or r.get("missing"):
                        ok = False
    finally:
        results["seconds"] = time.monotonic() - started
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(report(results))
    log(f"done in {results['seconds']:.0f} s: {args.out}/results.json, {args.out}/report.md")
    if args.smoke:
        cell = results["cells"][0]
        ok = ok and cell["running"]["n"] == 2 and cell["accepting"]["n"] == 2
    return 0 if ok else 1


# ---------------------------------------------------------------- the report


def fmt_ms(x):
    if x is None:
        return "–"
    if x < 1:
        return f"{x:.2f}"
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def report(results):
    cells = {(c["tool"], c["condition"], c["n"]): c for c in results["cells"]}
    tools = [t for t in TOOLS if any(k[0] == t for k in cells) or t in results["idle"]]
    conditions = [c for c in CONDITIONS if any(k[1] == c for k in cells)]
    ns = sorted({k[2] for k in cells})
    m = results["machine"]
    lines = []
    w = lines.append
    w(f"Run {m['date_utc']}, amata {m['amata_commit']}, {results['seconds'] / 60:.1f} min. "
      f"Machine: {m['cpu_model']}, {m['nproc']} CPUs (nproc), kernel {m['kernel']}, "
      f"{(m['mem_total_kib'] or 0) // 1024} MiB; load average at start "
      f"{' '.join(m['loadavg_at_start'])}. {m['monit']}; supervisord {m['supervisord']}; "
      f"{m['stress_ng']}.\n")
    a = results["args"]
    w(f"{a['reps']} repetitions per cell, every service of the cell killed at once each time "
      f"(so a cell holds reps × N samples).\n")

    w("### Recovery time, the paper's Table 1 beside the same run's figures\n")
    w("Kill → accepting TCP connections again, median per service, ms (the paper measured "
      "\"until the service has been fully recovered\", in seconds). Ratio: the tool's median "
      "over amata's.\n")
    head = "| N | condition | paper | " + " | ".join(tools) + " | " + " | ".join(
        f"{t} / amata" for t in tools if t != "amata") + " |"
    w(head)
    w("|" + "---|" * (head.count("|") - 1))
    for n in [x for x in ns if x <= 3]:
        for c in conditions:
            paper = PAPER_SECONDS.get(c, {}).get(n)
            row = [str(n), c, f"{paper * 1000:.0f}" if paper else "–"]
            meds = {t: cells.get((t, c, n), {}).get("accepting", {}).get("median") for t in tools}
            row += [fmt_ms(meds[t]) for t in tools]
            base = meds.get("amata")
            for t in tools:
                if t == "amata":
                    continue
                row.append(f"{meds[t] / base:.0f}×" if meds[t] and base else "–")
            if base and paper:
                row[2] += f" ({paper * 1000 / base:.0f}× amata)"
            w("| " + " | ".join(row) + " |")
    w("")

    for what, title in [("running", "kill → new process running"),
                        ("accepting", "kill → accepting TCP connections")]:
        w(f"### {title}, ms (median / p95 / p99 / max; p99 only with ≥ 100 samples)\n")
        head = "| tool | N | " + " | ".join(conditions) + " |"
        w(head)
        w("|" + "---|" * (head.count("|") - 1))
        for t in tools:
            for n in ns:
                row = [t, str(n)]
                for c in conditions:
                    s = cells.get((t, c, n), {}).get(what, {})
                    if not s.get("n"):
                        row.append("–")
                        continue
                    cellstr = " / ".join(fmt_ms(s.get(k)) for k in ["median", "p95", "p99", "max"])
                    if s.get("missing"):
                        cellstr += f" ({s['missing']} never)"
                    row.append(cellstr)
                w("| " + " | ".join(row) + " |")
        w("")

    w("### Where the time goes: kill → old process dead (the kernel), dead → new process "
      "running (the supervisor), ms\n")
    w("Median of the kernel's part / median / p99 / max of the supervisor's part.\n")
    head = "| tool | N | " + " | ".join(conditions) + " |"
    w(head)
    w("|" + "---|" * (head.count("|") - 1))
    for t in tools:
        for n in ns:
            row = [t, str(n)]
            for c in conditions:
                cell = cells.get((t, c, n), {})
                d, o = cell.get("dead", {}), cell.get("own", {})
                if not o.get("n"):
                    row.append("–")
                    continue
                row.append(f"{fmt_ms(d.get('median'))} / " +
                           " / ".join(fmt_ms(o.get(k)) for k in ["median", "p99", "max"]))
            w("| " + " | ".join(row) + " |")
    w("")

    if any(cells.get((t, c, n), {}).get("reaction", {}).get("n")
           for t in tools for c in conditions for n in ns):
        w("### The supervisor's part, split where the kernel stamps it, ms\n")
        w("Median / p99 (max where fewer than 100 samples) of: dead → forked (the supervisor "
          "reacting), forked → exec (the child's exec), exec → running (the new program loading "
          "up to its `main()`), and of the new process's fork → `main()` the time it waited on a "
          "run queue for a CPU. Supervisors that fork their services themselves.\n")
        head = ("| tool | N | condition | dead → forked | forked → exec | exec → running "
                "| waiting for a CPU |")
        w(head)
        w("|" + "---|" * (head.count("|") - 1))

        def med_tail(x):
            tail = x.get("p99") if x.get("p99") is not None else x.get("max")
            return f"{fmt_ms(x.get('median'))} / {fmt_ms(tail)}" if x.get("n") else "–"
        for t in tools:
            for n in ns:
                for c in conditions:
                    cell = cells.get((t, c, n), {})
                    if not cell.get("reaction", {}).get("n"):
                        continue
                    w(f"| {t} | {n} | {c} | " + " | ".join(
                        med_tail(cell[k]) for k in ["reaction", "exec", "loading",
                                                    "start_run_delay"]) + " |")
        w("")

    w("### Supervisor CPU (% of one core) and RSS, the paper's Table 2 beside\n")
    w("Idle: 10 services, nothing killed, all four supervisors side by side for "
      f"{a['idle_seconds']:g} s"
      f"{' (amata health-checks each over TCP every second, as monit-port does)' if a.get('health') else ''}"
      ". Wake-ups: voluntary context switches of all threads. Recovering: on-CPU time over a cell's repetitions (kill all, "
      "wait for all to accept, pause) divided by their wall time, N = 3 and N = 100.\n")
    head = "| tool | idle CPU % | idle wake-ups/s | idle RSS MiB | " + " | ".join(
        f"recovering {c} N=3 / N=100" for c in conditions) + " | max RSS MiB |"
    w(head)
    w("|" + "---|" * (head.count("|") - 1))
    w("| paper (AMATA 2002) | – | – | – | " + " | ".join(PAPER_CPU.get(c, "–") for c in conditions)
      + " | – |")
    for t in tools:
        idle = results["idle"].get(t, {})
        row = [t, f"{idle['cpu_pct']:.3f}" if "cpu_pct" in idle else "–",
               f"{idle['wakeups_per_s']:.1f}" if "wakeups_per_s" in idle else "–",
               f"{idle['rss_kib'] / 1024:.1f}" if idle.get("rss_kib") else "–"]
        rss = 0
        for c in conditions:
            vals = []
            for n in (3, 100):
                cell = cells.get((t, c, n), {})
                vals.append(f"{cell['cpu_recovering_pct']:.2f}" if "cpu_recovering_pct" in cell
                            else "–")
            row.append(" / ".join(vals))
        for k, cell in cells.items():
            if k[0] == t:
                rss = max(rss, cell.get("rss_max_kib", 0))
        row.append(f"{rss / 1024:.1f}" if rss else "–")
        w("| " + " | ".join(row) + " |")
    w("")
    if "amata" in tools:
        w("### amata's goals\n")
        w("p99 of kill → running over all samples of the cells named (max where fewer than 100).\n")
        w("| goal | measured | met |")
        w("|---|---|---|")

        def p99(cond_list, n_list):
            v = sorted(x[0] for c in cond_list for n in n_list
                       for rep in cells.get(("amata", c, n), {}).get("reps", []) for x in rep
                       if x[0] is not None)
            if not v:
                return None, 0
            return (percentile(v, 99) if len(v) >= 100 else v[-1]), len(v)

        goals = [("1-3 services, no load: p99 ≤ 20 ms", ["none"], [1, 2, 3], 20),
                 ("1-3 services, CPU or I/O load: p99 ≤ 50 ms",
                  [c for c in conditions if c != "none"], [1, 2, 3], 50),
                 ("100 services, every condition: p99 ≤ 1 s", conditions, [100], 1000)]
        for label, conds, nlist, limit in goals:
            value, count = p99(conds, nlist)
            if value is None:
                continue
            w(f"| {label} | {fmt_ms(value)} ms ({count} samples) | "
              f"{'yes' if value <= limit else '**no**'} |")
        idle = results["idle"].get("amata")
        if idle:
            w(f"| idle CPU ≤ 0.1 % of a core (10 services) | {idle['cpu_pct']:.3f} % "
              f"({idle['cpu_seconds'] * 1000:.0f} ms in {idle['window_s']:.0f} s) | "
              f"{'yes' if idle['cpu_pct'] <= 0.1 else '**no**'} |")
        w("")
    errs = [(k, c["errors"]) for k, c in cells.items() if c["errors"]]
    if errs:
        w("Errors: " + "; ".join(f"{k}: {', '.join(e)}" for k, e in errs) + "\n")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
