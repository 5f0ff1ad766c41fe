#!/usr/bin/python3
"""browser_token.py - a real browser with a realistic token, as TAP.

usage: browser_token.py GATEWAY CHROMIUM DEVTOOLS_DIR

Identity providers issue tokens of 300 to 1,500 bytes, and the only
header a browser can set on a WebSocket is the subprotocol list, which
libwebsockets 4.1.6 refuses over 127 bytes. Headless Chromium (through
the DevTools protocol, DEVTOOLS_DIR/devtools.py) opens a page of the
gateway's origin, shows that `new WebSocket(url, ["wsrace.v1",
"jwt." + T])` with a 1 KB token still fails, then does what a web app
does: POST /ticket with `Authorization: Bearer T`, connect with the
ticket (query string, then subprotocol), and go through the welcome and
one user_message with its five agent events, for a user id that is an
e-mail address.

Chromium missing is a failure, not a skip: scripts/test installs it.
Every wait is bounded; the gateway and Chromium are stopped at the end.
"""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

GATEWAY, CHROMIUM, DEVTOOLS = sys.argv[1:4]
sys.path.insert(0, DEVTOOLS)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import Chromium, open_page  # noqa: E402
import wsraw  # noqa: E402

SECRET = "browser-secret"
USER = "user-0123456789abcdef0123456789@example.com"
TMP = tempfile.mkdtemp(prefix="wsrace-browser-")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def long_token():
    """A 1 KB token with the claims an identity provider adds."""
    exp = int(time.time()) + 600
    claims = {"sub": USER, "exp": exp, "iat": exp - 600,
              "iss": "https://login.example.com/tenant/0123456789abcdef",
              "aud": "wsrace-chat", "name": "Example User",
              "email": USER, "roles": [], "pad": ""}
    while len(wsraw.mint(SECRET, claims)) < 1024:
        claims["pad"] += "x"
    return wsraw.mint(SECRET, claims)


# The page's part: what a web app does with its token. Each returns a
# JSON-able record of what happened, within its own bound.
SESSION = r"""(async function (token, how) {
  var out = {types: [], how: how};
  var url = 'ws://' + location.host + '/ws', protocols = ['wsrace.v1'];
  if (how === 'jwt') {
    protocols.push('jwt.' + token);
  } else {
    var r = await fetch('/ticket', {method: 'POST',
                                    headers: {Authorization: 'Bearer ' + token}});
    out.ticketStatus = r.status;
    var t = await r.json();
    out.expiresIn = t.expires_in;
    if (how === 'query')
      url += '?ticket=' + encodeURIComponent(t.ticket);
    else
      protocols.push('ticket.' + t.ticket);
  }
  return await new Promise(function (resolve) {
    var ws = new WebSocket(url, protocols);
    var timer = setTimeout(function () { out.timeout = true; resolve(out); },
                           15000);
    ws.onopen = function () { out.protocol = ws.protocol; };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      out.types.push(m.type);
      if (m.type === 'connection_established') {
        out.welcome = m.data;
        ws.send(JSON.stringify({type: 'user_message',
                                data: {content: 'hello from a browser'},
                                correlation_id: 'b1'}));
      }
      if (m.type === 'agent_completed') {
        out.completed = m.correlation_id;
        out.result = m.data.result;
        ws.close(1000);
      }
    };
    ws.onclose = function (e) {
      clearTimeout(timer);
      out.close = e.code;
      resolve(out);
    };
  });
})(%s, %s)"""

EVENTS = ["connection_established", "agent_started", "agent_thinking",
          "tool_executing", "tool_completed", "agent_completed"]


async def browse(chrome, port, token):
    page = await open_page(chrome)
    try:
        await page.send("Page.navigate",
                        {"url": "http://127.0.0.1:%d/healthz" % port})
        ready = await page.until("document.readyState === 'complete' && "
                                 "location.port === '%d'" % port, 30)
        ok(ready, "the page is on the gateway's origin")
        jwt = await page.js(SESSION % (json.dumps(token), '"jwt"'), 30)
        ok(jwt and not jwt.get("welcome") and jwt.get("close") == 1006,
           "jwt.<%d-byte token> as a subprotocol: refused by "
           "libwebsockets (1006), as reported" % len(token), json.dumps(jwt))
        for how in ("query", "subprotocol"):
            got = await page.js(SESSION % (json.dumps(token),
                                           json.dumps(how)), 30)
            ok(got and got.get("ticketStatus") == 200 and
               got.get("protocol") == "wsrace.v1",
               "%s: POST /ticket with the %d-byte token, then the upgrade "
               "(wsrace.v1)" % (how, len(token)), json.dumps(got))
            ok(got and got.get("welcome", {}).get("user_id") == USER and
               got["welcome"].get("connection_ready") is True,
               "%s: welcomed as %s" % (how, USER), json.dumps(got))
            ok(got and got.get("types") == EVENTS and
               got.get("completed") == "b1" and
               got.get("result") == "echo: hello from a browser" and
               got.get("close") == 1000,
               "%s: one user_message and its five agent events, then a "
               "clean close" % how, json.dumps(got))
        # The jwt attempt's failure is logged; a page of JSON has no
        # favicon, and the browser asks for one (404).
        errors = [e for e in page.errors() if "1006" not in e and
                  "WebSocket" not in e and "status of 404" not in e]
        ok(not errors, "no other exception or error on the page",
           "\n".join(errors))
    finally:
        await page.close()


def main():
    chromium = shutil.which(CHROMIUM)
    ok(chromium, "chromium is installed (%s)" % CHROMIUM,
       "apt-get install chromium (scripts/test installs it)")
    gw = subprocess.Popen([GATEWAY, "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True,
                          env={**os.environ, "WSRACE_SECRET": SECRET})
    line = gw.stdout.readline()
    port = int(line.split(":")[-1]) if line.startswith("listening") else None
    ok(port, "the gateway listens", line)
    token = long_token()
    if chromium and port:
        chrome = Chromium(chromium, TMP)
        try:
            asyncio.get_event_loop().run_until_complete(
                asyncio.wait_for(browse(chrome, port, token), 120))
        except Exception as e:  # noqa: BLE001 - reported as a failure
            ok(False, "the browser session ran to its end",
               "%s: %s" % (type(e).__name__, e))
        finally:
            chrome.stop()
        ok(chrome.proc.poll() is not None and not chrome.group_alive(),
           "chromium is stopped, every process of its group")
    gw.send_signal(signal.SIGTERM)
    try:
        gw.wait(timeout=20)
    except subprocess.TimeoutExpired:
        gw.kill()
        gw.wait()
    ok(gw.returncode == 0, "the gateway stops cleanly")
    shutil.rmtree(TMP, ignore_errors=True)
    print("1..%d" % len(results))
    bad = 0
    for i, (good, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if not good:
            bad += 1
            for line in str(detail).splitlines()[-20:]:
                print("#   " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
