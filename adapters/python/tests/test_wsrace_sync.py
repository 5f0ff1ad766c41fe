#!/usr/bin/python3
"""test_wsrace_sync.py - the Python sync-control adapter against a fake
runner (docs/sync-control.md), as TAP.

usage: test_wsrace_sync.py

The hello exchange, arrivals released in order and out of order, one
connection shared by concurrent first calls, the adapter's own timeout,
a runner that goes away, a version or protocol mismatch, and the no-op
without WSRACE_SYNC_CONTROL or a listener. Every wait is bounded.
"""
import asyncio
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE,
                os.path.join(HERE, "..", "..", "..", "harness", "tests")]
import tap  # noqa: E402
import wsrace_sync  # noqa: E402
from fake_runner import FakeRunner  # noqa: E402

TMP = tempfile.mkdtemp(prefix="wsrace-pysync-")
SOCK = os.path.join(TMP, "sync.sock")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def fresh(**settings):
    """The next sync point makes a new connection with these settings."""
    wsrace_sync._settings.clear()
    wsrace_sync.configure(**settings)


async def yielded_during(coro):
    """Runs coro; whether another task got to run meanwhile."""
    ran = []

    async def other():
        ran.append(1)

    t = asyncio.create_task(other())
    await coro
    during = bool(ran)
    await t
    return during


async def t_noop():
    os.environ.pop("WSRACE_SYNC_CONTROL", None)
    fresh()
    runner = await FakeRunner(SOCK).start()
    start = time.monotonic()
    y = await yielded_during(wsrace_sync.sync_point("registry.check", key="k"))
    ok(not y and time.monotonic() - start < 0.05 and not runner.conns,
       "no WSRACE_SYNC_CONTROL: returns at once, never yields, no I/O")
    await runner.stop()
    fresh(path=os.path.join(TMP, "nobody.sock"))
    start = time.monotonic()
    y = await yielded_during(wsrace_sync.sync_point("auth.done"))
    await wsrace_sync.sync_point("auth.done")
    ok(not y and time.monotonic() - start < 0.05,
       "nobody listening: returns at once, never yields")


async def t_hello():
    fresh(path=SOCK, name="unit", workers=3)
    runner = await FakeRunner(SOCK, auto=lambda m: True).start()
    await wsrace_sync.sync_point("accept.registered", key="pre-1", conn=1,
                                 session="s")
    h = runner.hellos[0] if runner.hellos else {}
    ok(h.get("protocol") == "wsrace-sync" and h.get("version") == 1 and
       h.get("pid") == os.getpid() and h.get("name") == "unit" and
       h.get("workers") == 3, "hello: protocol, version, pid, name, workers",
       repr(h))
    ok(runner.lines and runner.lines[0][1].get("op") == "hello",
       "hello: the first line of the connection", repr(runner.lines))
    a = runner.sent("arrive")
    ok(len(a) == 1 and a[0]["point"] == "accept.registered" and
       a[0]["key"] == "pre-1" and a[0]["conn"] == 1 and
       a[0]["session"] == "s" and isinstance(a[0]["id"], int) and
       a[0].get("thread"), "arrive: point, id, conn, key, session, thread",
       repr(a))
    await runner.stop()


async def t_order(reverse):
    fresh(path=SOCK)
    runner = await FakeRunner(SOCK).start()
    done = []

    async def task(i):
        await wsrace_sync.sync_point("message.gate", conn=i)
        done.append(i)

    tasks = [asyncio.create_task(task(i)) for i in range(4)]
    held = await runner.arrived(4)
    ok(len(runner.conns) == 1 and len({a.id for a in held}) == 4,
       "concurrent first calls share one connection, ids are unique",
       "%d connections, ids %s" % (len(runner.conns), [a.id for a in held]))
    await asyncio.sleep(0.05)
    ok(not done, "arrivals wait for their release", repr(done))
    order = [held[i].msg["conn"] for i in ([2, 0, 3, 1] if reverse
                                            else range(4))]
    for a in sorted(held, key=lambda a: order.index(a.msg["conn"])):
        await runner.release(a, ignored_member=True)
        await asyncio.wait_for(asyncio.shield(
            tasks[a.msg["conn"]]), 5)
    ok(done == order, "released %s: they go on in the runner's order" %
       ("out of order" if reverse else "in order"), "%s vs %s" % (done, order))
    await runner.stop()


async def t_ignored():
    fresh(path=SOCK)
    runner = await FakeRunner(SOCK).start()
    t = asyncio.create_task(wsrace_sync.sync_point("close.begin"))
    (a,) = await runner.arrived(1)
    w = runner.conns[0]
    w.write(b'{"op":"shuffle","id":%d}\n[1,2]\nnot json\n'
            b'{"op":"release","id":true}\n{"op":"release","id":999}\n' % a.id)
    await asyncio.sleep(0.1)
    ok(not t.done(), "unknown ops, odd lines and unknown ids release nothing")
    await runner.release(a)
    await asyncio.wait_for(t, 5)
    ok(t.done(), "then the real release does")
    await runner.stop()


