"""The HTML report in headless Chromium, driven over the DevTools protocol: no console errors, no requests
but the file itself, and a click on a finding shows that case's timeline with its evidence marked.

Run directly to screenshot a report: ``python tests/test_report_browser.py REPORT.html OUT.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium page and what it logged."""

    def __init__(self):
        import websocket  # websocket-client, in the test extra

        self.profile = tempfile.mkdtemp(prefix="sdsrules-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
             "--disable-extensions", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if time.monotonic() > deadline:
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port = port_file.read_text().split("\n")[0].strip()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Runtime", "Network", "Log", "Page"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == method:
                return
        raise TimeoutError(method)

    def open(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.eval("new Promise(r => setTimeout(r, 300))")

    def eval(self, expression: str):
        res = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in res:
            raise AssertionError(res["exceptionDetails"])
        return res["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and log errors (CSP violations land there)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log {p['entry']['level']}: {p['entry']['text']}")
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def screenshot(self, path: Path, width: int = 1400, height: int = 1900) -> None:
        import base64

        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        self.eval("window.scrollTo(0, 0)")
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    try:  # tests/ as a package or as a folder on the path
        from tests.test_report_html import hostile_log_report
    except ImportError:
        from test_report_html import hostile_log_report

    folder = tmp_path_factory.mktemp("browser")
    page = hostile_log_report(folder)
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


@needs_chromium
class TestReportInBrowser:
    def test_no_console_errors_and_no_requests(self, browser, report_file):
        """The report loads with no console error or exception and fetches nothing but itself."""
        url = report_file.as_uri()
        browser.open(url)
        assert browser.eval("document.querySelectorAll('#findings tbody tr').length") > 0
        assert browser.problems() == []
        assert browser.requests() == [url]

    def test_clicking_a_finding_shows_the_case_timeline(self, browser, report_file):
        """A click on a finding's case opens its timeline with the evidence events marked."""
        browser.open(report_file.as_uri())
        case = browser.eval("const a = document.querySelector('#findings a.case-link'); a.click(); a.textContent")
        state = browser.eval(
            "new Promise(r => setTimeout(() => r({hidden: document.getElementById('timeline').hidden, "
            "title: document.getElementById('t-case').textContent, "
            "events: document.querySelectorAll('#t-events li').length, "
            "evidence: document.querySelectorAll('#t-events li.evidence').length}), 200))")
        assert state["hidden"] is False
        assert state["title"].startswith(case)
        assert state["events"] >= state["evidence"] >= 1
        assert browser.problems() == []

    def test_hostile_case_id_stays_text(self, browser, report_file):
        """A case id carrying markup is shown as text: no element is injected."""
        browser.open(report_file.as_uri())
        assert browser.eval("document.querySelectorAll('b.injected').length") == 0
        shown = browser.eval("Array.from(document.querySelectorAll('a.case-link')).map(a => a.textContent)")
        assert any("<b class=\"injected\">" in s for s in shown)

    def test_the_checks_catch_an_external_request(self, browser, tmp_path):
        """The harness itself: a page that tries to fetch from the network is caught."""
        page = tmp_path / "leaky.html"
        page.write_text('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
                        '<img src="http://192.0.2.1/x.png">', encoding="utf-8")
        browser.open(page.as_uri())
        assert browser.problems() or browser.requests() != [page.as_uri()]


ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: elements wider than the viewport, unless inside a box that scrolls sideways (tables, charts)
OVERFLOW = """
(() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  const sw = document.documentElement.scrollWidth;
  if (sw > vw) out.push('page scrolls sideways: ' + sw + ' > ' + vw);
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 1) continue;
    let p = e.parentElement, boxed = false;
    while (p && p !== document.body) {
      const cs = getComputedStyle(p);
      if (cs.overflowX === 'auto' || cs.overflowX === 'scroll' || cs.overflowX === 'hidden') {
        if (p.getBoundingClientRect().right <= vw + 1) { boxed = true; break; }
      }
      p = p.parentElement;
    }
    if (!boxed) out.push(e.tagName + '.' + e.className + ' right=' + Math.round(r.right));
  }
  return out.slice(0, 10);
})()
"""


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    """The HTML report of the shipped sample log, with its due list, as a QA manager would open it."""
    from datetime import date

    from sdsrules import api
    from sdsrules.duelist import due_items
    from sdsrules.formats.report.html import render_html
    from sdsrules.readers import read_all
    from sdsrules.workflow import load_workflow

    wf = load_workflow(None)
    events: dict = {}

    def keep(records):
        for r in records:
            if hasattr(r, "activity"):
                events.setdefault(r.case, []).append(r)
            yield r

    report = api.replay_records(keep(read_all([str(ROOT / "cases" / "sample.jsonl")])), wf)
    rows = due_items(report.findings, report.obligations, date.fromisoformat(report.summary.as_of), "3m")
    page = render_html(report, wf, events=events, due_rows=rows, due_within="3m")
    path = tmp_path_factory.mktemp("sample") / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


@needs_chromium
class TestLayout:
    """The page at a desktop width and at 420 px: nothing overflows the viewport sideways (tables and charts
    scroll inside their own box), and the screenshots in docs/ are taken from here."""

    @pytest.mark.parametrize("width", [1400, 420])
    def test_nothing_overflows_the_viewport(self, browser, sample_report, tmp_path, width):
        """At this width no element sticks out of the viewport unless a scrolling box holds it."""
        browser.open(sample_report.as_uri())
        browser.call("Emulation.setDeviceMetricsOverride", width=width, height=1900, deviceScaleFactor=1,
                     mobile=width < 800)
        browser.eval("new Promise(r => setTimeout(r, 200))")
        assert browser.eval(OVERFLOW) == []
        assert width - 20 <= browser.eval("document.documentElement.clientWidth") <= width  # less a scrollbar
        # the worst duty's title, met count, bar and words are on screen without scrolling sideways
        off = browser.eval("""(() => { const row = document.querySelector('#worst tbody tr');
            const vw = document.documentElement.clientWidth;
            return ['td.title', 'td[data-label="met"]', 'td[data-label="open"]', 'td.bar', 'td.word']
              .filter(s => { const r = row.querySelector(s).getBoundingClientRect();
                             return r.left < 0 || r.right > vw + 1 || r.width === 0; }); })()""")
        assert off == []
        assert browser.problems() == []
        shot = tmp_path / f"report-{width}.png"
        browser.screenshot(shot, width=width, height=1900)
        assert shot.stat().st_size > 10_000
        if os.environ.get("SDSRULES_UPDATE_SCREENSHOTS"):
            shutil.copy(shot, DOCS / f"report-{width}.png")


if __name__ == "__main__":  # python tests/test_report_browser.py REPORT.html OUT.png
    b = Browser()
    try:
        b.open(Path(sys.argv[1]).resolve().as_uri())
        if len(sys.argv) > 3:
            b.eval(f"window.sdsShowCase({json.dumps(sys.argv[3])})")
        print("problems:", b.problems(), "requests:", b.requests(), file=sys.stderr)
        b.screenshot(Path(sys.argv[2]))
    finally:
        b.close()
    os._exit(0)


@needs_chromium
class TestComparePageInBrowser:
    """``sdsrules compare --format html``: the current-vs-proposed page loads with no console error and no request,
    shows a column pair per side, marks the duty that got worse, and keeps a hostile case id as text."""

    def test_the_compare_page(self, browser, tmp_path):
        from click.testing import CliRunner

        from cli.main import cli

        lines = (ROOT / "cases" / "sample.jsonl").read_text(encoding="utf-8").splitlines()
        hostile = '<b class="injected">C-000002</b>'
        log = tmp_path / "log.jsonl"
        log.write_text("\n".join(line.replace('"C-000002"', json.dumps(hostile)) for line in lines) + "\n",
                       encoding="utf-8")
        page = tmp_path / "compare.html"
        out = CliRunner().invoke(cli, ["compare", str(log), "-w", "national", "--set", "initial_review=6 weeks",
                                       "--format", "html", "-o", str(page)])
        assert out.exit_code == 0, out.output
        url = page.as_uri()
        browser.open(url)
        assert browser.problems() == []
        assert browser.requests() == [url]
        sides = browser.eval("Array.from(document.querySelectorAll('table.compare th.side')).map(t => t.textContent)")
        assert sides[:2] == ["current", "proposed"]
        worse = browser.eval("Array.from(document.querySelectorAll('table.compare td.worse'))"
                             ".map(td => td.parentElement.querySelector('td.code').textContent)")
        assert worse == ["SDS-REV-01"]
        assert browser.eval("document.querySelectorAll('b.injected').length") == 0
        assert browser.eval(f"document.body.textContent.includes({json.dumps(hostile)})")
