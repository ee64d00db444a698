#!/usr/bin/python3
"""Control from the web view in a real browser: a real amatad with --web and --web-token, and
headless Chromium. Without logging in there are no buttons and a control request is refused
(403); an operator who logs in with her token restarts the service with a button, the service
gets a new process, and the timeline says who asked. A token file others could read stops
amatad before it starts.

    /usr/bin/python3 tests/web/control_test.py build/dev/tools/amatad/amatad
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import harness  # noqa: E402

TOKEN = "c0ffee00c0ffee00c0ffee00c0ffee00"

# fetch() from the page itself: the browser adds its Origin, as it does for a form.
POST_WITHOUT_LOGIN = """
const done = arguments[arguments.length - 1];
fetch('/control', {method: 'POST', redirect: 'manual',
                   body: new URLSearchParams({verb: 'restart', object: 'web'})})
  .then(r => done(r.status), e => done('error: ' + e));
"""


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def refuses_a_readable_token_file(amatad, secrets):
    readable = os.path.join(secrets, "readable")
    with open(readable, "w") as f:
        f.write(f"alice {TOKEN}\n")
    os.chmod(readable, 0o644)
    run = subprocess.run([amatad, "/nonexistent.amata", "--metrics-listen", "127.0.0.1:0",
                          "--web", "--web-token", readable], capture_output=True, text=True,
                         timeout=30)
    check(run.returncode == 2, f"exit {run.returncode} with a readable token file")
    check("group or others may read or write it" in run.stderr, run.stderr)
    print("a token file others could read stops amatad (exit 2)")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for tool in (harness.CHROMIUM, harness.CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            print(f"control_test: {tool} is missing (tools/setup.sh test installs it)",
                  file=sys.stderr)
            return 1
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    amatad = sys.argv[1]
    secrets = tempfile.mkdtemp(prefix="amata-web-tokens-")
    daemon = None
    driver = None
    try:
        refuses_a_readable_token_file(amatad, secrets)
        tokens = os.path.join(secrets, "tokens")
        with open(os.open(tokens, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"# operators of the test\nalice {TOKEN}\n")
        daemon = harness.Amatad(amatad, extra_args=("--web-token", tokens))
        pid = daemon.wait_running("web")
        driver = harness.browser(daemon.dir)
        # A submitted form replaces the page: an element found on the old one may be gone by
        # the time it is read (seen once in the suite), so a wait tries again instead of failing.
        wait = WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,))

        # Not logged in: a log-in link, no buttons, and a control request is refused.
        driver.get(daemon.url + "/")
        check(driver.find_elements(By.LINK_TEXT, "log in"), "no log-in link")
        check(not driver.find_elements(By.CSS_SELECTOR, "form.control"), "buttons before log-in")
        status = driver.execute_async_script(POST_WITHOUT_LOGIN)
        check(status == 403, f"control without logging in answered {status}")
        check(daemon.object("web").get("pid") == pid, "web was restarted without an operator")
        print("without logging in: no buttons, control refused (403)")

        # A wrong token, then hers.
        driver.get(daemon.url + "/login")
        driver.find_element(By.NAME, "name").send_keys("alice")
        driver.find_element(By.NAME, "token").send_keys("not-her-token-at-all")
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait.until(lambda d: "Wrong name or token" in d.find_element(By.TAG_NAME, "main").text)
        driver.find_element(By.NAME, "name").send_keys("alice")
        driver.find_element(By.NAME, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "form.control"))
        check("alice" in driver.find_element(By.CSS_SELECTOR, "header .account").text,
              "the header does not say who is logged in")
        print("logged in as alice: the services have buttons")

        # Her restart: the service gets a new process and the timeline says who asked.
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-object="web"]')
        row.find_element(By.CSS_SELECTOR, 'button[data-verb="restart"]').click()
        wait.until(lambda d: "/events?object=web" in d.current_url)
        new_pid = daemon.wait_running("web", other_than=pid)

        def shows_who(d):
            text = d.find_element(By.ID, "timeline").text
            return "for web:alice from 127.0.0.1" in text and "restart web: ok" in text

        WebDriverWait(driver, 10, poll_frequency=0.2,
                      ignored_exceptions=(StaleElementReferenceException,)).until(shows_who)
        control = [e for e in daemon.console("events", {"object": "web"})["events"]
                   if e.get("type") == "control"]
        check(control and control[-1]["data"].get("on_behalf_of") == "web:alice from 127.0.0.1",
              f"no Control event in alice's name: {control}")
        print(f"restart by alice: pid {pid} -> {new_pid}, stored as hers")

        # Logged out: the buttons are gone.
        driver.get(daemon.url + "/")
        driver.find_element(By.CSS_SELECTOR, "form.account button").click()
        wait.until(lambda d: d.find_elements(By.LINK_TEXT, "log in"))
        check(not driver.find_elements(By.CSS_SELECTOR, "form.control"), "buttons after log-out")
        print("logged out: no buttons")
    except Exception:
        if daemon is not None:
            print(daemon.read_log(), file=sys.stderr)
        raise
    finally:
        if driver is not None:
            driver.quit()
        if daemon is not None:
            daemon.close()
        shutil.rmtree(secrets, ignore_errors=True)
    print("control_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
