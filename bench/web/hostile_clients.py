#!/usr/bin/python3
"""amatad's event loop and its web view under hostile HTTP clients.

Starts a real amatad (temporary directory: policy, --state-dir, --socket, --hooks) with three
supervised `/bin/sleep` services, `--metrics-listen 127.0.0.1:0 --web`, and runs phases of
hostile load on the HTTP port, alternating with baselines (no HTTP load):

  idle      N TCP connections that send nothing (re-opened when the server closes them)
  slowloris N connections that send a partial request, one header byte per interval
  huge      requests with a 1 MB header line, 1 MB of 8000-byte header lines and 10,000
            header lines, in a loop (one process each)
  sse       M clients on /events/stream: those answered 200 hold the stream; the others
            (503) retry after a second
  unknown   unknown paths in a tight loop (a few processes, keep-alive)
  burn      a control without HTTP: three processes spinning on the CPU, as many as the
            huge-header clients (to tell CPU contention from the HTTP work)

During every phase, the same probes:
  console   a `status` request on the console socket (JSON line), every 250 ms
  restart   SIGKILL one of amatad's `sleep` children every 2 s; time until a new child
            appears (/proc/AMATAD/task/*/children, polled every 2 ms)
  http      GET /metrics and GET / on a fresh connection, each once a second (5 s timeout)
  process   amatad's CPU (/proc/PID/stat), RSS and thread count, every second

After each phase the load stops and the script waits until GET /metrics answers again
(the recovery time is reported). Everything it starts it stops by pid; the temporary
directory goes with it. Traffic goes to 127.0.0.1 only.

  /usr/bin/python3 bench/web/hostile_clients.py --amatad /work/bin-web/amatad \
      --phase-seconds 20 --rounds 2 --out /tmp/hostile.json
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

POLICY = """\
policy hostile

service a { start "/bin/sleep" "100000" }
service b { start "/bin/sleep" "100000" }
service c { start "/bin/sleep" "100000" }

