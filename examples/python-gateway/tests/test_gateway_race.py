#!/usr/bin/python3
"""test_gateway_race.py - the example gateway's race, shown under control.

usage: test_gateway_race.py WSRACE SCENARIO_DIR

The gateway runs with WSRACE_SYNC_CONTROL pointing at a fake runner
(adapters/python/tests/fake_runner.py) that lets every arrival go at once
except registry.check. Two clients connect with one session id; the runner
holds both arrivals at registry.check, then releases one, waits for its
welcome, and releases the other: both clients are welcomed under one
session (the race). The same schedule against --atomic-registry refuses
the second (DUPLICATE_SESSION, close 4409). wsrace itself sees it: `wsrace
run --url` on race.yaml under that schedule fails duplicate_registration,
and nothing else. Under a runner that releases every arrival at once,
the scenarios with no shared session still pass. Without a runner, pairs
of concurrent connections never both get in: the window is real and only
a scheduler reaches it. Every wait is bounded; nothing is left running.
"""
import asyncio
import json
import os
import shutil
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "..", "adapters",
                                   "python", "tests"),
                os.path.join(HERE, "..", "..", "..", "harness", "tests")]
import tap  # noqa: E402
import websockets  # noqa: E402
from fake_runner import FakeRunner  # noqa: E402
from pygw import SCALE, PyGateway, mint_token  # noqa: E402

WSRACE, SCEN = sys.argv[1], sys.argv[2]
WRAP = os.environ.get("WSRACE_TEST_WRAPPER", "").split()  # under a tool
RACE_YAML = os.path.join(os.path.dirname(HERE), "race.yaml")
SECRET = "py-race-secret"
TMP = tempfile.mkdtemp(prefix="wsrace-pyrace-")
SOCK = os.path.join(TMP, "sync.sock")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def registry(gw):
    with urllib.request.urlopen("http://127.0.0.1:%d/debug/registry"
                                % gw.port, timeout=5 * SCALE) as r:
        return json.load(r)["connections"]


async def connect(gw, session):
    return await websockets.connect(
        gw.url, open_timeout=5 * SCALE, close_timeout=2 * SCALE,
        extra_headers={"Authorization": "Bearer " + mint_token(SECRET, "ria"),
                       "X-Session-Id": session})


async def first_message(ws):
    """The first message, and the close code when the gateway closed."""
    msg = json.loads(await asyncio.wait_for(ws.recv(), 5 * SCALE))
    if msg["type"] == "error_message":
        await asyncio.wait_for(ws.wait_closed(), 5 * SCALE)
    return msg, ws.close_code


async def empty_registry(gw):
    for _ in range(int(50 * SCALE)):
        rows = await asyncio.to_thread(registry, gw)
        if not rows:
            return True
        await asyncio.sleep(0.1)
    return False


async def held_schedule(atomic):
    """Holds two registry.check arrivals of one session, then lets them go
    one after the other; returns what each client saw first."""
    what = "with --atomic-registry" if atomic else "the race"
    runner = await FakeRunner(
        SOCK, auto=lambda m: m.get("point") != "registry.check").start()
    gw = PyGateway(secret=SECRET, sync_control=SOCK,
                   extra=["--atomic-registry"] if atomic else [])
    clients = []
    try:
        await asyncio.to_thread(gw.start)
        clients = [await connect(gw, "twin"), await connect(gw, "twin")]
        held = await runner.arrived(2, "registry.check")
        ok({a.msg["session"] for a in held} == {"twin"} and
           held[0].msg["conn"] != held[1].msg["conn"],
           "%s: two connections of session twin held at registry.check" % what,
           repr(held))
        pending = {asyncio.ensure_future(first_message(c)): c for c in clients}
        await runner.release(held[0])
        done, _ = await asyncio.wait(pending, timeout=5 * SCALE,
                                     return_when=asyncio.FIRST_COMPLETED)
        first = [t.result() for t in done]
        await runner.release(held[1])
        second = [await t for t in pending if t not in done]
        seen = first + second
        if not atomic:
            ok(len(seen) == 2 and all(m["type"] == "connection_established"
                                      for m, _ in seen) and
               all(m["data"]["connection_id"] == "twin" for m, _ in seen),
               "the race: both connections welcomed under session twin",
               repr(seen))
        else:
            ok(len(seen) == 2 and seen[0][0]["type"] ==
               "connection_established" and seen[1][0]["type"] ==
               "error_message" and seen[1][0]["data"]["code"] ==
               "DUPLICATE_SESSION" and seen[1][1] == 4409,
               "the fix: the second is refused (DUPLICATE_SESSION, 4409)",
               repr(seen))
        for c in clients:
            await c.close()
        ok(await empty_registry(gw), "%s: the registry is empty after the "
           "clients closed" % what, repr(registry(gw)))
        ok(not runner.sent("timeout"), "%s: no arrival timed out" % what,
           repr(runner.sent("timeout")))
    finally:
        for c in clients:
            await c.close()
        rc = await asyncio.to_thread(gw.stop)
        ok(rc == 0, "%s: the gateway stops with exit 0" % what,
           "exit %r\n%s" % (rc, gw.stderr() if gw.proc else ""))
        await runner.stop()


