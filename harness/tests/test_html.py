#!/usr/bin/python3
"""test_html.py - the HTML report (index.html) in a real browser, as TAP.

usage: test_html.py WSRACE GATEWAY SCENARIO_DIR CHROMIUM

Runs `wsrace run` on two scenarios, with their fault injected and without,
and on a 1,000-client scenario written here; then loads each run's
index.html in headless Chromium through the DevTools protocol (Debian's
python3-websockets, asyncio client) and checks that it loads with no
exception, no console or log error and no network request; that the
matrix shows DETECTED where the fault was injected and nothing red where
it was not; that every case of summary.json is on the page; that opening a
case draws its timeline (lanes, pixels, evidence listed, hover tip); and
that the large case opens and draws within a bound.

It is also the lint of the page's assets (harness/report/assets): the
script runs without an exception (a syntax error is one), and Chromium
keeps every rule and every declaration of report.css (a browser drops an
invalid selector's rule, an unknown property or a bad value, silently).

Chromium missing is a failure, not a skip: scripts/test installs it.
Every wait is bounded; Chromium runs in its own process group and is
killed at the end.
"""
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import tap
from devtools import Chromium, open_page

WSRACE, GATEWAY, SCEN, CHROMIUM = sys.argv[1:5]
ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      os.pardir, "report", "assets")
TMP = tempfile.mkdtemp(prefix="wsrace-html-")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def scen(name):
    """The shipped scenario called name (files are NN-name.yaml)."""
    for f in sorted(os.listdir(SCEN)):
        if f.endswith(".yaml") and f[3:-5] == name:
            return os.path.join(SCEN, f)
    raise FileNotFoundError(name)


BIG = """\
# 1,000 clients through the whole lifecycle, for the HTML report test.
name: html-thousand
description: one thousand clients connect, chat once and leave.
clients:
  - count: 1000
    user: u{g}
    session: big-{g}
    start_jitter_ms: 200
    steps:
      - connect: {within: 20000}
      - expect: {type: connection_established, within: 20000}
      - send: {type: user_message, data: {content: hi}, correlation_id: "b{g}"}
      - expect: {type: agent_completed, match: {correlation_id: "b{g}"}, within: 20000}
      - close
ready_timeout_ms: 20000
timeout_ms: 120000
"""