discover down(s: service) when not s.alive raise ServiceDown(s)
recover ServiceDown(s) { restart s backoff none limit none }
"""

HOST = "127.0.0.1"
CLK = os.sysconf("SC_CLK_TCK")
PROBE_TIMEOUT = 5.0  # seconds: a probe not answered by then is a failure
PAGE = os.sysconf("SC_PAGE_SIZE")


# ---------------------------------------------------------------- amatad

class Amatad:
    def __init__(self, binary, extra):
        self.dir = tempfile.mkdtemp(prefix="amata-hostile-")
        self.socket = os.path.join(self.dir, "amatad.sock")
        policy = os.path.join(self.dir, "policy.amata")
        with open(policy, "w") as f:
            f.write(POLICY)
        os.mkdir(os.path.join(self.dir, "hooks"))
        self.log_path = os.path.join(self.dir, "amatad.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, policy, "--state-dir", os.path.join(self.dir, "state"),
             "--socket", self.socket, "--hooks", os.path.join(self.dir, "hooks"),
             "--metrics-listen", f"{HOST}:0", "--web", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("amatad exited: " + self.read_log())
            m = re.search(r"web view on http://127\.0\.0\.1:(\d+)/", self.read_log())
            if m and os.path.exists(self.socket) and len(self.services()) == 3:
                self.port = int(m.group(1))
                break
            if time.monotonic() > deadline:
                raise RuntimeError("amatad did not start: " + self.read_log())
            time.sleep(0.1)

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def children(self):
        pids = set()
        try:
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                try:
                    with open(f"/proc/{self.pid}/task/{tid}/children") as f:
                        pids.update(int(p) for p in f.read().split())
                except OSError:
                    pass
        except OSError:
            pass
        return pids

    def services(self):
        """amatad's children that are /bin/sleep: the only processes this script kills."""
        out = set()
        for pid in self.children():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if comm == "sleep" and ppid == self.pid:
                out.add(pid)
        return out

    def console(self, cmd, timeout=10):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket)
            s.sendall((json.dumps({"id": 1, "cmd": cmd, "args": {}}) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        if not reply.get("ok"):
            raise RuntimeError(f"{cmd}: {reply}")
        return reply["result"]

    def proc_sample(self):
        with open(f"/proc/{self.pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK  # utime + stime, seconds
        threads = int(fields[17])
        rss = int(fields[21]) * PAGE
        return cpu, rss, threads

    def thread_nice(self):
        """{thread name: [nice values]} of amatad's threads."""
        out = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            nice = int(stat[stat.rindex(")") + 2:].split()[16])
            out.setdefault(comm, []).append(nice)
        return out

    def close(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # amatad stops the services it started
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- loads (child processes)

def _connect_nb(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((HOST, port))
    return s


def load_idle(port, n, stop, out):
    """n connections that never send; one closed by the server is opened again."""
    sel = selectors.DefaultSelector()
    stats = {"opened": 0, "closed_by_server": 0, "established_max": 0, "errors": 0}
    socks = set()

    def open_one():
        try:
            s = _connect_nb(port)
        except OSError:
            stats["errors"] += 1
            return
        socks.add(s)
        sel.register(s, selectors.EVENT_READ)
        stats["opened"] += 1

    for _ in range(n):
        open_one()
    last_count = 0
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                socks.discard(s)
                s.close()
                stats["closed_by_server"] += 1
                open_one()
        if time.monotonic() - last_count > 2:
            last_count = time.monotonic()
            stats["established_max"] = max(stats["established_max"], _established(port))
    for s in socks:
        s.close()
    out.put(("idle", stats))


def _established(port):
    """Client-side ESTABLISHED connections to the port (from /proc/net/tcp)."""
    hexport = f"{port:04X}"
    count = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[2].endswith(":" + hexport) and parts[3] == "01":
                count += 1
    return count


def load_slowloris(port, n, interval, stop, out):
    """n connections sending 'GET / HTTP/1.1\\r\\n' then one header byte per interval."""
    stats = {"opened": 0, "closed_by_server": 0, "bytes": 0, "answered": 0}
    socks = {}  # sock -> started

    def open_one():
        try:
            s = _connect_nb(port)
        except OSError:
            return
        socks[s] = False
        stats["opened"] += 1

    for _ in range(n):
        open_one()
    while not stop.is_set():
        t0 = time.monotonic()
        for s in list(socks):
            try:
                if not socks[s]:
                    s.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
                    socks[s] = True
                else:
                    s.send(b"a")
                stats["bytes"] += 1
                try:
                    if s.recv(4096, socket.MSG_DONTWAIT) == b"":
                        raise ConnectionResetError
                    stats["answered"] += 1
                    raise ConnectionResetError
                except BlockingIOError:
                    pass
            except (BlockingIOError, InterruptedError):
                pass  # not connected yet
            except OSError:
                del socks[s]
                s.close()
                stats["closed_by_server"] += 1
                open_one()
        stop.wait(max(0.0, interval - (time.monotonic() - t0)))
    for s in socks:
        s.close()
    out.put(("slowloris", stats))


def _raw_request(port, payload, timeout=5):
    """Send payload on a fresh connection, return the status line's code or an error word."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        try:
            s.sendall(payload)
        except OSError as e:
            reply = b""
            try:
                reply = s.recv(4096)
            except OSError:
                pass
            if reply.startswith(b"HTTP/"):
                return reply.split()[1].decode()
            return "send:" + type(e).__name__
        try:
            reply = s.recv(4096)
        except socket.timeout:
            return "timeout"
        except OSError as e:
            return "recv:" + type(e).__name__
        if reply.startswith(b"HTTP/"):
            return reply.split()[1].decode()
        return "closed" if not reply else "other"


def load_huge(port, kind, stop, out):
    head = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if kind == "1MB-line":
        payload = head + b"X-big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    elif kind == "1MB-lines":
        line = b"X-h: " + b"a" * 7990 + b"\r\n"
        payload = head + line * ((1 << 20) // len(line)) + b"\r\n"
    else:  # 10k lines
        payload = head + b"".join(b"X-h%d: v\r\n" % i for i in range(10000)) + b"\r\n"
    stats = {"requests": 0, "results": {}}
    while not stop.is_set():
        try:
            r = _raw_request(port, payload)
        except OSError as e:
            r = "connect:" + type(e).__name__
        stats["requests"] += 1
        stats["results"][r] = stats["results"].get(r, 0) + 1
    out.put(("huge-" + kind, stats))


def load_sse(port, n, stop, out):
    """n clients on /events/stream; 200s held open and read; 503s retry after 1 s."""
    stats = {"200": 0, "503": 0, "other": 0, "held_max": 0, "stream_bytes": 0}
    sel = selectors.DefaultSelector()
    state = {}  # sock -> ("wait"|"stream", buffer)
    retry = []  # (when, count)

    def open_one():
        try:
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(b"GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Accept: text/event-stream\r\n\r\n")
            s.setblocking(False)
        except OSError:
            stats["other"] += 1
            retry.append(time.monotonic() + 1)
            return
        state[s] = ["wait", b""]
        sel.register(s, selectors.EVENT_READ)

    for _ in range(n):
        open_one()
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            st = state[s]
            if st[0] == "wait":
                st[1] += data
                if b"\r\n" in st[1] or not data:
                    code = st[1].split(b" ")[1].decode() if st[1].startswith(b"HTTP/") else ""
                    if code == "200":
                        stats["200"] += 1
                        st[0] = "stream"
                    else:
                        stats["503" if code == "503" else "other"] += 1
                        sel.unregister(s)
                        del state[s]
                        s.close()
                        retry.append(time.monotonic() + 1)
                        continue
            if st[0] == "stream":
                stats["stream_bytes"] += len(data)
                if not data:
                    sel.unregister(s)
                    del state[s]
                    s.close()
                    retry.append(time.monotonic() + 1)
        stats["held_max"] = max(stats["held_max"],
                                sum(1 for v in state.values() if v[0] == "stream"))
        now = time.monotonic()
        due = [t for t in retry if t <= now]
        retry[:] = [t for t in retry if t > now]
        for _ in due:
            open_one()
    for s in state:
        s.close()
    out.put(("sse", stats))


def load_unknown(port, stop, out, ident):
    stats = {"requests": 0, "codes": {}}
    conn = None
    i = 0
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", f"/no/such/path/{ident}/{i}?x={i}")
            r = conn.getresponse()
            r.read()
            code = str(r.status)
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:
            code = type(e).__name__
            if conn:
                conn.close()
            conn = None
        i += 1
        stats["requests"] += 1
        stats["codes"][code] = stats["codes"].get(code, 0) + 1
    if conn:
        conn.close()
    out.put((f"unknown-{ident}", stats))


def load_burn(stop, out, ident):
    """A control, no HTTP: a process spinning on the CPU as a huge-header client does."""
    n = 0
    while not stop.is_set():
        for _ in range(100000):
            n += 1
    out.put((f"burn-{ident}", {"spins": n}))


def start_load(phase, port, args):
    stop = mp.Event()
    out = mp.Queue()
    procs = []
    if phase == "idle":
        procs.append(mp.Process(target=load_idle, args=(port, args.idle, stop, out)))
    elif phase == "slowloris":
        procs.append(mp.Process(target=load_slowloris,
                                args=(port, args.slowloris, args.slow_interval, stop, out)))
    elif phase == "huge":
        for kind in ("1MB-line", "1MB-lines", "10k-lines"):
            procs.append(mp.Process(target=load_huge, args=(port, kind, stop, out)))
    elif phase == "sse":
        procs.append(mp.Process(target=load_sse, args=(port, args.sse, stop, out)))
    elif phase == "burn":
        for i in range(3):
            procs.append(mp.Process(target=load_burn, args=(stop, out, i)))
    elif phase == "unknown":
        for i in range(args.unknown_clients):
            procs.append(mp.Process(target=load_unknown, args=(port, stop, out, i)))
    for p in procs:
        p.start()
    return stop, out, procs


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def stop_load(stop, out, procs):
    results = {"clients_cpu_s": round(sum(cpu_seconds(p.pid) for p in procs), 1)}
    stop.set()
    deadline = time.monotonic() + 20
    for _ in procs:
        try:
            name, stats = out.get(timeout=max(0.1, deadline - time.monotonic()))
            results[name] = stats
        except Exception:
            pass
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            os.kill(p.pid, signal.SIGKILL)  # our own child, by pid
            p.join()
    return results


# ---------------------------------------------------------------- probes (this process)

class Probes:
    """Every probe's result with the time it started; a phase takes those started within it."""

    def __init__(self, d):
        self.d = d
        self.lock = threading.Lock()
        self.console = []  # (start, ms or None for a failure)
        self.restart = []  # (start, ms or None for no new child within 5 s)
        self.http = {"/metrics": [], "/": []}  # (start, ok, ms, what)
        self.procs = []  # (time, rss, threads)
        self.done = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in
                        (self._console, self._restart, self._proc,
                         lambda: self._http("/metrics"), lambda: self._http("/"))]
        for t in self.threads:
            t.start()

    def window(self, t0, t1):
        inside = lambda rows: [r[1:] for r in rows if t0 <= r[0] < t1]
        with self.lock:
            return {"console": [r[0] for r in inside(self.console)],
                    "restart": [r[0] for r in inside(self.restart)],
                    "http": {k: inside(v) for k, v in self.http.items()},
                    "rss": [r[0] for r in inside(self.procs)],
                    "threads": [r[1] for r in inside(self.procs)]}

    def _console(self):
        while not self.done.is_set():
            t = time.monotonic()
            try:
                self.d.console("status", timeout=PROBE_TIMEOUT)
                ms = (time.monotonic() - t) * 1000
            except Exception:
                ms = None
            with self.lock:
                self.console.append((t, ms))
            self.done.wait(max(0, 0.25 - (time.monotonic() - t)))

    def _restart(self):
        while not self.done.is_set():
            t_cycle = time.monotonic()
            before = self.d.services()
            if before:
                victim = min(before)
                t = time.monotonic()
                os.kill(victim, signal.SIGKILL)  # a /bin/sleep child of our amatad
                ms = None
                while time.monotonic() - t < PROBE_TIMEOUT:
                    new = self.d.services() - before
                    if new:
                        ms = (time.monotonic() - t) * 1000
                        break
                    time.sleep(0.002)
                with self.lock:
                    self.restart.append((t, ms))
            self.done.wait(max(0, 2.0 - (time.monotonic() - t_cycle)))

    def _proc(self):
        while not self.done.is_set():
            _, rss, n = self.d.proc_sample()
            with self.lock:
                self.procs.append((time.monotonic(), rss, n))
            self.done.wait(1.0)

    def _one_get(self, path):
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection(HOST, self.d.port, timeout=PROBE_TIMEOUT)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            c.close()
            ok, what = r.status == 200, str(r.status)
        except Exception as e:
            ok, what = False, type(e).__name__
        ms = (time.monotonic() - t) * 1000
        with self.lock:
            self.http[path].append((t, ok, ms, what))

    def _http(self, path):
        while not self.done.is_set():
            t = time.monotonic()
            threading.Thread(target=self._one_get, args=(path,), daemon=True).start()
            self.done.wait(max(0, 1.0 - (time.monotonic() - t)))


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100 * (len(v) - 1)))))
    return v[k]


