#!/usr/bin/python3
"""Regenerates the screenshots of amatad's web view in docs/web/ (PNG, 1280x800).

    /usr/bin/python3 tools/web-screenshots.py [AMATAD] [OUT]
      AMATAD  default build/dev/tools/amatad/amatad;  OUT  default docs/web

The same approach as tests/web/browser_test.py (tests/web/harness.py): a real amatad with --web
in a temporary directory, a small policy with a service that is killed once so the timeline
has a death and a restart, and headless Chromium (chromium, chromium-driver,
python3-selenium). amatad gets an operator (--web-token, a token file of mode 600 as
tests/web/control_test.py makes it) for the log-in page; nobody logs in, so the other pages
are the read-only view, with a "log in" link in the header. The /cluster page is the one a
node without a cluster shows (a cluster needs Corosync). The PNGs are reduced to a palette
(Debian's python3-pil, when installed) to keep them small.
"""
import os
import shutil
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "web"))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import harness  # noqa: E402

# The test's policy, plus what an overview usually holds: a filesystem, a host, and a rule
# that stays pending (its `for 10min` never runs out while the screenshots are taken).
POLICY = harness.DEFAULT_POLICY + """
filesystem root { path "/"; every 5s }
host gateway { address "127.0.0.1"; port @PORT@; timeout 500ms; every 2s }

discover long_uptime(s: service) when s.alive for 10min raise LongUptime(s)
discover root_full when root.used > 95% raise RootFull(root)
event LongUptime(s: service) notify_only
event RootFull(f: filesystem) notify_only
"""


def shrink(path):
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=128).save(path, optimize=True)


def main():
    amatad = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "build/dev/tools/amatad/amatad")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs/web")
    os.makedirs(out, exist_ok=True)
    # One operator, so that /login exists (amatad wants the file private: mode 600).
    secrets = tempfile.mkdtemp(prefix="amata-web-tokens-")
    tokens = os.path.join(secrets, "tokens")
    with open(os.open(tokens, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("alice " + os.urandom(16).hex() + "\n")
    daemon = None
    driver = None
    try:
        daemon = harness.Amatad(amatad, POLICY, extra_args=("--web-token", tokens))
        started = time.monotonic()
        pid = daemon.wait_running("web")
        os.kill(pid, signal.SIGKILL)  # a death and a restart for the timeline
        daemon.wait_running("web", other_than=pid)
        # Some of the history's 10 s steps, so the overview's sparklines and the object's
        # charts have lines.
        time.sleep(max(0.0, started + 60 - time.monotonic()))
        driver = harness.browser(daemon.dir)
        pages = [("overview", "/"), ("rules", "/rules"),
                 ("explain", "/rules/sick%5Bweb%5D"), ("events", "/events"),
                 ("not-found", "/no/such/page"), ("object", "/objects/web"),
                 ("login", "/login"), ("cluster-standalone", "/cluster")]
        for name, path in pages:
            driver.get(daemon.url + path)
            time.sleep(1.5)  # the events page opens its stream
            target = os.path.join(out, f"{name}.png")
            driver.save_screenshot(target)
            shrink(target)
            print(f"{target}: {os.path.getsize(target)} bytes")
    finally:
        if driver is not None:
            driver.quit()
        if daemon is not None:
            daemon.close()
        shutil.rmtree(secrets, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
