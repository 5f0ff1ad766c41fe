"""wsrace_sync.py - an asyncio gateway's race windows, scheduled by wsrace.

Speaks docs/sync-control.md: a task that reaches a sync point reports its
arrival to the runner and waits for its release, so the runner, not the
event loop, decides in which order concurrent connections pass a window.
Instrument a gateway with one import and one await per window:

    from wsrace_sync import sync_point

    if await presence.is_live(session):                    # the check
        return await refuse(conn)
    await sync_point("registry.check", key=session, conn=conn.id,
                     session=session)                      # the window
    registry[session] = conn                               # the insert

and start it with WSRACE_SYNC_CONTROL=PATH, the socket a runner listens on
(`wsrace explore --url ws://HOST:PORT/ws --sync-control PATH`), or call
configure(path=PATH) first. Without one, sync_point returns at once and
never yields to the loop: instrumented code runs as before. Without a
socket file a sync point costs one stat(); a new socket file (a new
runner) is tried at once, one nobody listens on again at most once a
second; a runner that goes away releases every waiter, and the gateway
runs on uncontrolled until the next one. Each wait is
bounded by WSRACE_SYNC_TIMEOUT seconds (default 10). Standard library only.
"""
import asyncio
import json
import os
import sys
import time

PROTOCOL, VERSION, MAX_LINE, RETRY_S = "wsrace-sync", 1, 4096, 1.0


class SyncClient:
    """The process's connection to the runner, for one event loop."""

    def __init__(self, path=None, name=None, workers=None, timeout=None):
        env = os.environ.get
        self.path = env("WSRACE_SYNC_CONTROL") if path is None else path
        self.name = name or os.path.basename(sys.argv[0] or "") or "python"
        self.workers = workers
        try:
            self.timeout = float(timeout or env("WSRACE_SYNC_TIMEOUT") or 10)
        except ValueError:  # a bad override: the default bound
            self.timeout = 10.0
        self.off = not self.path  # True: every sync point returns at once
        self.loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()  # concurrent first calls share a connect
        self._writer = self._reader_task = None
        self._waiters = {}  # arrival id -> the future its release resolves
        self._next_id, self._retry_at, self._failed_on = 0, 0.0, None

    async def sync_point(self, point, key="", conn=0, session=""):
        """Reports an arrival at point; returns once released (bounded)."""
        if self.off or (self._writer is None and not await self._connect()):
            return
        self._next_id += 1
        aid, fut = self._next_id, self.loop.create_future()
        self._waiters[aid] = fut
        task = asyncio.current_task()
        try:
            async with asyncio.timeout(self.timeout):
                self._writer.write(line({
                    "op": "arrive", "id": aid, "point": point, "conn": conn,
                    "key": key, "session": session,
                    "thread": task.get_name() if task else ""}))
                await self._writer.drain()
                await fut
        except TimeoutError:  # our own bound: go on, and say so
            self._send({"op": "timeout", "id": aid})
        except asyncio.CancelledError:  # the task is gone: nothing waits
            self._send({"op": "timeout", "id": aid})
            raise
        except (OSError, RuntimeError):  # the runner is gone
            self._drop()
        finally:
            self._waiters.pop(aid, None)

    def _send(self, msg):
        if self._writer is not None and not self.off:
            self._writer.write(line(msg))

    async def _connect(self):
        """Connects and exchanges hellos; False: this call is a no-op."""
        async with self._lock:
            if self._writer is not None or self.off:
                return not self.off
            try:  # a new runner makes a new socket file: try it at once
                st = os.stat(self.path)
                seen = (st.st_ino, st.st_mtime_ns)
            except OSError:  # nobody listens: a stat, nothing more
                return False
            if seen == self._failed_on and time.monotonic() < self._retry_at:
                return False
            try:
                reader, writer = await asyncio.open_unix_connection(
                    self.path, limit=2 * MAX_LINE)
            except OSError:  # a socket file nobody listens on (yet)
                self._retry_at = time.monotonic() + RETRY_S
                self._failed_on = seen
                return False
            hello = {"op": "hello", "protocol": PROTOCOL, "version": VERSION,
                     "pid": os.getpid(), "name": self.name}
            if self.workers:
                hello["workers"] = self.workers
            answer = {}
            try:
                async with asyncio.timeout(self.timeout):
                    writer.write(line(hello))
                    await writer.drain()
                    while answer.get("op") != "hello":  # others are ignored
                        answer = parse(await reader.readline(), eof=True)
            except (OSError, EOFError, ValueError, TimeoutError):
                answer = {}
            version = answer.get("version")
            if answer.get("protocol") != PROTOCOL or \
                    type(version) is not int or not 1 <= version <= VERSION:
                writer.close()  # a mismatch, or no answer: uncontrolled
                self.off = True
                return False
            self._writer = writer
            self._reader_task = self.loop.create_task(self._read(reader))
            return True

    async def _read(self, reader):
        """Hands each release to its waiter until the runner goes."""
        try:
            while True:
                msg = parse(await reader.readline(), eof=True)
                aid = msg.get("id")
                if msg.get("op") == "release" and type(aid) is int:
                    fut = self._waiters.get(aid)
                    if fut is not None and not fut.done():
                        fut.set_result(None)
        except (OSError, EOFError, ValueError):  # gone, or a line too long
            pass
        finally:
            self._drop()

    def _drop(self):
        """The connection is lost: every waiter goes on; the next runner
        (a new socket file) is connected at the next sync point."""
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_result(None)
        if self._writer is not None:
            self._writer.close()
        self._writer = self._reader_task = None


def line(msg):
    """One message as one line; over MAX_LINE, the required members only."""
    data = json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
    if len(data.encode()) >= MAX_LINE:
        data = json.dumps({k: msg[k] for k in ("op", "id", "point", "conn")})
    return data.encode() + b"\n"


def parse(raw, eof=False):
    """A line's object ({} for anything else); EOFError at the end."""
    if eof and not raw.endswith(b"\n"):
        raise EOFError
    try:
        msg = json.loads(raw)
    except ValueError:
        return {}
    return msg if isinstance(msg, dict) else {}


_client, _settings = None, {}


def configure(**settings):
    """Sets path, name, workers or timeout for the connection to come."""
    global _client
    _settings.update(settings)
    _client = None


async def sync_point(point, *, key="", conn=0, session=""):
    """Arrives at sync point `point` and waits until the runner releases it.

    key: the registry key now; conn: the gateway's connection id (0 when
    the point is not about one); session: the session id the client asked
    for ("" when none): how a replay finds the same arrival again.
    """
    global _client
    if _client is None or _client.loop is not asyncio.get_running_loop():
        _client = SyncClient(**_settings)
    await _client.sync_point(point, key, conn, session)