def summarize(snap, cpu0, cpu1, seconds):
    con = [x for x in snap["console"] if x is not None]
    rst = [x for x in snap["restart"] if x is not None]
    out = {
        "seconds": round(seconds, 1),
        "console_n": len(snap["console"]),
        "console_fail": len(snap["console"]) - len(con),
        "console_p50": pct(con, 50), "console_p99": pct(con, 99),
        "console_max": max(con) if con else None,
        "restart_n": len(snap["restart"]),
        "restart_fail": len(snap["restart"]) - len(rst),
        "restart_p50": pct(rst, 50), "restart_max": max(rst) if rst else None,
        "cpu_pct": round(100 * (cpu1 - cpu0) / seconds, 1),
        "rss_max_mb": round(max(snap["rss"]) / 2**20, 1) if snap["rss"] else None,
        "threads_max": max(snap["threads"]) if snap["threads"] else None,
    }
    for path, key in (("/metrics", "metrics"), ("/", "page")):
        res = snap["http"][path]
        oks = [ms for ok, ms, _ in res if ok]
        whats = {}
        for _, _, w in res:
            whats[w] = whats.get(w, 0) + 1
        out[key + "_n"] = len(res)
        out[key + "_ok"] = len(oks)
        out[key + "_p50"] = pct(oks, 50)
        out[key + "_max"] = max(oks) if oks else None
        out[key + "_results"] = whats
    return out


