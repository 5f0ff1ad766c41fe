"""fake_runner.py - the runner's side of docs/sync-control.md, for tests.

A Unix-socket server on the test's event loop: it answers each target's
hello (or a hello the test chose), records every line it gets, and parks
every arrival until the test releases it, unless `auto(msg)` says to
release it at once. Every wait here is bounded.
"""
import asyncio
import json
import os


class Arrival:
    def __init__(self, conn, msg):
        self.conn, self.msg = conn, msg
        self.id, self.point = msg.get("id"), msg.get("point")

    def __repr__(self):
        return "Arrival(%r)" % self.msg


class FakeRunner:
    def __init__(self, path, hello=None, auto=None):
        self.path = path
        self.hello = hello if hello is not None else {
            "op": "hello", "protocol": "wsrace-sync", "version": 1}
        self.auto = auto or (lambda msg: False)
        self.conns = []     # one writer per target connection
        self.hellos = []    # the targets' hellos
        self.lines = []     # (connection index, message) of every line
        self.arrivals = []  # parked arrivals, oldest first
        self.changed = asyncio.Event()
        self.server = None

    async def start(self):
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.server = await asyncio.start_unix_server(self._serve, self.path)
        os.chmod(self.path, 0o600)
        return self

    async def _serve(self, reader, writer):
        n = len(self.conns)
        self.conns.append(writer)
        try:
            while True:
                line = await reader.readline()
                if not line.endswith(b"\n"):
                    break
                msg = json.loads(line)
                self.lines.append((n, msg))
                if msg.get("op") == "hello":
                    self.hellos.append(msg)
                    writer.write(json.dumps(self.hello).encode() + b"\n")
                elif msg.get("op") == "arrive":
                    if self.auto(msg):
                        writer.write(b'{"op":"release","id":%d}\n' % msg["id"])
                    else:
                        self.arrivals.append(Arrival(n, msg))
                elif msg.get("op") == "timeout":
                    self.arrivals = [a for a in self.arrivals
                                     if (a.conn, a.id) != (n, msg.get("id"))]
                self.changed.set()
                await writer.drain()
        except (OSError, ValueError):
            pass
        finally:
            writer.close()
            self.changed.set()

    async def wait_for(self, cond, timeout=10.0):
        """Waits until cond() is true; raises TimeoutError after timeout."""
        async with asyncio.timeout(timeout):
            while not cond():
                self.changed.clear()
                await self.changed.wait()
        return cond()

    async def arrived(self, n, point=None, timeout=10.0):
        """Waits for n parked arrivals (at point); returns them."""
        def match():
            return [a for a in self.arrivals if point in (None, a.point)]
        await self.wait_for(lambda: len(match()) >= n, timeout)
        return match()[:n]

    async def release(self, arrival, **extra):
        self.arrivals.remove(arrival)
        msg = dict({"op": "release", "id": arrival.id}, **extra)
        w = self.conns[arrival.conn]
        w.write(json.dumps(msg).encode() + b"\n")
        await w.drain()

    def sent(self, op):
        return [m for _, m in self.lines if m.get("op") == op]

    async def close_connections(self):
        for w in self.conns:
            w.close()

    async def stop(self):
        await self.close_connections()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if os.path.exists(self.path):
            os.unlink(self.path)
