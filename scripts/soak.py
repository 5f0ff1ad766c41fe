#!/usr/bin/python3
"""soak.py - one gateway under hours of mixed clients: does it stay flat?

usage: scripts/soak [--minutes N] [--sample S] [--golden N] [--chaos N]
                    [--hostile N] [--gateway PATH] [--out DIR]

Starts one wsrace-gateway with its limits set low enough to be exercised
and drives it for N minutes (default 60) with three kinds of clients, a
fixed number of each, each looping until the time is up:

  golden   connect (Bearer token or a one-time ticket), expect the welcome,
           send 1..5 user_messages, expect every one's five agent events
           in order, close; a message accepted and never completed is LOST
  chaos    the lifecycle cut short: closes mid-handshake or mid-message,
           reconnects with the same session (4409 or a welcome), opens two
           connections with one session, sends before the welcome
  hostile  what the gateway must refuse: forged, expired and overlong
           tokens, another user's session (4403), ids in the gateway's own
           namespace and bytes that are not UTF-8 (4400), binary frames
           (1003), oversized messages (1009), a client that never reads
           (1008, slow consumer), sockets that send nothing or headers a
           byte at a time (the handshake timeout), HTTP requests with
           bodies, bad /debug/ready ids

Every S seconds (default 10) it samples the gateway from /proc (RSS, open
descriptors, threads) and /healthz (connections, registered entries,
sessions, tickets, refusals). At the end it stops the clients, waits for
the gateway to drain, prints the series as a table with the golden
messages sent, completed and lost, writes soak.json and soak.md under
--out (default reports/soak/<time>/), and exits 1 when a message was lost,
an unexpected answer came, or the gateway did not return to its resting
state (no connection, no registry entry). Not a test: nothing in
scripts/test runs it.
"""
import argparse
import asyncio
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "target", "tests"))
import wsraw  # noqa: E402
import websockets  # noqa: E402  Debian's python3-websockets

SECRET = "soak-secret"
EVENTS = ["agent_started", "agent_thinking", "tool_executing",
          "tool_completed", "agent_completed"]

stats = collections.Counter()  # outcome -> count
unexpected = collections.deque(maxlen=50)  # the first odd answers
lock = threading.Lock()


def count(key, n=1):
    with lock:
        stats[key] += n


def odd(what):
    with lock:
        stats["unexpected"] += 1
        unexpected.append("%.1f %s" % (time.time(), what))


def token(user, ttl=600, pad=0):
    claims = {"sub": user, "exp": int(time.time()) + ttl}
    if pad:
        claims["pad"] = "p" * pad
    return wsraw.mint(SECRET, claims)


# ------------------------------------------------------------------------
# The gateway and its samples
# ------------------------------------------------------------------------

class Gateway:
    ARGS = ["--max-connections", "400", "--max-send-queue", "1048576",
            "--handshake-timeout", "3", "--session-hold", "5",
            "--ticket-ttl", "10", "--max-queue", "8", "--workers", "8"]

    def __init__(self, path):
        self.p = subprocess.Popen(
            [path, "--port", "0"] + self.ARGS, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "WSRACE_SECRET": SECRET})
        line = self.p.stdout.readline()
        if not line.startswith("listening"):
            raise SystemExit("soak: the gateway did not start: %r" % line)
        self.port = int(line.split(":")[-1])

    def health(self):
        try:
            st, _, body = wsraw.http(self.port, "GET", "/healthz", timeout=10)
            return json.loads(body) if st == 200 else {}
        except (OSError, ValueError):
            return {}

    def sample(self, t0):
        s = {"t": round(time.time() - t0, 1)}
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("VmRSS", "VmHWM"):
                        s[k.lower() + "_kb"] = int(v.split()[0])
                    elif k == "Threads":
                        s["threads"] = int(v)
            s["fds"] = len(os.listdir("/proc/%d/fd" % self.p.pid))
        except OSError:
            s["gone"] = True
        h = self.health()
        for k in ("connections", "registered", "sessions", "tickets",
                  "refused_at_limit", "slow_consumers_closed"):
            s[k] = h.get(k)
        return s

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


# ------------------------------------------------------------------------
# Golden and chaos clients (asyncio, python3-websockets)
# ------------------------------------------------------------------------