def wait_http_back(port, limit=90):
    t = time.monotonic()
    while time.monotonic() - t < limit:
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=2)
            c.request("GET", "/metrics")
            r = c.getresponse()
            r.read()
            c.close()
            if r.status == 200:
                return round(time.monotonic() - t, 2)
        except Exception:
            pass
        time.sleep(0.2)
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--amatad", default="/work/bin-web/amatad")
    ap.add_argument("--amatad-arg", action="append", default=[],
                    help="an extra argument for amatad (repeatable)")
    ap.add_argument("--phase-seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--phases", default="idle,slowloris,huge,sse,unknown")
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--slowloris", type=int, default=1000)
    ap.add_argument("--slow-interval", type=float, default=0.9,
                    help="seconds between a slow client's header bytes (httplib's read "
                         "timeout here is 1 s)")
    ap.add_argument("--sse", type=int, default=200)
    ap.add_argument("--unknown-clients", type=int, default=3)
    ap.add_argument("--out", default=None, help="write every phase's figures here (JSON)")
    args = ap.parse_args()

    need = 2 * max(args.idle, args.slowloris) + 2 * args.sse + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(need, soft), hard), hard))
    print(f"fd limit {resource.getrlimit(resource.RLIMIT_NOFILE)}; load average {loadavg()}",
          flush=True)

    d = Amatad(args.amatad, args.amatad_arg)
    results = {"load_before": loadavg(), "port": d.port, "phases": []}
    probes = None
    try:
        print(f"amatad pid {d.pid}, web on port {d.port}", flush=True)
        probes = Probes(d)
        time.sleep(3)  # settle
        results["thread_nice"] = d.thread_nice()
        print("amatad's threads (name: nice values):", results["thread_nice"], flush=True)
        order = []
        for r in range(args.rounds):
            for ph in args.phases.split(","):
                order += [("baseline", r), (ph, r)]
        for phase, r in order:
            load = start_load(phase, d.port, args) if phase != "baseline" else None
            time.sleep(1.0 if load else 0)  # let the load build up before measuring
            t0 = time.monotonic()
            cpu0 = d.proc_sample()[0]
            time.sleep(args.phase_seconds)
            t1 = time.monotonic()
            cpu1 = d.proc_sample()[0]
            # the load stays on until every probe started in the phase has its answer
            time.sleep(PROBE_TIMEOUT + 0.5)
            s = summarize(probes.window(t0, t1), cpu0, cpu1, t1 - t0)
            s["phase"], s["round"], s["loadavg"] = phase, r, loadavg()
            if load:
                s["load"] = stop_load(*load)
                s["http_back_after_s"] = wait_http_back(d.port)
            if d.process.poll() is not None:
                raise RuntimeError("amatad died: " + d.read_log()[-2000:])
            results["phases"].append(s)
            print(json.dumps(s), flush=True)
            time.sleep(1)
    finally:
        if probes:
            probes.done.set()
            time.sleep(1.5)
        results["load_after"] = loadavg()
        results["amatad_log_tail"] = d.read_log()[-3000:]
        d.close()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    print_table(results)


