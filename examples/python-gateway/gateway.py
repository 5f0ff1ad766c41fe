#!/usr/bin/python3
"""gateway.py - a chat gateway in Python asyncio, with one race of its own.

usage: gateway.py [--host 127.0.0.1] [--port 8765 | --port 0] [--secret S]
                  [--sync-control PATH] [--max-message BYTES]
                  [--atomic-registry]

Speaks wsrace-gateway's wire contract (README, "The reference gateway") for
what the shipped scenarios use: ws://HOST:PORT/ws, an HS256 token from
`Authorization: Bearer` or the subprotocol `jwt.TOKEN`, the session id from
`X-Session-Id` or `?session=`, the welcome, the five agent events, ping,
FORMAT_ERROR, AUTH_FAILED (1008), DUPLICATE_SESSION (4409) and the loopback
HTTP endpoints /healthz, /debug/registry and /debug/ready?id=KEY. Once
listening it prints `listening HOST:PORT`; SIGTERM and SIGINT stop it
(exit 0). Debian's python3-websockets (10.x, the legacy server API).

Its lifecycle windows are sync points (adapters/python/wsrace_sync.py,
docs/sync-control.md): with WSRACE_SYNC_CONTROL or --sync-control a runner
schedules them; without, they cost nothing. The session registry's
check-then-insert is a race that only a scheduler can show (see swap());
--atomic-registry is the fix.
"""
import argparse
import asyncio
import base64
import datetime
import hashlib
import hmac
import http
import ipaddress
import json
import os
import secrets
import signal
import sys
import time
from urllib.parse import parse_qs, urlsplit

import websockets
import websockets.legacy.server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "adapters", "python"))
from wsrace_sync import configure, sync_point  # noqa: E402

READY_SET = ("PROCESSING_READY", "PROCESSING", "IDLE")
AGENT_EVENTS = ("agent_started", "agent_thinking", "tool_executing",
                "tool_completed", "agent_completed")
KEY_MAX, TOKEN_MAX = 127, 1023  # as wsrace-gateway: longer is refused


# ---------------------------------------------------------------- tokens

def b64url(text):
    if not text or any(c in text for c in "+/=") or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_token(secret, token, now):
    """(None, user) for a good token, else (reason, None)."""
    if not token:
        return ("no token (Authorization: Bearer or subprotocol jwt.TOKEN)",
                None)
    parts = token.split(".")
    if len(token) > TOKEN_MAX or len(parts) != 3:
        return "malformed token", None
    try:
        head, claims = (json.loads(b64url(p)) for p in parts[:2])
        sig = b64url(parts[2])
        if not isinstance(head, dict) or not isinstance(claims, dict):
            raise ValueError("not an object")
    except ValueError:
        return "malformed token", None
    if head.get("alg") != "HS256":
        return "token algorithm is not HS256", None
    user, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(user, str) or not user or len(user) > KEY_MAX or \
            type(exp) is not int:
        return "malformed token", None
    want = hmac.new(secret.encode(), (parts[0] + "." + parts[1]).encode(),
                    hashlib.sha256).digest()
    if not hmac.compare_digest(want, sig):  # constant time
        return "bad token signature", None
    if exp <= now:
        return "token expired", None
    return None, user


# ---------------------------------------------------------------- wire