async def recv(ws, bound=15):
    return json.loads(await asyncio.wait_for(ws.recv(), bound))


async def ticket_url(port, user):
    loop = asyncio.get_event_loop()
    st, _, body = await loop.run_in_executor(
        None, lambda: wsraw.http(port, "POST", "/ticket",
                                 headers=b"Authorization: Bearer " +
                                 token(user, pad=600).encode() + b"\r\n",
                                 timeout=10))
    if st != 200:
        odd("ticket: status %s" % st)
        return None
    return "?ticket=" + json.loads(body)["ticket"]


async def golden(port, idx, end):
    rng = random.Random(idx)
    n = 0
    while time.time() < end:
        n += 1
        user = "golden%d@example.com" % idx
        session = "g%d-%d" % (idx, n)
        url = "ws://127.0.0.1:%d/ws" % port
        hdrs = {"X-Session-Id": session}
        if n % 4 == 0:
            q = await ticket_url(port, user)
            if q is None:
                continue
            url += q
            count("golden_via_ticket")
        else:
            hdrs["Authorization"] = "Bearer " + token(user)
        try:
            async with websockets.connect(url, extra_headers=hdrs,
                                          max_size=2 ** 20) as ws:
                w = await recv(ws)
                if w.get("type") != "connection_established":
                    odd("golden: no welcome: %s" % w)
                    continue
                k = rng.randint(1, 5)
                cids = ["%s-m%d" % (session, i) for i in range(k)]
                for cid in cids:
                    await ws.send(json.dumps({
                        "type": "user_message", "correlation_id": cid,
                        "data": {"content": "x" * rng.randint(1, 2000)}}))
                count("golden_sent", k)
                want = [(cid, e) for cid in cids for e in EVENTS]
                got = []
                try:
                    while len(got) < len(want):
                        m = await recv(ws)
                        got.append((m.get("correlation_id"), m.get("type")))
                except (asyncio.TimeoutError, websockets.ConnectionClosed):
                    pass
                done = sum(1 for c in cids if (c, "agent_completed") in got)
                count("golden_completed", done)
                if got != want:
                    count("golden_lost", k - done)
                    odd("golden %s: %d/%d completed, order %s" %
                        (session, done, k, got == want))
                count("golden_sessions")
        except (OSError, asyncio.TimeoutError,
                websockets.WebSocketException) as e:
            odd("golden %s: %r" % (session, e))


async def chaos(port, idx, end):
    rng = random.Random(1000 + idx)
    n = 0
    while time.time() < end:
        n += 1
        user = "chaos%d" % idx
        session = "c%d-%d" % (idx, n % 3)  # sessions come back
        url = "ws://127.0.0.1:%d/ws" % port
        hdrs = {"Authorization": "Bearer " + token(user),
                "X-Session-Id": session}
        kind = rng.choice(["cut-handshake", "cut-message", "early-send",
                           "twin", "reconnect"])
        try:
            if kind == "cut-handshake":
                ws = await websockets.connect(url, extra_headers=hdrs)
                ws.transport.abort()  # gone before the welcome
                count("chaos_cut_handshake")
            elif kind == "early-send":
                async with websockets.connect(url, extra_headers=hdrs) as ws:
                    await ws.send(json.dumps({"type": "user_message",
                                              "correlation_id": "early",
                                              "data": {"content": "e"}}))
                    types = []
                    while "agent_completed" not in types:
                        types.append((await recv(ws))["type"])
                    if types[0] not in ("connection_established",
                                        "error_message"):
                        odd("early-send: %s" % types)
                    count("chaos_early_send")
            elif kind == "cut-message":
                ws = await websockets.connect(url, extra_headers=hdrs)
                await recv(ws)
                await ws.send(json.dumps({"type": "user_message",
                                          "correlation_id": "cut",
                                          "data": {"content": "c"}}))
                ws.transport.abort()  # gone mid-processing
                count("chaos_cut_message")
            else:
                a = await websockets.connect(url, extra_headers=hdrs)
                w = await recv(a)
                if kind == "reconnect":
                    await a.close()
                b = await websockets.connect(url, extra_headers=hdrs)
                m = await recv(b)
                ok_types = ("connection_established", "error_message")
                if m.get("type") not in ok_types or (
                        m["type"] == "error_message" and
                        m["data"]["code"] != "DUPLICATE_SESSION"):
                    odd("%s: %s / %s" % (kind, w, m))
                count("chaos_" + kind + "_" + (
                    "welcome" if m["type"] != "error_message" else "4409"))
                await b.close()
                await a.close()
        except (OSError, asyncio.TimeoutError,
                websockets.WebSocketException) as e:
            # Closing under the gateway's feet is the point; a refusal or
            # a dropped connection is fine, a hang is not.
            if isinstance(e, asyncio.TimeoutError):
                odd("chaos %s: timeout" % kind)
            count("chaos_dropped")
        await asyncio.sleep(rng.random() * 0.05)