async def t_timeout():
    fresh(path=SOCK, timeout=0.3)
    runner = await FakeRunner(SOCK).start()
    start = time.monotonic()
    await asyncio.wait_for(wsrace_sync.sync_point("swap.unregistered"), 5)
    took = time.monotonic() - start
    await runner.wait_for(lambda: runner.sent("timeout"), 5)
    arrive, timeout = runner.sent("arrive")[0], runner.sent("timeout")[0]
    ok(0.25 < took < 2,
       "never released: goes on after its bound (%.2fs)" % took)
    ok(timeout == {"op": "timeout", "id": arrive["id"]},
       "and says so: {op: timeout, id}", repr(timeout))
    t = asyncio.create_task(wsrace_sync.sync_point("close.begin"))
    (a,) = await runner.arrived(1, "close.begin")
    await runner.release(a)
    await asyncio.wait_for(t, 5)
    ok(len(runner.conns) == 1, "the connection stays in use after a timeout")
    await runner.stop()


async def t_env_timeout():
    fresh(path=SOCK)
    os.environ["WSRACE_SYNC_TIMEOUT"] = "0.2"
    runner = await FakeRunner(SOCK).start()
    start = time.monotonic()
    await asyncio.wait_for(wsrace_sync.sync_point("close.begin"), 5)
    took = time.monotonic() - start
    ok(0.15 < took < 1.5, "WSRACE_SYNC_TIMEOUT sets the bound (%.2fs)" % took)
    await runner.stop()
    os.environ["WSRACE_SYNC_TIMEOUT"] = "soon"
    fresh(path=SOCK)
    runner = await FakeRunner(SOCK, auto=lambda m: True).start()
    await asyncio.wait_for(wsrace_sync.sync_point("close.begin"), 5)
    ok(wsrace_sync._client.timeout == 10 and runner.sent("arrive"),
       "a bad WSRACE_SYNC_TIMEOUT: the default bound, still controlled")
    del os.environ["WSRACE_SYNC_TIMEOUT"]
    await runner.stop()


async def t_runner_gone():
    fresh(path=SOCK)
    runner = await FakeRunner(SOCK).start()
    tasks = [asyncio.create_task(wsrace_sync.sync_point("auth.done", conn=i))
             for i in range(3)]
    await runner.arrived(3)
    start = time.monotonic()
    await runner.close_connections()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    ok(time.monotonic() - start < 1,
       "runner gone: every waiter is released at once")
    await runner.stop()  # the runner goes: its socket file with it
    start = time.monotonic()
    y = await yielded_during(wsrace_sync.sync_point("auth.done"))
    ok(not y and time.monotonic() - start < 0.5,
       "then uncontrolled: no wait, no yield")
    # The next runner (a replay after an exploration) is found at once.
    runner2 = await FakeRunner(SOCK, auto=lambda m: True).start()
    await asyncio.wait_for(wsrace_sync.sync_point("auth.done", conn=7), 5)
    ok(runner2.sent("arrive") and len(runner2.conns) == 1,
       "a new runner at the same path: the next sync point reports to it",
       repr(runner2.lines))
    await runner2.stop()


async def t_mismatch(hello, what):
    fresh(path=SOCK)
    runner = await FakeRunner(SOCK, hello=hello).start()
    start = time.monotonic()
    await asyncio.wait_for(wsrace_sync.sync_point("registry.check"), 5)
    await asyncio.wait_for(wsrace_sync.sync_point("registry.check"), 5)
    await asyncio.sleep(0.1)
    ok(time.monotonic() - start < 1 and not runner.sent("arrive") and
       len(runner.conns) == 1,
       "%s: the target closes and runs uncontrolled" % what,
       repr(runner.lines))
    await runner.stop()


def main():
    tests = [t_noop, t_hello, lambda: t_order(False), lambda: t_order(True),
             t_ignored, t_timeout, t_env_timeout, t_runner_gone,
             lambda: t_mismatch({"op": "hello", "protocol": "wsrace-sync",
                                 "version": 2}, "a higher version"),
             lambda: t_mismatch({"op": "hello", "protocol": "other",
                                 "version": 1}, "another protocol")]
    for t in tests:
        try:
            asyncio.run(asyncio.wait_for(t(), 30))
        except Exception as e:  # a broken test is a failed test
            ok(False, "%s raised %r" % (getattr(t, "__name__", t), e))
    shutil.rmtree(TMP, ignore_errors=True)
    return tap.finish(results)


if __name__ == "__main__":
    sys.exit(main())
