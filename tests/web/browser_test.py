#!/usr/bin/python3
"""The web view in a real browser: a real amatad with --web supervising a python3 http.server,
headless Chromium on its pages. The service is killed (by the pid the console reports) while
/events is open, and the death and the restart must appear there without a reload: the
Server-Sent Events path end to end. Then the overview's attribute sparklines and the object
page's charts (/objects/web).

    /usr/bin/python3 tests/web/browser_test.py build/dev/tools/amatad/amatad
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import harness  # noqa: E402


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for tool in (harness.CHROMIUM, harness.CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            print(f"browser_test: {tool} is missing (tools/setup.sh test installs chromium and "
                  "chromium-driver)", file=sys.stderr)
            return 1
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    daemon = harness.Amatad(sys.argv[1])
    driver = None
    try:
        pid = daemon.wait_running("web")
        driver = harness.browser(daemon.dir)
        wait = WebDriverWait(driver, 10)

        # The overview lists the service, running, with the pid the console reports.
        driver.get(daemon.url + "/")
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-object="web"]')
        check("running" in row.text, f"web is not shown running: {row.text!r}")
        check(str(pid) in row.text, f"web's pid {pid} is not shown: {row.text!r}")
        check(row.get_attribute("class") == "green", f"web's row: {row.get_attribute('class')}")
        check(driver.find_element(By.CSS_SELECTOR, 'tr[data-object="self"]'), "no node row")
        print(f"overview: web running as pid {pid}")

        # The timeline, live: the script has opened its stream.
        driver.get(daemon.url + "/events")
        wait.until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
        driver.execute_script("window.amataNoReload = true;")  # gone if the page reloads
        before = len(driver.find_elements(By.CSS_SELECTOR, "#timeline tr"))
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()

        def shows_death_and_restart(d):
            text = d.find_element(By.ID, "timeline").text
            return "ServiceDown(web) raised" in text and "restart web: ok" in text

        WebDriverWait(driver, 8, poll_frequency=0.1).until(shows_death_and_restart)
        seen = time.monotonic() - killed
        check(driver.execute_script("return window.amataNoReload === true;"),
              "the page was reloaded: the rows did not come over the stream")
        after = len(driver.find_elements(By.CSS_SELECTOR, "#timeline tr"))
        check(after > before, f"no new rows ({before} before, {after} after)")
        check(seen < 6, f"the death and the restart took {seen:.1f} s to appear")
        print(f"events: death and restart shown live after {seen:.1f} s ({after - before} rows)")
        new_pid = daemon.wait_running("web", other_than=pid)

        # Rules, and one rule's explanation with its values.
        driver.get(daemon.url + "/rules")
        driver.find_element(By.LINK_TEXT, "down[web]").click()
        wait.until(lambda d: d.current_url.endswith("/rules/down%5Bweb%5D"))
        tree = driver.find_element(By.CSS_SELECTOR, "ul.tree").text
        check("not s.alive" in tree and "false" in tree, f"explain tree: {tree!r}")
        check("Rule down[web]" in driver.find_element(By.TAG_NAME, "h1").text, "explain title")
        print("explain: down[web] shows its condition tree")

        # The overview now has the new pid, and beside the service's key attributes their
        # recent history as sparklines (an inline <svg> with a line, drawn by amatad: the
        # page's one batch `history`; a point per 10 s, so at most one reload waits for it).
        driver.get(daemon.url + "/")
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-object="web"]')
        check(str(new_pid) in row.text, f"new pid {new_pid} not shown: {row.text!r}")
        # (Read in one script: the page reloads itself every 5 s, which would make elements
        # found one by one stale.)
        titles_script = """return Array.from(document.querySelectorAll(
            'tr[data-object="web"] .attr svg.spark.line')).filter(
            s => s.querySelector('path')).map(s => s.querySelector('title').textContent);"""
        deadline = time.monotonic() + 12
        while not (titles := driver.execute_script(titles_script)):
            check(time.monotonic() < deadline, "no attribute sparkline on web's overview row")
            time.sleep(1)
            driver.refresh()
        check(all(" of web, last " in t for t in titles), f"sparkline titles: {titles!r}")
        print(f"overview: {len(titles)} attribute sparklines on web's row ({titles[0]})")

        # The object's page, from its name on the overview: a chart of each numeric attribute
        # (an <svg> with a line; amatad records one point per 10 s, so at most one reload
        # waits for the first) and the restart just made.
        # Found again: the reloads above replaced the page the first `row` came from.
        driver.find_element(By.CSS_SELECTOR, 'tr[data-object="web"]').find_element(
            By.LINK_TEXT, "web").click()
        wait.until(lambda d: d.current_url.endswith("/objects/web"))
        deadline = time.monotonic() + 12
        while not driver.find_elements(By.CSS_SELECTOR, "svg.chart path.line"):
            check(time.monotonic() < deadline, "no attribute chart on /objects/web")
            time.sleep(1)
            driver.refresh()
        charts = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart path.line"))
        body = driver.find_element(By.TAG_NAME, "main").text
        check("restarts: 1 in the last hour" in body, f"no restart chart: {body[:300]!r}")
        check(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar"), "no restart bar")
        print(f"object page: {charts} attribute charts and the restart")

        driver.get(daemon.url + "/no/such/page")
        check("Not found" in driver.find_element(By.TAG_NAME, "h1").text, "no 404 page")
        print("404 page and restarted service shown")
    except Exception:
        print(daemon.read_log(), file=sys.stderr)
        raise
    finally:
        if driver is not None:
            driver.quit()
        daemon.close()
    print("browser_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