# ------------------------------------------------------------------------
# Hostile clients (threads, bare sockets)
# ------------------------------------------------------------------------

def expect_refusal(ws, code, close, what):
    msgs, got = ws.until_close(15)
    ws.close()
    err = msgs[0]["data"].get("code") if msgs and \
        msgs[0].get("type") == "error_message" else None
    if (err, got) != (code, close):
        odd("%s: wanted %s/%s, got %s/%s" % (what, code, close, err, got))
    else:
        count("hostile_" + what)


def hostile(port, idx, end):
    rng = random.Random(2000 + idx)
    owner = "owner%d" % idx
    holder = None
    while time.time() < end:
        kind = rng.choice(["forged", "expired", "too-long", "foreign",
                           "namespace", "not-utf8", "binary", "oversize",
                           "slow", "idle", "slowloris", "http-body",
                           "ready-id"])
        bearer = b"Authorization: Bearer %s\r\n"
        try:
            if kind == "forged":
                t = wsraw.mint("not-the-secret", {"sub": "x",
                                                  "exp": 2 ** 31})
                expect_refusal(wsraw.WS(port, headers=bearer % t.encode()),
                               "AUTH_FAILED", 1008, kind)
            elif kind == "expired":
                expect_refusal(wsraw.WS(port, headers=bearer %
                                        token("x", ttl=-5).encode()),
                               "AUTH_FAILED", 1008, kind)
            elif kind == "too-long":
                t = wsraw.mint_length(SECRET, "x", 4200)
                expect_refusal(wsraw.WS(port, headers=bearer % t.encode()),
                               "AUTH_FAILED", 1008, kind)
            elif kind == "foreign":
                if holder is not None:
                    # Still open? The gateway pings an idle connection
                    # every 300 s and drops it 10 s after an unanswered
                    # ping; anything else, or the end, means trouble.
                    try:
                        while True:
                            op, pl = holder.recv_frame(0.05)
                            if op != 9:
                                odd("holder of held-%d got opcode %d: %r" %
                                    (idx, op, pl[:80]))
                                holder.close()
                                holder = None
                                break
                            holder.send_frame(10, pl)
                            count("hostile_holder_pong")
                    except socket.timeout:
                        pass
                    except (EOFError, OSError) as e:
                        odd("holder of held-%d is gone: %r" % (idx, e))
                        holder = None
                if holder is None:
                    holder = wsraw.WS(port, headers=bearer %
                                      token(owner).encode() +
                                      b"X-Session-Id: held-%d\r\n" % idx)
                    w = holder.recv_json(15)
                    if not w or w.get("type") != "connection_established":
                        odd("holder of held-%d: %r" % (idx, w))
                expect_refusal(wsraw.WS(port, headers=bearer %
                                        token("thief").encode() +
                                        b"X-Session-Id: held-%d\r\n" % idx),
                               "SESSION_FORBIDDEN", 4403, kind)
            elif kind in ("namespace", "not-utf8"):
                sid = b"pre-%d" % rng.randint(1, 10 ** 6) \
                    if kind == "namespace" else b"x\xff\xfe"
                expect_refusal(wsraw.WS(port, headers=bearer %
                                        token("h").encode() +
                                        b"X-Session-Id: " + sid + b"\r\n"),
                               "INVALID_SESSION", 4400, kind)
            elif kind == "binary":
                ws = wsraw.WS(port, headers=bearer % token("h").encode())
                ws.recv_json(15)
                ws.send_frame(2, b"\x00\x01\x02")
                expect_refusal(ws, "FORMAT_ERROR", 1003, kind)
            elif kind == "oversize":
                ws = wsraw.WS(port, headers=bearer % token("h").encode())
                ws.recv_json(15)
                ws.send_text("x" * 70000)
                msgs, code = ws.until_close(15)
                ws.close()
                if code != 1009:
                    odd("oversize: close %s" % code)
                else:
                    count("hostile_oversize")
            elif kind == "slow":
                ws = wsraw.WS(port, headers=bearer % token("h").encode(),
                              rcvbuf=4096)
                ws.recv_json(15)
                big = json.dumps({"type": "user_message",
                                  "data": {"content": "y" * 60000}})
                try:
                    for _ in range(60):
                        ws.send_text(big)
                        time.sleep(0.02)
                except OSError:
                    pass
                ws.sock.close()  # never read a byte of it
                count("hostile_slow")
            elif kind == "idle":
                s = socket.create_connection(("127.0.0.1", port))
                s.settimeout(20)
                t0 = time.time()
                try:
                    s.recv(1)
                except OSError:
                    pass
                s.close()
                if time.time() - t0 > 10:
                    odd("idle socket held %.1f s" % (time.time() - t0))
                else:
                    count("hostile_idle")
            elif kind == "slowloris":
                s = socket.create_connection(("127.0.0.1", port))
                t0 = time.time()
                try:
                    for b in b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: w":
                        s.send(bytes([b]))
                        time.sleep(0.25)
                except OSError:
                    pass
                s.close()
                count("hostile_slowloris")
            elif kind == "http-body":
                st, _, _ = wsraw.http(port, "POST", "/healthz",
                                      body=b"x" * rng.randint(1, 3000),
                                      timeout=10)
                if st != 405:
                    odd("POST with a body: %s" % st)
                else:
                    count("hostile_http_body")
            elif kind == "ready-id":
                bad = rng.choice(["%ff", "k" * 300, "a%00b", ""])
                st, _, _ = wsraw.http(port, "GET", "/debug/ready?id=" + bad,
                                      timeout=10)
                if st not in (400, -1):
                    odd("ready id %r: %s" % (bad[:20], st))
                else:
                    count("hostile_ready_id")
        except OSError as e:
            count("hostile_dropped")
            if not isinstance(e, (ConnectionResetError, BrokenPipeError)):
                odd("hostile %s: %r" % (kind, e))
        time.sleep(rng.random() * 0.2)
    if holder is not None:
        holder.close()


