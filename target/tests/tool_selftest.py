#!/usr/bin/python3
"""tool_selftest.py - proves that the tool setup this test runs under fails
a test when it should, as TAP.

usage: tool_selftest.py TOOL_WRAP BROKEN BROKEN_CRITERION GATEWAY

Run under a tool setup (meson test --setup valgrind|helgrind|drd, or the
default setup of a sanitizer build), which sets WSRACE_TEST_TOOL; without
one there is nothing to prove and the test is skipped.

For the tool in force it runs scripts/tool-wrap on deliberately broken
programs (tool-broken.c: a use after free, a definitely lost block, a data
race, undefined behaviour; also inside a forked child and inside Criterion
tests, which pass on their own) and asserts that each run fails with the
tool's report, that the clean ones pass, and that the real bug is seen
too: the gateway with --inject scope-loss=crash shows the invalid access
at the swap, as a crash (which the tests that expect it judge), not as an
error of a process that lived on.
"""
import importlib.machinery
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

WRAP, BROKEN, BROKEN_CR, GATEWAY = sys.argv[1:5]
TOOL = os.environ.get("WSRACE_TEST_TOOL", "")
SCALE = float(os.environ.get("WSRACE_TEST_TIME_SCALE", "1") or 1)
TMP = tempfile.mkdtemp(prefix="wsrace-tool-selftest-")
results = []

