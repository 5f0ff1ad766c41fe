#!/usr/bin/python3
"""Interoperability: a standard client that is not ours (Python's
`websockets`, Debian package python3-websockets) against wsrace-gateway.

Starts the gateway on a free loopback port, checks the welcome, the five
agent events, the subprotocol token route, AUTH_FAILED/1008 and
DUPLICATE_SESSION/4409, then stops it. Prints TAP. Every wait is bounded.
Under a tool setup (scripts/tool-wrap) the gateway runs under the tool
(WSRACE_TEST_WRAPPER) and every bound is multiplied by
WSRACE_TEST_TIME_SCALE.
"""
import asyncio
import json
import os
import signal
import subprocess
import sys

import websockets

GATEWAY = sys.argv[1] if len(sys.argv) > 1 else "build/target/wsrace-gateway"
WRAP = os.environ.get("WSRACE_TEST_WRAPPER", "").split()
SCALE = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))
EVENTS = ["agent_started", "agent_thinking", "tool_executing",
          "tool_completed", "agent_completed"]
results = []


def token(user, ttl=600):
    out = subprocess.run(WRAP + [GATEWAY, "token", "--user", user, "--ttl",
                                 str(ttl)],
                         capture_output=True, text=True, timeout=10 * SCALE,
                         env={**os.environ, "WSRACE_SECRET": "interop"})
    return out.stdout.strip()


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), 5 * SCALE))


async def close_code(ws):
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5 * SCALE)
    except websockets.ConnectionClosed as e:
        return e.code


async def scenario(url):
    hdr = {"Authorization": "Bearer " + token("alice")}
    async with websockets.connect(url + "?session=py-1",
                                  extra_headers=hdr) as ws:
        w = await recv_json(ws)
        check("welcome_via_bearer_header",
              w["type"] == "connection_established"
              and w["data"]["connection_ready"] is True
              and w["data"]["connection_id"] == "py-1"
              and w["data"]["user_id"] == "alice", w)
        await ws.send(json.dumps({"type": "user_message",
                                  "data": {"content": "hello"},
                                  "correlation_id": "c-1"}))
        got = [await recv_json(ws) for _ in EVENTS]
        check("five_agent_events_in_order",
              [m["type"] for m in got] == EVENTS
              and all(m["correlation_id"] == "c-1" for m in got),
              [m["type"] for m in got])
        dup_hdr = {**hdr, "X-Session-Id": "py-1"}
        async with websockets.connect(url, extra_headers=dup_hdr) as dup:
            e = await recv_json(dup)
            code = await close_code(dup)
            check("duplicate_session_4409",
                  e["data"]["code"] == "DUPLICATE_SESSION" and code == 4409,
                  (e, code))
    async with websockets.connect(
            url, subprotocols=["wsrace.v1", "jwt." + token("bo")]) as ws:
        w = await recv_json(ws)
        check("welcome_via_subprotocol_token",
              w["type"] == "connection_established"
              and ws.subprotocol == "wsrace.v1", (w, ws.subprotocol))
    async with websockets.connect(
            url, extra_headers={"Authorization": "Bearer " +
                                token("cy", -5)}) as ws:
        e = await recv_json(ws)
        code = await close_code(ws)
        check("expired_token_auth_failed_1008",
              e["data"]["code"] == "AUTH_FAILED" and code == 1008, (e, code))


def main():
    gw = subprocess.Popen(WRAP + [GATEWAY, "--port", "0"],
                          stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True,
                          env={**os.environ, "WSRACE_SECRET": "interop"})
    try:
        line = gw.stdout.readline()  # the gateway prints it at once
        if not line.startswith("listening "):
            print("1..1\nnot ok 1 - gateway did not start")
            return 1
        url = "ws://" + line.split()[1] + "/ws"
        try:
            asyncio.run(asyncio.wait_for(scenario(url), 60 * SCALE))
        except Exception as e:  # a failure is a failed case, not a hang
            check("scenario_completed", False, repr(e))
    finally:
        gw.send_signal(signal.SIGTERM)
        try:
            rc = gw.wait(10 * SCALE)
        except subprocess.TimeoutExpired:
            gw.kill()
            rc = gw.wait()
    check("gateway_exit_0_on_sigterm", rc == 0, rc)
    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            print(f"# {detail}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
