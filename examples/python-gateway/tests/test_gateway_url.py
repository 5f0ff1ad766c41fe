#!/usr/bin/python3
"""test_gateway_url.py - the example Python gateway, uncontrolled, as TAP.

usage: test_gateway_url.py WSRACE SCENARIO_DIR

The wire contract seen by a client of our own (subprotocol token, ?session=,
ping, FORMAT_ERROR, UNKNOWN_TYPE, the debug endpoints), then wsrace's
black-box route: `wsrace run --url ... --inject none` on the golden path,
the auth failures and both duplicate-session scenarios, on several seeds,
must be as expected; so must the race scenario beside the gateway (no
runner, no race). SIGTERM and SIGINT stop the gateway with exit 0. Every
wait is bounded; every process started here is stopped here.
"""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "..", "harness", "tests")]
import tap  # noqa: E402
import websockets  # noqa: E402
from pygw import SCALE, PyGateway, mint_token  # noqa: E402

WSRACE, SCEN = sys.argv[1], sys.argv[2]
RACE_YAML = os.path.join(os.path.dirname(HERE), "race.yaml")
SECRET = "py-url-secret"
SEEDS = int(os.environ.get("WSRACE_TEST_SEEDS") or 3)
WRAP = os.environ.get("WSRACE_TEST_WRAPPER", "").split()
TMP = tempfile.mkdtemp(prefix="wsrace-pygw-")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def get(gw, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (gw.port, path),
                                timeout=5 * SCALE) as r:
        return json.load(r)


async def recv(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), 5 * SCALE))


async def wire(gw):
    tok = mint_token(SECRET, "sam")
    async with websockets.connect(
            gw.url + "?session=sub-1", open_timeout=5 * SCALE,
            subprotocols=["wsrace.v1", "jwt." + tok]) as ws:
        m = await recv(ws)
        ok(ws.subprotocol == "wsrace.v1" and
           m["type"] == "connection_established" and
           m["data"] == {"connection_id": "sub-1", "user_id": "sam",
                         "connection_ready": True} and
           set(m) == {"type", "data", "timestamp", "correlation_id"},
           "subprotocol jwt.TOKEN and ?session=: welcomed as sub-1, "
           "answered wsrace.v1", repr((ws.subprotocol, m)))
        r = get(gw, "/debug/ready?id=sub-1")
        ok(r == {"id": "sub-1", "registered": True, "ready": True},
           "/debug/ready of a welcomed key", repr(r))
        keys = [c["key"] for c in get(gw, "/debug/registry")["connections"]]
        ok(keys == ["sub-1"], "/debug/registry lists it", repr(keys))
        await ws.send(json.dumps({"type": "ping", "correlation_id": "p"}))
        m = await recv(ws)
        ok(m["type"] == "pong" and m["correlation_id"] == "p", "ping: pong",
           repr(m))
        for raw, code in (("not json", "FORMAT_ERROR"),
                          ('{"type":"user_message"}', "FORMAT_ERROR"),
                          ('{"type":"dance"}', "UNKNOWN_TYPE")):
            await ws.send(raw)
            m = await recv(ws)
            ok(m["type"] == "error_message" and m["data"]["code"] == code,
               "%r: %s" % (raw, code), repr(m))
        await ws.send(json.dumps({"type": "user_message", "data": {
            "content": "hi"}, "correlation_id": "u"}))
        kinds = [(await recv(ws)) for _ in range(5)]
        ok([k["type"] for k in kinds] == [
            "agent_started", "agent_thinking", "tool_executing",
            "tool_completed", "agent_completed"] and
           all(k["correlation_id"] == "u" for k in kinds) and
           kinds[-1]["data"]["result"] == "echo: hi",
           "user_message: the five agent events in order", repr(kinds))
    r = get(gw, "/debug/ready?id=nobody")
    ok(r == {"id": "nobody", "registered": False, "ready": False},
       "/debug/ready of an absent key", repr(r))
    ok(get(gw, "/healthz")["status"] == "ok", "/healthz")


def wsrace(args, timeout=300):
    return subprocess.run(WRAP + [WSRACE] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout * SCALE)


def test_runs(gw):
    for name in ("10-golden-path", "11-auth-failures",
                 "03-duplicate-registration", "04-duplicate-burst"):
        r = wsrace(["run", "--url", gw.url, "--secret", SECRET, "--inject",
                    "none", "--seed", "1", "--repeat", str(SEEDS),
                    "--time-scale", "%g" % SCALE, "--report-dir",
                    TMP + "/reports", os.path.join(SCEN, name + ".yaml")])
        ok(r.returncode == 0, "wsrace run --url %s, %d seeds: as expected"
           % (name, SEEDS), r.stdout + gw.stderr())
    r = wsrace(["check", RACE_YAML])
    ok(r.returncode == 0, "race.yaml is a valid scenario", r.stdout)
    r = wsrace(["run", "--url", gw.url, "--secret", SECRET, "--inject", "none",
                "--seed", "1", "--repeat", str(SEEDS), "--report-dir",
                TMP + "/reports", RACE_YAML])
    ok(r.returncode == 0, "race.yaml without a runner: no race (%d seeds)"
       % SEEDS, r.stdout)
    rows = get(gw, "/debug/registry")["connections"]
    ok(rows == [], "the registry is empty after every run", repr(rows))


def main():
    for sig in (signal.SIGTERM, signal.SIGINT):
        gw = None
        try:
            gw = PyGateway(secret=SECRET).start()
            if sig == signal.SIGTERM:
                asyncio.run(wire(gw))
                test_runs(gw)
        except Exception as e:  # a broken test is a failed test
            ok(False, "raised %r" % e, gw.stderr() if gw else "")
        if gw is not None:
            rc = gw.stop(sig)
            ok(rc == 0, "%s stops the gateway with exit 0" % sig.name,
               "exit %r\n%s" % (rc, gw.stderr()))
    shutil.rmtree(TMP, ignore_errors=True)
    return tap.finish(results)


if __name__ == "__main__":
    sys.exit(main())