# What each tool must catch: (name, command, texts its report holds).
# Memcheck does not see races and the thread tools do not see leaks.
CASES = {
    "memcheck": [
        ("uaf", [BROKEN, "uaf"], ["Invalid read"]),
        ("leak", [BROKEN, "leak"], ["definitely lost"]),
        ("uaf in a forked child", [BROKEN, "fork-uaf"], ["Invalid read"]),
        ("uaf in a Criterion test", [BROKEN_CR, "--filter", "broken/uaf"],
         ["Invalid read"]),
        ("leak in a Criterion test", [BROKEN_CR, "--filter", "broken/leak"],
         ["definitely lost"]),
    ],
    "helgrind": [
        ("race", [BROKEN, "race"], ["Possible data race"]),
        ("race in a Criterion test", [BROKEN_CR, "--filter", "broken/race"],
         ["Possible data race"]),
    ],
    "drd": [
        ("race", [BROKEN, "race"], ["Conflicting"]),
        ("race in a Criterion test", [BROKEN_CR, "--filter", "broken/race"],
         ["Conflicting"]),
    ],
    "asan": [
        ("uaf", [BROKEN, "uaf"], ["heap-use-after-free"]),
        ("leak", [BROKEN, "leak"], ["Direct leak of 77 byte"]),
        ("undefined behaviour", [BROKEN, "ub"], ["signed integer overflow"]),
        ("uaf in a forked child", [BROKEN, "fork-uaf"],
         ["heap-use-after-free"]),
        ("uaf in a Criterion test", [BROKEN_CR, "--filter", "broken/uaf"],
         ["heap-use-after-free"]),
        ("leak in a Criterion test", [BROKEN_CR, "--filter", "broken/leak"],
         ["Direct leak of 77 byte"]),
    ],
    # Criterion binaries do not run under TSan: plain programs only.
    "tsan": [
        ("race", [BROKEN, "race"], ["data race"]),
    ],
}
CLEAN = {
    "tsan": [[BROKEN, "clean"]],
}
CRASH_TEXT = {
    "memcheck": ["Invalid read", "gw_registry_rekey",
                 "Process terminating with default action of signal 11"],
    "helgrind": ["gw_registry_rekey",
                 "Process terminating with default action of signal 11"],
    "drd": ["gw_registry_rekey",
            "Process terminating with default action of signal 11"],
    # UBSan (halt_on_error) stops it at the null member access before the
    # SIGSEGV, on stderr: GCC 12's UBSan does not follow log_path.
    "asan": ["gw_registry.c:269", "runtime error: member access within "
             "null pointer"],
    "tsan": ["SEGV on unknown address", "gw_registry_rekey"],
}


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def load_wrap():
    loader = importlib.machinery.SourceFileLoader("tool_wrap", WRAP)
    spec = importlib.util.spec_from_loader("tool_wrap", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def wrapped(cmd):
    """Runs cmd under `tool-wrap TOOL`, its logs in a directory of ours
    and its summary line nowhere (the deliberate errors are not counted
    with the real ones)."""
    env = dict(os.environ, WSRACE_TOOL_LOGS=TMP,
               WSRACE_TOOL_SUMMARY=os.devnull)
    env.pop("WSRACE_TOOL_LOG_DIR", None)
    return subprocess.run([WRAP, TOOL] + cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=env,
                          timeout=300 * SCALE)


def test_broken():
    for name, cmd, texts in CASES[TOOL]:
        r = wrapped(cmd)
        said = "not ok - %s:" % TOOL in r.stdout
        # 99: the wrapper failed a run that passed on its own (valgrind's
        # --error-exitcode, or the logs); a sanitizer may also end a run
        # itself (ASan aborts on a use after free: Criterion says FAIL).
        ok(r.returncode != 0 and said and all(t in r.stdout for t in texts),
           "%s: %s fails the test (exit %d) with %r" %
           (TOOL, name, r.returncode, texts), r.stdout[-3000:])
    for cmd in CLEAN.get(TOOL, [[BROKEN, "clean"],
                                [BROKEN_CR, "--filter", "broken/clean"]]):
        r = wrapped(cmd)
        ok(r.returncode == 0 and "not ok" not in r.stdout,
           "%s: %s passes (exit %d)" % (TOOL, " ".join(
               os.path.basename(c) for c in cmd), r.returncode),
           r.stdout[-3000:])


def ws_connect(port, token):
    """Opens a WebSocket upgrade with a bearer token; returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * SCALE)
    s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n"
               "Authorization: Bearer %s\r\n\r\n" % token).encode())
    return s


def test_gateway_crash():
    """The real bug: scope-loss=crash under the tool."""
    logs = tempfile.mkdtemp(prefix="crash-", dir=TMP)
    env = dict(os.environ, WSRACE_TOOL_LOG_DIR=logs,
               WSRACE_SECRET="selftest")
    tok = subprocess.run([GATEWAY, "token", "--user", "sam"], env=env,
                         stdout=subprocess.PIPE, text=True,
                         timeout=30).stdout.strip()
    err = open(os.path.join(TMP, "gateway.stderr"), "w")
    gw = subprocess.Popen([WRAP, "--inner", TOOL, GATEWAY, "--port", "0",
                           "--inject", "scope-loss=crash"],
                          stdout=subprocess.PIPE, stderr=err,
                          text=True, env=env)
    try:
        line = gw.stdout.readline()
        ok(line.startswith("listening "), "%s: gateway starts" % TOOL, line)
        if not line.startswith("listening "):
            return
        s = ws_connect(int(line.split(":")[-1]), tok)
        try:
            rc = gw.wait(timeout=60 * SCALE)
        finally:
            s.close()
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        if gw.poll() is None:
            gw.kill()
            gw.wait()
    # Valgrind dies by the signal; the sanitizers report it and exit
    # non-zero (ASan 1, TSan 66).
    ok(rc is not None and rc != 0,
       "%s: scope-loss=crash kills the gateway (status %s)" % (TOOL, rc))
    err.close()
    procs = load_wrap().scan(TOOL, logs)
    with open(os.path.join(TMP, "gateway.stderr"), errors="replace") as fh:
        text = fh.read()
    for f in sorted(os.listdir(logs)):
        with open(os.path.join(logs, f), errors="replace") as fh:
            text += fh.read()
    # A sanitizer may stop it before the signal (UBSan); valgrind sees the
    # signal.
    ok(all(p["errors"] == 0 for p in procs) and
       (TOOL == "asan" or (len(procs) == 1 and procs[0]["crashed"])),
       "%s: counted as a crash, not as an error of a process that "
       "lived on" % TOOL, repr(procs))
    missing = [t for t in CRASH_TEXT[TOOL] if t not in text]
    ok(not missing, "%s: the log shows the invalid access at the swap"
       % TOOL, "missing %r in:\n%s" % (missing, text[-3000:]))


def main():
    if TOOL not in CASES:
        print("1..0 # SKIP not under a tool setup (WSRACE_TEST_TOOL=%r)"
              % TOOL)
        return 0
    t0 = time.time()
    for t in (test_broken, test_gateway_crash):
        try:
            t()
        except Exception as e:  # a broken test is a failed test
            ok(False, "%s raised %r" % (t.__name__, e))
    shutil.rmtree(TMP, ignore_errors=True)
    print("1..%d" % len(results))
    bad = 0
    for i, (good, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if not good:
            bad += 1
            for line in str(detail).splitlines()[-40:]:
                print("#   " + line)
    print("# %s self-test: %.1f s" % (TOOL, time.time() - t0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