async def wsrace_sees_it():
    """wsrace's own black-box check names the race: `wsrace run --url` on
    race.yaml while the runner here holds both registry.check arrivals and
    lets them go one after the other."""
    runner = await FakeRunner(
        SOCK, auto=lambda m: m.get("point") != "registry.check").start()
    gw = PyGateway(secret=SECRET, sync_control=SOCK)
    rd, run = os.path.join(TMP, "reports"), None
    try:
        await asyncio.to_thread(gw.start)
        run = await asyncio.create_subprocess_exec(
            *WRAP, WSRACE, "run", "--url", gw.url, "--secret", SECRET,
            "--inject", "none", "--time-scale", "%g" % SCALE,
            "--report-dir", rd, RACE_YAML, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        held = await runner.arrived(2, "registry.check", 30 * SCALE)
        await runner.release(held[0])
        first = held[0].msg["conn"]
        await runner.wait_for(lambda: any(
            m.get("point") == "machine.ready" and m.get("conn") == first
            for _, m in runner.lines), 10 * SCALE)
        await runner.release(held[1])
        out, _ = await asyncio.wait_for(run.communicate(), 120 * SCALE)
        out = out.decode(errors="replace")
        ok(run.returncode == 1, "wsrace run --url race.yaml under the "
           "schedule: exit 1", out)
        with open(os.path.join(rd, "latest", "summary.json")) as f:
            checks = json.load(f)["cases"][0]["checks"]
        dup = checks["duplicate_registration"]
        ok(dup["verdict"] == "FAIL" and "twin" in json.dumps(dup),
           "wsrace's duplicate_registration check fails on key twin",
           json.dumps(dup)[:1500])
        others = {k: v["verdict"] for k, v in checks.items()
                  if v["verdict"] == "FAIL" and k != "duplicate_registration"}
        ok(not others, "and no other check fails", repr(others))
    finally:
        if run is not None and run.returncode is None:
            run.kill()
            await run.wait()
        rc = await asyncio.to_thread(gw.stop)
        ok(rc == 0, "wsrace's run: the gateway stops with exit 0", repr(rc))
        await runner.stop()


async def released_at_once():
    """Under a runner that lets every arrival go at once, every sync point
    yields: the scenarios where no two live connections share a session
    still pass, through one runner connection and no timeout."""
    runner = await FakeRunner(SOCK, auto=lambda m: True).start()
    gw = PyGateway(secret=SECRET, sync_control=SOCK)
    try:
        await asyncio.to_thread(gw.start)
        for name in ("10-golden-path", "11-auth-failures",
                     "03-duplicate-registration"):
            run = await asyncio.create_subprocess_exec(
                *WRAP, WSRACE, "run", "--url", gw.url, "--secret", SECRET,
                "--inject", "none", "--time-scale", "%g" % SCALE,
                "--report-dir", os.path.join(TMP, "reports"),
                os.path.join(SCEN, name + ".yaml"),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
            try:
                out, _ = await asyncio.wait_for(run.communicate(),
                                                300 * SCALE)
            finally:
                if run.returncode is None:
                    run.kill()
                    await run.wait()
            ok(run.returncode == 0, "every arrival released at once: %s "
               "as expected" % name, out.decode(errors="replace"))
        ok(len(runner.conns) == 1 and len(runner.sent("arrive")) > 1000 and
           not runner.sent("timeout"),
           "one runner connection, every arrival reported, none timed out",
           "%d connections, %d arrivals, %d timeouts" % (
               len(runner.conns), len(runner.sent("arrive")),
               len(runner.sent("timeout"))))
    finally:
        rc = await asyncio.to_thread(gw.stop)
        ok(rc == 0, "released at once: the gateway stops with exit 0",
           repr(rc))
        await runner.stop()


async def uncontrolled(pairs=20):
    """Without a runner, concurrent pairs with one session: one gets in."""
    gw = PyGateway(secret=SECRET)
    bad = []
    try:
        await asyncio.to_thread(gw.start)
        for i in range(pairs):
            cs = await asyncio.gather(connect(gw, "pair-%d" % i),
                                      connect(gw, "pair-%d" % i))
            seen = await asyncio.gather(*(first_message(c) for c in cs))
            kinds = sorted(m["type"] for m, _ in seen)
            if kinds != ["connection_established", "error_message"]:
                bad.append(seen)
            await asyncio.gather(*(c.close() for c in cs))
        ok(not bad, "no runner: %d concurrent pairs, one welcomed and one "
           "refused each time" % pairs, repr(bad[:2]))
    finally:
        rc = await asyncio.to_thread(gw.stop)
        ok(rc == 0, "no runner: the gateway stops with exit 0", repr(rc))


def main():
    for t in (lambda: held_schedule(False), lambda: held_schedule(True),
              wsrace_sees_it, released_at_once, uncontrolled):
        try:
            asyncio.run(asyncio.wait_for(t(), 60 * SCALE))
        except Exception as e:  # a broken test is a failed test
            ok(False, "raised %r" % e)
    shutil.rmtree(TMP, ignore_errors=True)
    return tap.finish(results)


if __name__ == "__main__":
    sys.exit(main())