def server_message(kind, data=None, correlation_id=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    return json.dumps({"type": kind, "data": data or {},
                       "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") +
                       "%03dZ" % (now.microsecond // 1000),
                       "correlation_id": correlation_id},
                      separators=(",", ":"))


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def parse_client(raw):
    """(message, None) or (None, why it is not a valid client message)."""
    try:
        msg = json.loads(raw, object_pairs_hook=no_duplicates)
    except (ValueError, UnicodeDecodeError) as e:
        return None, "invalid JSON: %s" % e
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return None, "a message is an object with a string 'type'"
    if msg.get("correlation_id") is not None and \
            not isinstance(msg["correlation_id"], str):
        return None, "'correlation_id' must be a string"
    data = msg.get("data")
    if msg["type"] == "user_message" and not (
            isinstance(data, dict) and isinstance(data.get("content"), str)):
        return None, "user_message needs a string 'data.content'"
    return msg, None


class Conn:
    def __init__(self, cid, ws, token, session):
        self.id, self.ws, self.token, self.session = cid, ws, token, session
        self.key, self.user, self.state = "", "", "CONNECTING"

    async def send(self, kind, data=None, correlation_id=None):
        await self.ws.send(server_message(kind, data, correlation_id))


# ---------------------------------------------------------------- registry

class Registry:
    """Session key -> the connection registered under it."""

    def __init__(self):
        self.entries = {}

    async def is_live(self, key):
        """Presence lookup. A real deployment asks a shared store (an await
        with a round trip); this one is a dict and never suspends."""
        return key in self.entries

    def insert(self, key, conn):
        self.entries[key] = conn
        conn.key = key

    def remove(self, key, conn):
        """Removes key when conn holds it (never another's entry)."""
        if self.entries.get(key) is conn:
            del self.entries[key]

    def rekey(self, old, new, conn):
        self.remove(old, conn)
        self.insert(new, conn)


# ---------------------------------------------------------------- gateway

class Gateway:
    def __init__(self, secret, atomic_registry=False):
        self.secret, self.atomic = secret, atomic_registry
        self.registry, self.live, self.next_id = Registry(), 0, 1

    async def point(self, name, conn, key=None):
        await sync_point(name, key=conn.key if key is None else key,
                         conn=conn.id, session=conn.session)

    async def handle(self, ws):
        headers, url = ws.request_headers, urlsplit(ws.path)
        token = None
        auth = headers.get("Authorization", "")
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        for h in headers.get_all("Sec-WebSocket-Protocol"):
            for p in h.split(","):
                if token is None and p.strip().startswith("jwt."):
                    token = p.strip()[4:]
        session = headers.get("X-Session-Id") or \
            (parse_qs(url.query).get("session") or [""])[0]
        if len(session) > KEY_MAX:
            session = ""  # an over-long id: a generated one instead
        conn = Conn(self.next_id, ws, token, session)
        self.next_id += 1
        asyncio.current_task().set_name("conn-%d" % conn.id)
        self.live += 1
        try:
            if await self.handshake(conn):
                await self.messages(conn)
        except websockets.ConnectionClosed:
            pass
        finally:
            await self.point("close.begin", conn)
            conn.state = "CLOSED"
            self.registry.remove(conn.key, conn)
            self.live -= 1

    async def fail(self, conn, close_code, code, message):
        """Refuses conn: unregistered, an error_message, then the close."""
        conn.state = "FAILED"
        self.registry.remove(conn.key, conn)
        await conn.send("error_message", {"code": code, "message": message})
        await conn.ws.close(close_code, code)
        return False

    async def handshake(self, conn):
        # accept: a preliminary key
        self.registry.insert("pre-%d" % conn.id, conn)
        conn.state = "ACCEPTED"
        await self.point("accept.registered", conn)
        # auth
        why, user = verify_token(self.secret, conn.token, int(time.time()))
        conn.token = None
        if why:
            return await self.fail(conn, 1008, "AUTH_FAILED", why)
        conn.user, conn.state = user, "AUTHENTICATED"
        await self.point("auth.done", conn)
        # swap, then ready and the welcome
        if not await self.swap(conn):
            return False
        await self.point("machine.ready", conn)
        conn.state = "PROCESSING_READY"
        await conn.send("connection_established",
                        {"connection_id": conn.key, "user_id": conn.user,
                         "connection_ready": True})
        return True

    async def swap(self, conn):
        """Rekeys conn from its preliminary key to its session id; a second
        live connection with one session is refused."""
        final = conn.session or "sess-%d-%s" % (conn.id, secrets.token_hex(4))
        if self.atomic:
            await self.point("registry.check", conn, final)
            if final in self.registry.entries:  # the fix: check and insert
                return await self.refuse(conn, final)  # are one step
        else:
            if await self.registry.is_live(final):
                return await self.refuse(conn, final)
            # RACE (this example's own): the check above and the insert
            # below are two steps. The presence lookup is an await that does
            # not suspend here, and neither does this sync point without a
            # runner, so in a plain run nothing runs between them: of N
            # concurrent connections with one session exactly one wins. A
            # scheduler holding this sync point (docs/sync-control.md), like
            # a real presence store's round trip, lets a second connection
            # pass the check too: both are inserted (the second overwrites
            # the first) and both are welcomed under one session.
            await self.point("registry.check", conn, final)
        self.registry.rekey(conn.key, final, conn)
        await self.point("swap.unregistered", conn)
        return True

    async def refuse(self, conn, session):
        return await self.fail(conn, 4409, "DUPLICATE_SESSION",
                               "session '%s' is already connected" % session)

    async def messages(self, conn):
        """Messages in order; those sent before the welcome waited in the
        connection's queue and are answered now."""
        async for raw in conn.ws:
            msg, why = parse_client(raw)
            cid = msg.get("correlation_id") if msg else None
            if why:
                await conn.send("error_message",
                                {"code": "FORMAT_ERROR", "message": why})
            elif msg["type"] == "ping":
                await conn.send("pong", None, cid)
            elif msg["type"] != "user_message":
                await conn.send("error_message", {
                    "code": "UNKNOWN_TYPE",
                    "message": "unknown message type '%.64s'" % msg["type"]},
                    cid)
            else:
                await self.point("message.gate", conn)
                conn.state = "PROCESSING"
                for i, kind in enumerate(AGENT_EVENTS):
                    data = {"user_id": conn.user, "step": i + 1}
                    if i == 4:
                        data["result"] = "echo: " + msg["data"]["content"]
                    await conn.send(kind, data, cid)
                conn.state = "IDLE"

    # ------------------------------------------------------------ HTTP

    def http_answer(self, path, peer):
        """(status, headers, body) for a GET, or None for the WS upgrade."""
        url = urlsplit(path)
        if url.path == "/ws":
            return None
        try:
            addr = ipaddress.ip_address(peer[0].split("%")[0])
            mapped = getattr(addr, "ipv4_mapped", None)  # ::ffff:127.0.0.1
            loopback = addr.is_loopback or bool(mapped and mapped.is_loopback)
        except (ValueError, TypeError, IndexError):
            loopback = False
        status, body = http.HTTPStatus.OK, None
        if not loopback:
            status = http.HTTPStatus.FORBIDDEN
            body = {"error": "debug endpoints are loopback-only"}
        elif url.path == "/healthz":
            body = {"status": "ok", "faults": [], "connections": self.live,
                    "registered": len(self.registry.entries)}
        elif url.path == "/debug/registry":
            body = {"connections": [
                {"key": k, "user": c.user, "state": c.state,
                 "coordinator": None, "conn": c.id}
                for k, c in self.registry.entries.items()]}
        elif url.path == "/debug/ready":
            key = (parse_qs(url.query).get("id") or [""])[0]
            if not key:
                status, body = http.HTTPStatus.BAD_REQUEST, {
                    "error": "missing query ?id=KEY"}
            else:
                c = self.registry.entries.get(key)
                body = {"id": key, "registered": c is not None,
                        "ready": c is not None and c.state in READY_SET}
        else:
            status, body = http.HTTPStatus.NOT_FOUND, {
                "error": "not found", "path": url.path}
        return status, [("Content-Type", "application/json")], \
            (json.dumps(body) + "\n").encode()

    async def serve(self, host, port, max_message):
        gateway = self

        class Protocol(websockets.legacy.server.WebSocketServerProtocol):
            async def process_request(self, path, headers):
                return gateway.http_answer(path, self.transport.get_extra_info(
                    "peername") or ("",))

        def subprotocol(offered, available):
            return "wsrace.v1" if "wsrace.v1" in offered else None

        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or
                                    stop.set_result(None))
        async with websockets.serve(
                self.handle, host, port, create_protocol=Protocol,
                subprotocols=["wsrace.v1"], select_subprotocol=subprotocol,
                max_size=max_message, ping_interval=None) as server:
            addr = server.sockets[0].getsockname()
            print("listening %s:%d" % (host, addr[1]), flush=True)
            await stop


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--secret", default=os.environ.get("WSRACE_SECRET"))
    ap.add_argument("--sync-control", metavar="PATH")
    ap.add_argument("--max-message", type=int, default=65536)
    ap.add_argument("--atomic-registry", action="store_true",
                    help="check and insert a session in one step (the fix)")
    args = ap.parse_args(argv)
    if not args.secret:
        ap.error("--secret or WSRACE_SECRET is required")
    if args.sync_control:
        configure(path=args.sync_control)
    configure(name="python-gateway")
    gw = Gateway(args.secret, args.atomic_registry)
    try:
        asyncio.run(gw.serve(args.host, args.port, args.max_message))
    except OSError as e:
        print("gateway.py: cannot listen on %s:%d: %s" % (
            args.host, args.port, e), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
