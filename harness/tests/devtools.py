"""devtools.py - headless Chromium driven through the DevTools protocol,
for the tests that need a real browser (the HTML report, a WebSocket with a
long token). Debian's chromium and python3-websockets (asyncio client).

Chromium runs in its own process group, with its profile in a directory
the caller gives; stop() ends the whole group. Every wait is bounded.
"""
import asyncio
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request


class Chromium:
    """A headless Chromium in its own process group, and its profile."""

    def __init__(self, path, tmpdir):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=tmpdir)
        self.proc = subprocess.Popen(
            [path, "--headless=new", "--remote-debugging-port=0",
             "--user-data-dir=" + self.profile, "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--window-size=1366,768", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.port = None

    def wait_port(self, bound=30):
        f = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + bound
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited with %s"
                                   % self.proc.returncode)
            try:
                with open(f) as fh:
                    first = fh.readline().strip()
                if first.isdigit():
                    self.port = int(first)
                    return self.port
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("no DevToolsActivePort within %d s" % bound)

    def page_ws(self):
        """The DevTools WebSocket URL of a new page target."""
        req = urllib.request.Request(
            "http://127.0.0.1:%d/json/new?about:blank" % self.port,
            method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)["webSocketDebuggerUrl"]

    def group_alive(self):
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self):
        """SIGTERM to the whole group, SIGKILL to what is left after 5 s;
        returns once no process of the group is left (bounded)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            deadline = time.time() + 5
            while time.time() < deadline:
                self.proc.poll()
                if self.proc.returncode is not None and \
                        not self.group_alive():
                    return
                time.sleep(0.05)


class Page:
    """One DevTools session on a page: commands, and every event kept."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.events = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif "method" in msg:
                self.events.append(msg)

    async def send(self, method, params=None, bound=30):
        self.next_id += 1
        fut = asyncio.get_event_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                       "params": params or {}}))
        msg = await asyncio.wait_for(fut, bound)
        if "error" in msg:
            raise RuntimeError("%s: %s" % (method, msg["error"]))
        return msg.get("result", {})

    async def js(self, expr, bound=30):
        """The value of a JS expression (promises awaited)."""
        r = await self.send("Runtime.evaluate",
                            {"expression": expr, "returnByValue": True,
                             "awaitPromise": True}, bound)
        if "exceptionDetails" in r:
            raise RuntimeError("JS %s: %s" % (expr[:60],
                                              r["exceptionDetails"]))
        return r["result"].get("value")

    async def until(self, expr, bound=20):
        """Polls expr until truthy; returns its value or None at the
        bound."""
        deadline = time.time() + bound
        while time.time() < deadline:
            v = await self.js(expr)
            if v:
                return v
            await asyncio.sleep(0.05)
        return None

    async def load(self, path, bound=60):
        """Opens path; returns (ready, seconds). ready is true once the
        page's script has set up the page, false at the bound or as soon
        as the page throws (a script with a syntax error never gets
        there)."""
        self.events.clear()
        start = time.time()
        await self.send("Page.navigate", {"url": "file://" + path})
        while time.time() < start + bound:
            if await self.js("!!document.body && "
                             "document.body.dataset.ready === '1'"):
                return True, time.time() - start
            if any(e["method"] == "Runtime.exceptionThrown"
                   for e in self.events):
                break
            await asyncio.sleep(0.05)
        return False, time.time() - start

    def errors(self):
        """Exceptions, console errors and log errors seen so far."""
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: %s" % json.dumps(
                    p.get("exceptionDetails", {}))[:500])
            elif m == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append("console.error: %s" % json.dumps(p.get("args"))[:500])
            elif m == "Log.entryAdded" and \
                    p.get("entry", {}).get("level") == "error":
                out.append("log: %s" % p["entry"].get("text"))
        return out

    def requests(self):
        """URLs requested that are not the page's own file or data:."""
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent" and
                not e["params"]["request"]["url"].startswith(("file:",
                                                              "data:"))]

    async def close(self):
        self.reader.cancel()
        await self.ws.close()




async def open_page(chrome):
    """A Page on a new target of chrome, with Runtime, Log, Page and
    Network events on."""
    import websockets  # Debian's python3-websockets (asyncio client)

    chrome.wait_port()
    url = chrome.page_ws()
    ws = await websockets.connect(url, max_size=None, ping_interval=None)
    page = Page(ws)
    for domain in ("Runtime", "Log", "Page", "Network"):
        await page.send(domain + ".enable")
    return page