def wsrace_run(name, args, timeout=240):
    """Runs wsrace into TMP/name; returns (rc, output, run dir)."""
    root = os.path.join(TMP, name)
    try:
        r = subprocess.run([WSRACE, "run", "--report-dir", root] + args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return -1, "timed out: %s" % e, None
    run_dir = os.path.realpath(os.path.join(root, "latest"))
    return r.returncode, r.stdout, run_dir


# ------------------------------------------------------------------------
# The checks
# ------------------------------------------------------------------------

OPEN_CASE = """(function (id) {
  var d = document.querySelector('details.case[data-case="' + id + '"]');
  if (!d) return false;
  d.open = true;
  return true;
})(%s)"""

TIMELINE = """(function (id) {
  var d = document.querySelector('details.case[data-case="' + id + '"]');
  var box = d && d.querySelector('.tl');
  if (!box || box.dataset.drawn !== '1') return null;
  var c = box.querySelector('canvas'), ctx = c.getContext('2d');
  var px = ctx.getImageData(0, 0, c.width, c.height).data, ink = 0;
  for (var i = 3; i < px.length; i += 4 * 7) if (px[i] > 0) ink++;
  return {lanes: +box.dataset.lanes, events: +box.dataset.events,
          visible: +box.dataset.visible, drawMs: +box.dataset.drawMs,
          draws: +box.dataset.draws, ink: ink,
          evidence: box.querySelectorAll('ul.tl-evid li').length,
          rows: d.querySelectorAll('tr.ev').length,
          notes: Array.prototype.map.call(d.querySelectorAll('.tl-note'),
                                          function (n) { return n.dataset.note; })};
})(%s)"""


def css_rules(text):
    """The rules of a style sheet, in order, comments left out: [selector,
    [property, ...]] each; an @-rule is one rule, its properties not
    listed. As much CSS as report.css needs (no ; or { } in values)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    rules, i = [], 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return rules
        sel, depth, i = " ".join(text[i:start].split()), 1, start + 1
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        props = [] if sel.startswith("@") else \
            [d.split(":", 1)[0].strip().lower()
             for d in text[start + 1:i - 1].split(";") if d.strip()]
        rules.append([sel, props])


# What of rules (css_rules()) the page's style sheet lacks: a rule count
# that differs, or declarations that set nothing. A shorthand that a later
# longhand overrides in part ("font: inherit; font-size: 12px") has no
# value of its own; it counts when it set a longhand the rule does not
# declare itself.
CSS_LOST = """(function (want) {
  var sheet = document.styleSheets[0], lost = [];
  if (!sheet) return ['no style sheet'];
  if (sheet.cssRules.length !== want.length)
    lost.push(sheet.cssRules.length + ' rules, not ' + want.length);
  want.forEach(function (w, i) {
    var r = sheet.cssRules[i];
    w[1].forEach(function (p) {
      var set = r && r.style && (r.style.getPropertyValue(p) !== '' ||
        Array.prototype.some.call(r.style, function (k) {
          return k.indexOf(p + '-') === 0 && w[1].indexOf(k) < 0;
        }));
      if (!set) lost.push(w[0] + ' { ' + p + ' } (rule ' + (i + 1) + ')');
    });
  });
  return lost;
})(%s)"""


async def check_assets(page):
    """The page's style sheet as Chromium parsed it: nothing of
    report.css dropped."""
    with open(os.path.join(ASSETS, "report.css"), encoding="utf-8") as f:
        want = css_rules(f.read())
    lost = await page.js(CSS_LOST % json.dumps(want))
    ok(want and lost == [], "report.css: Chromium keeps its %d rules and "
       "every declaration" % len(want), "\n".join(lost or ["(no answer)"]))


async def check_small(page, run_dir, summary):
    path = os.path.join(run_dir, "index.html")
    ready, secs = await page.load(path)
    ok(ready, "small run: the page loads and its script runs (%.1f s)" % secs,
       "\n".join(page.errors()))
    await check_assets(page)
    if not ready:
        return

    ids = await page.js("Array.prototype.map.call(document.querySelectorAll("
                        "'details.case'), function (d) { return d.dataset.case; })")
    want = [c["id"] for c in summary["cases"]]
    ok(ids == want, "small run: every case of summary.json is on the page, "
       "in order", "page %s\nsummary %s" % (ids, want))

    cells = await page.js("""(function () {
      var out = {};
      document.querySelectorAll('table.mx tbody tr').forEach(function (tr) {
        var row = tr.querySelector('th').textContent;
        out[row] = Array.prototype.map.call(tr.querySelectorAll('td'),
          function (td) { return td.dataset.check + '=' + td.dataset.kind +
                                 '=' + td.textContent; });
      });
      return out;
    })()""")
    fault_row = cells.get("duplicate-registration", [])
    ok(any(c.startswith("duplicate_registration=DETECTED=DETECTED")
           for c in fault_row),
       "small run: the matrix shows DETECTED for the injected fault",
       json.dumps(cells, indent=1))
    bad = [c for row in cells.values() for c in row
           if "=MISSED=" in c or "=FALSE ALARM=" in c or "=ERROR=" in c]
    ok("none" in cells and not bad,
       "small run: the matrix has a none row and nothing missed or false",
       json.dumps(cells, indent=1))

    failing = next(c["id"] for c in summary["cases"]
                   if any("duplicate" in f for f in c["inject"] or []))
    await page.js(OPEN_CASE % json.dumps(failing))
    tl = await page.until(TIMELINE % json.dumps(failing), 15)
    ok(tl and tl["lanes"] >= 3 and tl["events"] > 0 and tl["ink"] > 200,
       "small run: opening a failing case draws its timeline (lanes, "
       "marks, pixels)", json.dumps(tl))
    ok(tl and tl["evidence"] > 0 and tl["rows"] > 0,
       "small run: the FAIL's evidence is listed and highlighted",
       json.dumps(tl))

    # Hover over the first lane's label: the tip names the lane.
    rect = await page.js("""(function (id) {
      var d = document.querySelector('details.case[data-case="' + id + '"]');
      var s = d.querySelector('.tl-scroll');
      s.scrollIntoView({block: 'center'});
      var r = s.getBoundingClientRect();
      return {x: r.left + 30, y: r.top + 24 + 9};
    })(%s)""" % json.dumps(failing))
    await page.send("Input.dispatchMouseEvent",
                    {"type": "mouseMoved", "x": rect["x"], "y": rect["y"]})
    tip = await page.until("(function () { var t = document.querySelector("
                           "'.tl-tip'); return t && t.style.display === "
                           "'block' && t.textContent; })()", 5)
    ok(tip and "global" in tip, "small run: hovering a lane shows a tip",
       repr(tip))

    # Clicking an evidence row focuses the timeline (a redraw).
    before = tl["draws"] if tl else 0
    await page.js("""(function (id) {
      var d = document.querySelector('details.case[data-case="' + id + '"]');
      d.querySelector('tr.ev').click();
    })(%s)""" % json.dumps(failing))
    after = await page.until("(function (id, n) { var b = document."
                             "querySelector('details.case[data-case=\"' + "
                             "id + '\"] .tl'); return +b.dataset.draws > n "
                             "&& +b.dataset.draws; })(%s, %d)"
                             % (json.dumps(failing), before), 5)
    ok(after, "small run: clicking an evidence row redraws the timeline")

    shown = await page.js("""(function () {
      var b = document.getElementById('only-fail');
      b.click();
      var n = document.querySelectorAll('details.case:not(.hidden)').length;
      b.click();
      return n;
    })()""")
    want_fail = sum(1 for c in summary["cases"]
                    if any(k.get("verdict") == "FAIL"
                           for k in c["checks"].values()))
    ok(shown == want_fail, "small run: the FAIL filter shows the cases with "
       "a FAIL", "shown %s, want %s" % (shown, want_fail))

    errs = page.errors()
    ok(not errs, "small run: no exception, console error or log error",
       "\n".join(errs))
    reqs = page.requests()
    ok(not reqs, "small run: the page fetches nothing from the network",
       "\n".join(reqs))


async def check_big(page, run_dir, summary):
    path = os.path.join(run_dir, "index.html")
    size = os.path.getsize(path)
    ready, secs = await page.load(path, 60)
    ok(ready and secs < 30, "1,000 clients: the page (%d KB) loads in %.1f s"
       % (size // 1024, secs), "\n".join(page.errors()))
    if not ready:
        return
    case = summary["cases"][0]["id"]
    start = time.time()
    await page.js(OPEN_CASE % json.dumps(case))
    tl = await page.until(TIMELINE % json.dumps(case), 20)
    secs = time.time() - start
    ok(tl and tl["lanes"] >= 300 and secs < 10,
       "1,000 clients: the case opens and draws in %.1f s" % secs,
       json.dumps(tl))
    ok(tl and tl["visible"] < tl["lanes"] and tl["drawMs"] < 1000,
       "1,000 clients: only the lanes in view are drawn, quickly",
       json.dumps(tl))
    # Scroll to the bottom: drawn again, no error.
    n = tl["draws"] if tl else 0
    await page.js("""(function (id) {
      var s = document.querySelector('details.case[data-case="' + id +
                                     '"] .tl-scroll');
      s.scrollTop = s.scrollHeight;
    })(%s)""" % json.dumps(case))
    again = await page.until("(function (id, n) { var b = document."
                             "querySelector('details.case[data-case=\"' + "
                             "id + '\"] .tl'); return +b.dataset.draws > n "
                             "&& Object.assign({}, b.dataset); })(%s, %d)"
                             % (json.dumps(case), n), 5)
    ok(again, "1,000 clients: scrolling the lanes redraws them",
       json.dumps(again))
    errs = page.errors()
    ok(not errs, "1,000 clients: no exception, console error or log error",
       "\n".join(errs))


async def browse(chrome, small_dir, small, big_dir, big):
    page = await open_page(chrome)
    try:
        if small_dir:
            await check_small(page, small_dir, small)
        if big_dir:
            await check_big(page, big_dir, big)
    finally:
        await page.close()


def main():
    chromium = shutil.which(CHROMIUM)
    ok(chromium, "chromium is installed (%s)" % CHROMIUM,
       "headless Chromium is needed to test the HTML report: "
       "apt-get install chromium (scripts/test installs it)")

    rc, out, small_dir = wsrace_run(
        "small", ["--inject", "exposed", "--inject", "none",
                  scen("duplicate-registration"), scen("fallback-ready")])
    ok(rc == 0 and os.path.exists(os.path.join(small_dir or "", "index.html")),
       "small run: exit 0 and an index.html", out)
    small = None
    if rc == 0:
        with open(os.path.join(small_dir, "summary.json")) as f:
            small = json.load(f)

    big_yaml = os.path.join(TMP, "html-thousand.yaml")
    with open(big_yaml, "w") as f:
        f.write(BIG)
    rc, out, big_dir = wsrace_run("big", ["--inject", "none", big_yaml])
    ok(rc == 0 and os.path.exists(os.path.join(big_dir or "", "index.html")),
       "1,000 clients: exit 0 and an index.html", out)
    big = None
    if rc == 0:
        with open(os.path.join(big_dir, "summary.json")) as f:
            big = json.load(f)

    if chromium:
        chrome = Chromium(chromium, TMP)
        try:
            asyncio.get_event_loop().run_until_complete(asyncio.wait_for(
                browse(chrome, small_dir if small else None, small,
                       big_dir if big else None, big), 240))
        except Exception as e:  # noqa: BLE001 - reported as a failure
            ok(False, "the browser session ran to its end",
               "%s: %s" % (type(e).__name__, e))
        finally:
            chrome.stop()
        ok(chrome.proc.poll() is not None and not chrome.group_alive(),
           "chromium is stopped, every process of its group")

    code = tap.finish(results)
    if code == 0 and not os.environ.get("WR_TEST_KEEP"):
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print("# kept %s" % TMP)
    return code


if __name__ == "__main__":
    sys.exit(main())