def print_table(results):
    phases = results["phases"]
    base = [p for p in phases if p["phase"] == "baseline"]

    def med(rows, key):
        v = [p[key] for p in rows if p.get(key) is not None]
        return statistics.median(v) if v else None

    keys = ["console_p50", "console_p99", "console_max", "restart_p50", "restart_max",
            "metrics_p50", "page_p50", "cpu_pct", "rss_max_mb", "threads_max"]
    print("\nphase/round  " + "  ".join(keys) + "  metrics_ok page_ok console_fail restart_fail back_s")
    for i, p in enumerate(phases):
        row = [f"{p['phase']}/{p['round']}"]
        prev = phases[i - 1] if i and p["phase"] != "baseline" else None
        for k in keys:
            v = p.get(k)
            txt = "-" if v is None else f"{v:.1f}"
            if prev and prev.get(k) and v is not None:
                txt += f" ({v / prev[k]:.2f}x)"
            row.append(txt)
        row.append(f"{p['metrics_ok']}/{p['metrics_n']}")
        row.append(f"{p['page_ok']}/{p['page_n']}")
        row.append(str(p["console_fail"]))
        row.append(str(p["restart_fail"]))
        row.append(str(p.get("http_back_after_s", "")))
        print("  ".join(row))
    print(f"\nbaseline medians: " + ", ".join(f"{k}={med(base, k)}" for k in keys))
    print(f"load average before {results['load_before']}, after {results['load_after']}")


if __name__ == "__main__":
    main()
