"""A real amatad with --web in a temporary directory, and headless Chromium to look at it.

Shared by tests/web/browser_test.py and tools/web-screenshots.py. Everything it starts it
stops by pid (amatad by SIGTERM, which stops the services it started), and the temporary
directory (policy, state, socket, Chromium's profile) goes with it.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port():
    """A loopback port nobody listens on now (the service's; amatad's own is bound as :0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# One service to kill, the node, and rules on both. @PORT@ and @DIR@ are filled in.
DEFAULT_POLICY = """\
policy webtest

node self { every 1s }

service web {
  start  "/usr/bin/python3" "-m" "http.server" "@PORT@" "--bind" "127.0.0.1"
  dir    "@DIR@"
  stop   TERM then KILL after 2s
  health tcp "127.0.0.1:@PORT@" every 1s timeout 500ms
  grace  2s
}

discover busy when self.load1 > 500 for 30s raise NodeBusy(self)
discover down(s: service) when not s.alive raise ServiceDown(s)
discover sick(s: service) when s.alive and s.health.failed for 3 checks raise ServiceSick(s)

event NodeBusy(n: node) notify_only

recover ServiceDown(s) {
  restart s backoff 100ms .. 10s limit 10 within 5min
  notify "console" "web died and was restarted"
}
recover ServiceSick(s) { restart s }
"""


class Amatad:
    """amatad on a policy, with its console socket and the web view on a loopback port."""

    def __init__(self, amatad, policy=DEFAULT_POLICY, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="amata-web-")
        self.service_port = free_port()
        self.socket = os.path.join(self.dir, "amatad.sock")
        policy_path = os.path.join(self.dir, "policy.amata")
        with open(policy_path, "w") as f:
            f.write(policy.replace("@PORT@", str(self.service_port)).replace("@DIR@", self.dir))
        os.mkdir(os.path.join(self.dir, "hooks"))
        self.log_path = os.path.join(self.dir, "amatad.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [amatad, policy_path, "--state-dir", os.path.join(self.dir, "state"),
             "--socket", self.socket, "--hooks", os.path.join(self.dir, "hooks"),
             "--metrics-listen", "127.0.0.1:0", "--web", "--backend", "interp",
             "--priority-boost", "0", *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.url = self._wait_for_url()

    def _wait_for_url(self, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("amatad exited: " + self.read_log())
            match = re.search(r"web view on (http://127\.0\.0\.1:\d+/)", self.read_log())
            if match and os.path.exists(self.socket):
                return match.group(1).rstrip("/")
            time.sleep(0.1)
        raise RuntimeError("amatad did not start its web view: " + self.read_log())

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def console(self, cmd, args=None):
        """One request on the console socket, as amatactl sends it; the result."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.socket)
            s.sendall((json.dumps({"id": 1, "cmd": cmd, "args": args or {}}) + "\n").encode())
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

    def object(self, name):
        return next(o for o in self.console("status")["objects"] if o["name"] == name)

    def wait_running(self, name, seconds=20, other_than=None):
        """The pid of `name` once it runs (and is not `other_than`: after a restart)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            o = self.object(name)
            pid = o.get("pid")
            if o["state"] == "running" and pid and pid != other_than:
                return pid
            time.sleep(0.1)
        raise RuntimeError(f"{name} does not run: {self.object(name)}")

    def close(self):
        pids = []
        try:
            pids = [o["pid"] for o in self.console("status")["objects"] if o.get("pid")]
        except Exception:  # amatad may be gone already; its services are then checked below
            pass
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # amatad stops what it started
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in pids:  # only if amatad could not stop them
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def browser(profile_dir, width=1280, height=800):
    """Headless Chromium driven by chromedriver, its profile inside `profile_dir`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                f"--user-data-dir={os.path.join(profile_dir, 'chromium')}",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    service = Service(executable_path=CHROMEDRIVER,
                      log_path=os.path.join(profile_dir, "chromedriver.log"))
    return webdriver.Chrome(service=service, options=options)