# ------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------

def table(samples):
    cols = ["t", "vmrss_kb", "fds", "threads", "connections", "registered",
            "sessions", "tickets", "refused_at_limit",
            "slow_consumers_closed"]
    head = ["s", "RSS KB", "fds", "thr", "conns", "reg", "sess", "tick",
            "refused", "slow"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for s in samples:
        lines.append("| " + " | ".join(str(s.get(c, "")) for c in cols) +
                     " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample", type=float, default=10)
    ap.add_argument("--golden", type=int, default=24)
    ap.add_argument("--chaos", type=int, default=8)
    ap.add_argument("--hostile", type=int, default=6)
    ap.add_argument("--gateway",
                    default=os.path.join(ROOT, "build", "target",
                                         "wsrace-gateway"))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or os.path.join(ROOT, "reports", "soak",
                                time.strftime("%Y%m%dT%H%M%SZ",
                                              time.gmtime()))
    os.makedirs(out, exist_ok=True)
    gw = Gateway(a.gateway)
    t0 = time.time()
    end = t0 + a.minutes * 60
    print("soak: gateway pid %d port %d, %g min, %d golden, %d chaos, %d "
          "hostile clients; sampling every %g s" %
          (gw.p.pid, gw.port, a.minutes, a.golden, a.chaos, a.hostile,
           a.sample), flush=True)
    samples = [gw.sample(t0)]
    threads = [threading.Thread(target=hostile, args=(gw.port, i, end),
                                daemon=True) for i in range(a.hostile)]
    for t in threads:
        t.start()

    async def clients():
        tasks = [golden(gw.port, i, end) for i in range(a.golden)] + \
                [chaos(gw.port, i, end) for i in range(a.chaos)]
        await asyncio.gather(*tasks)

    def sampler():
        while time.time() < end:
            time.sleep(min(a.sample, max(0.1, end - time.time())))
            s = gw.sample(t0)
            samples.append(s)
            print("  %7.0f s  rss %6s KB  fds %4s  conns %4s  reg %4s  "
                  "golden %d/%d lost %d  unexpected %d" %
                  (s["t"], s.get("vmrss_kb"), s.get("fds"),
                   s.get("connections"), s.get("registered"),
                   stats["golden_completed"], stats["golden_sent"],
                   stats["golden_lost"], stats["unexpected"]), flush=True)

    smp = threading.Thread(target=sampler, daemon=True)
    smp.start()
    asyncio.get_event_loop().run_until_complete(clients())
    for t in threads:
        t.join(timeout=60)
    smp.join(timeout=a.sample + 30)
    # Rest: every client is gone; the gateway must drain to nothing.
    deadline = time.time() + 30
    while time.time() < deadline:
        h = gw.health()
        if h.get("connections") == 0 and h.get("registered") == 0:
            break
        time.sleep(0.5)
    rest = gw.sample(t0)
    rest["rest"] = True
    samples.append(rest)
    rc = gw.stop()
    steady = [s for s in samples if s["t"] >= min(120, a.minutes * 15)]
    rss = [s["vmrss_kb"] for s in steady if "vmrss_kb" in s]
    fds = [s["fds"] for s in samples[1:-1] if "fds" in s]
    summary = {
        "minutes": a.minutes, "clients": {"golden": a.golden,
                                          "chaos": a.chaos,
                                          "hostile": a.hostile},
        "gateway_args": Gateway.ARGS, "gateway_exit": rc,
        "golden_sent": stats["golden_sent"],
        "golden_completed": stats["golden_completed"],
        "golden_lost": stats["golden_lost"],
        "outcomes": dict(sorted(stats.items())),
        "unexpected": list(unexpected),
        "rss_kb": {"first": samples[0].get("vmrss_kb"),
                   "steady_min": min(rss) if rss else None,
                   "steady_max": max(rss) if rss else None,
                   "last_loaded": samples[-2].get("vmrss_kb"),
                   "rest": rest.get("vmrss_kb")},
        "fds": {"first": samples[0].get("fds"),
                "max": max(fds) if fds else None,
                "rest": rest.get("fds")},
        "rest": {k: rest.get(k) for k in ("connections", "registered")},
        "samples": samples,
    }
    with open(os.path.join(out, "soak.json"), "w") as f:
        json.dump(summary, f, indent=1)
    md = ["# Soak: %g minutes" % a.minutes, "",
          "Gateway: `wsrace-gateway %s`; clients: %d golden, %d chaos, "
          "%d hostile." % (" ".join(Gateway.ARGS), a.golden, a.chaos,
                           a.hostile), "",
          "Golden messages: %d sent, %d completed, **%d lost**." %
          (stats["golden_sent"], stats["golden_completed"],
           stats["golden_lost"]), "",
          "RSS (KB): first %s, steady %s..%s, at rest %s; descriptors: "
          "first %s, at most %s, at rest %s." %
          (summary["rss_kb"]["first"], summary["rss_kb"]["steady_min"],
           summary["rss_kb"]["steady_max"], summary["rss_kb"]["rest"],
           summary["fds"]["first"], summary["fds"]["max"],
           summary["fds"]["rest"]), "",
          "Outcomes: " + ", ".join("%s %d" % kv for kv in
                                   sorted(stats.items())), "",
          table(samples), ""]
    if unexpected:
        md += ["Unexpected answers (first %d):" % len(unexpected), ""] + \
            ["- " + u for u in unexpected] + [""]
    with open(os.path.join(out, "soak.md"), "w") as f:
        f.write("\n".join(md))
    print("\n" + "\n".join(md))
    print("soak: %s" % os.path.join(out, "soak.md"))
    bad = stats["golden_lost"] or stats["unexpected"] or rc != 0 or \
        rest.get("connections") != 0 or rest.get("registered") != 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
