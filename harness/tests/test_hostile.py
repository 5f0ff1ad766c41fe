#!/usr/bin/python3
"""test_hostile.py - what hostile input did to wsrace, each attack replayed
through the real binaries and now refused, as TAP.

usage: test_hostile.py WSRACE GATEWAY SCENARIO_DIR

A crafted replay.json (a command in `wrapper`, a foreign `target`, an
address), crafted shard summaries for merge (a case directory outside
--out, two cases sharing one directory), a scenario of 150 million
clients, an alias bomb, a symlinked report directory and the temporary
run directory's name, a harness SIGKILLed under a forking --wrapper, a
session id that needs URL-encoding in a probe, over-long and empty
report paths, --time-scale values that are not numbers in range, ports
and HTTP statuses that overflow, a report directory that a shell would
split, a --url server whose answers never end, and the secret on the
gateway's command line.

Under a tool setup (scripts/tool-wrap) wsrace and its gateways run under
the tool and every bound is multiplied by WSRACE_TEST_TIME_SCALE. Every
wait is bounded; every process started here is stopped here.
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

import tap

WSRACE, GATEWAY, SCEN = sys.argv[1], sys.argv[2], sys.argv[3]
TOOL = os.environ.get("WSRACE_TEST_TOOL", "")
WRAP = os.environ.get("WSRACE_TEST_WRAPPER", "").split()
SCALE = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))
TMP = tempfile.mkdtemp(prefix="wsrace-hostile-")
results = []
procs = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def tool_args(args):
    """Under a tool the gateways wsrace starts run under it too, and its
    bounds are scaled (as in test_cli.py)."""
    if not args or args[0] not in ("run", "replay") or not TOOL:
        return args
    extra = []
    if WRAP and "--wrapper" not in args and "--url" not in args and \
            "--target" not in args:
        extra += ["--wrapper", " ".join(WRAP)]
    if "--time-scale" not in args:
        extra += ["--time-scale", "%g" % SCALE]
    return args[:1] + extra + args[1:]


def run(args, timeout=120, cwd=None, prefix=()):
    return subprocess.run(list(prefix) + WRAP + [WSRACE] + tool_args(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout * SCALE, cwd=cwd)


def scen(name):
    for f in sorted(os.listdir(SCEN)):
        if f.endswith(".yaml") and f[3:-5] == name:
            return os.path.join(SCEN, f)
    raise FileNotFoundError(name)


def write(name, text, mode=0o644):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def load(path):
    with open(path) as f:
        return json.load(f)


def latest(rd):
    return os.path.realpath(os.path.join(rd, "latest"))


def pids_with(text):
    """Pids whose command line holds text (bytes), zombies left out."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if text not in f.read():
                    continue
            with open("/proc/%s/stat" % d) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            out.append(int(d))
        except (OSError, IndexError):
            pass
    return out


LONG = """\
# One client that sleeps, so that the case lasts.
name: long-sleep
description: one client connects and sleeps.
clients:
  - user: sleeper
    steps:
      - connect
      - sleep: 30000
      - close
timeout_ms: 60000
"""


# ------------------------------------------------------------------------
# Row 1: replay.json chose a command, a program and an address
# ------------------------------------------------------------------------

def test_replay_file_chooses_nothing():
    rd = TMP + "/r1"
    r = run(["run", "--inject", "fallback-ready", "--seed", "5",
             "--report-dir", rd, scen("fallback-ready")])
    case = load(os.path.join(latest(rd), "summary.json"))["cases"][0]
    rp = load(os.path.join(latest(rd), case["dir"], "replay.json"))
    pwned = os.path.join(TMP, "PWNED")
    ran = os.path.join(TMP, "TARGET-RAN")
    spy = write("spy-gw", '#!/bin/sh\necho "$@" > %s\nexec %s "$@"\n'
                % (ran, GATEWAY), 0o755)
    rp["wrapper"] = "/bin/sh -c touch${IFS}" + pwned
    rp["target"] = spy
    f = write("hostile-replay.json", json.dumps(rp))
    r = run(["replay", f, "--report-dir", TMP + "/r1b"], cwd=TMP)
    ok(r.returncode == 0 and "the same verdicts recurred" in r.stdout,
       "replay of a file naming a wrapper and a target: replayed with our "
       "own gateway", r.stdout)
    ok(not os.path.exists(pwned) and not os.path.exists(ran),
       "...and neither the file's wrapper nor its target ran")
    rp["url"] = "ws://127.0.0.1:9/ws"
    f = write("url-replay.json", json.dumps(rp))
    r = run(["replay", f, "--report-dir", TMP + "/r1c"], cwd=TMP)
    ok(r.returncode == 2 and "--url" in r.stdout,
       "a file naming an address: exit 2, asks for --url", r.stdout)


# ------------------------------------------------------------------------
# Row 2: merge trusted a shard's case directories
# ------------------------------------------------------------------------

def shard(i, rd):
    run(["run", "--repeat", "4", "--shard", "%d/2" % i, "--inject", "none",
         "--report-dir", rd, scen("fallback-ready")])
    return latest(rd)


def tree_sizes(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[p] = os.path.getsize(p)
    return out


def test_merge_case_dirs():
    deep = os.path.join(TMP, "a", "b", "c", "d")
    os.makedirs(deep)
    s1 = os.path.join(deep, "s1")
    shutil.copytree(shard(1, TMP + "/m1"), s1)
    s2 = shard(2, TMP + "/m2")
    path = os.path.join(s1, "summary.json")
    good = load(path)
    bad = json.loads(json.dumps(good))
    bad["cases"][0]["dir"] = "../../../../x"
    with open(path, "w") as f:
        json.dump(bad, f)
    before = tree_sizes(TMP + "/a")
    r = run(["merge", s1, s2, "--out", TMP + "/o1"])
    ok(r.returncode == 2 and "safe name" in r.stdout,
       "merge: a case dir ../../../../x is refused, exit 2", r.stdout)
    ok(not os.path.exists(TMP + "/x") and not os.path.exists(TMP + "/o1"),
       "...nothing is written outside (or inside) --out")
    bad = json.loads(json.dumps(good))
    bad["cases"][1]["dir"] = bad["cases"][0]["dir"]
    bad["cases"][1]["id"] = bad["cases"][0]["id"]
    with open(path, "w") as f:
        json.dump(bad, f)
    before = tree_sizes(s1)
    r = run(["merge", s1, s2, "--out", TMP + "/o2"])
    ok(r.returncode == 2, "merge: two cases sharing one directory are "
       "refused, exit 2", r.stdout)
    after = tree_sizes(s1)
    ok(before == after and all(v > 0 for k, v in after.items()
                               if k.endswith("history.jsonl")),
       "...and the input shard's evidence is untouched (no file emptied)",
       "%r\n%r" % (before, after))


# ------------------------------------------------------------------------
# Row 3: no cap on clients; row 4: YAML aliases expanded without limit
# ------------------------------------------------------------------------

def test_client_caps():
    groups = "".join("  - name: g%d\n    count: 20000\n    steps: [connect]\n"
                     % i for i in range(1500))
    f = write("crowd.yaml", "name: crowd\ndescription: 30 million.\n"
              "clients:\n" + groups)
    r = run(["check", f])
    ok(r.returncode == 2 and re.search(re.escape(f) + r":7:\d+: .*40000 "
                                       r"clients, over the limit of 20000",
                                       r.stdout),
       "check: 1,500 groups of 20,000 clients: exit 2 at the group that "
       "passes 20,000 (FILE:LINE:COLUMN)", r.stdout[-600:])
    r = run(["run", "--report-dir", TMP + "/r3", f])
    ok(r.returncode == 2 and not os.path.exists(TMP + "/r3"),
       "run: the same file exits 2 before anything starts (it crashed "
       "with SIGSEGV)", "%s\n%s" % (r.returncode, r.stdout[-600:]))
    big = write("big.yaml", "name: big\ndescription: 1 group of 100,000.\n"
                "clients:\n  - count: 100000\n    steps: [connect]\n")
    r = run(["check", big])
    ok(r.returncode == 2 and "'count' must be an integer from 1 to 20000"
       in r.stdout, "check: count 100000: exit 2, the range said",
       r.stdout)
    wide = write("wide.yaml", "name: wide\ndescription: 15,000 clients.\n"
                 "clients:\n  - count: 15000\n    steps: [connect]\n")
    r = run(["run", "--repeat", "4", "--jobs", "4", "--report-dir",
             TMP + "/r3b", wide], timeout=30)
    ok(r.returncode == 2 and "over the limit of 50000" in r.stdout and
       "--jobs" in r.stdout and not os.path.exists(TMP + "/r3b"),
       "run: 4 jobs of 15,000 clients (60,000 at once): exit 2 naming "
       "--jobs, before anything starts", r.stdout[-600:])


BOMB = """\
name: bomb
description: billion laughs
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
clients:
  - steps: [connect]
"""


def test_alias_bomb():
    f = write("bomb.yaml", BOMB)
    t0 = time.time()
    r = run(["check", f], prefix=["/usr/bin/time", "-f", "maxrss=%M"])
    took = time.time() - t0
    rss = re.search(r"maxrss=(\d+)", r.stdout)
    ok(r.returncode == 2 and re.search(re.escape(f) + r":\d+:\d+: aliases "
                                       r"expand the document past 100000 "
                                       r"nodes", r.stdout),
       "an alias bomb (%d bytes): exit 2, FILE:LINE:COLUMN of the alias "
       "that passes 100,000 nodes" % len(BOMB), r.stdout)
    if TOOL:
        ok(True, "# SKIP time and memory: not measured under %s" % TOOL)
    else:
        ok(took < 10 and rss and int(rss.group(1)) < 100 * 1024,
           "...in %.1f s and %s KB (it exhausted memory)" %
           (took, rss.group(1) if rss else "?"))
    r = run(["check", os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "data", "scenario", "good-anchors.yaml")])
    ok(r.returncode == 0, "anchors, aliases and merge keys within the "
       "budget still load", r.stdout)


# ------------------------------------------------------------------------
# Rows 8, 9 and 17: the report directory, a SIGKILLed harness under a
# forking wrapper, the secret on the gateway's command line
# ------------------------------------------------------------------------

def test_report_dir_link():
    os.makedirs(TMP + "/elsewhere")
    os.symlink(TMP + "/elsewhere", TMP + "/link")
    r = run(["run", "--report-dir", TMP + "/link", scen("fallback-ready")])
    ok(r.returncode == 2 and "symbolic link" in r.stdout and
       os.listdir(TMP + "/elsewhere") == [],
       "a report directory that is a symlink: exit 2, nothing written "
       "where it points", r.stdout)


def test_sigkill_under_forking_wrapper():
    rd = TMP + "/r9"
    secret = "hostile-secret-%d" % os.getpid()
    f = write("long.yaml", LONG)
    p = subprocess.Popen([WSRACE, "run", "--wrapper", "/usr/bin/time",
                          "--secret", secret, "--time-scale", "%g" % SCALE,
                          "--report-dir", rd, f],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = []
    deadline = time.time() + 30 * SCALE
    while time.time() < deadline and not gw:
        gw = [q for q in pids_with(rd.encode())
              if q != p.pid and b"wsrace-gateway" in
              open("/proc/%d/cmdline" % q, "rb").read().split(b"\0")[
                  1 if b"time" in open("/proc/%d/cmdline" % q,
                                       "rb").read().split(b"\0")[0]
                  else 0]]
        time.sleep(0.05)
    ok(gw, "a gateway runs under /usr/bin/time")
    cmdlines = b" ".join(open("/proc/%d/cmdline" % q, "rb").read()
                         for q in gw if os.path.exists("/proc/%d" % q))
    ok(gw and secret.encode() not in cmdlines,
       "the secret is not on the gateway's command line (ps shows it to "
       "every user)", cmdlines)
    tmps = [n for n in os.listdir(rd) if n.startswith(".tmp-")] \
        if os.path.isdir(rd) else []
    st = os.lstat(os.path.join(rd, tmps[0])) if tmps else None
    ok(len(tmps) == 1 and
       re.match(r"^\.tmp-\d{8}T\d{6}Z-\d+\.[A-Za-z0-9]{6}$", tmps[0]) and
       stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700,
       "the temporary run directory has an unpredictable name (mkdtemp, "
       "0700)", repr(tmps))
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    deadline = time.time() + 20 * SCALE
    while time.time() < deadline and pids_with(rd.encode()):
        time.sleep(0.1)
    left = pids_with(rd.encode())
    ok(not left, "SIGKILL to wsrace under --wrapper /usr/bin/time: no "
       "gateway is left (%d s bound)" % (20 * SCALE), repr(left))
    for q in left:
        os.kill(q, signal.SIGKILL)


# ------------------------------------------------------------------------
# Row 10: the readiness probe's key was not URL-encoded
# ------------------------------------------------------------------------

AMP = """\
# A session id that a query string must encode.
name: amp-probe
description: a client whose session id holds & and = probes itself.
clients:
  - user: amp
    session: "s&x=1 +%"
    steps:
      - connect
      - expect: connection_established
      - probe_ready: "{session}"
      - close
"""


def test_probe_encoding():
    rd = TMP + "/r10"
    r = run(["run", "--report-dir", rd, write("amp.yaml", AMP)])
    case = load(os.path.join(latest(rd), "summary.json"))["cases"][0]
    probes = []
    with open(os.path.join(latest(rd), case["dir"], "history.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            # the answer (the request is recorded too, as an invoke)
            if e.get("event") == "client.probe" and e.get("type") != "invoke":
                probes.append(e)
    ok(r.returncode == 0 and len(probes) == 1 and
       probes[0]["key"] == "s&x=1 +%" and probes[0].get("registered") is
       True and probes[0].get("ready") is True,
       "session 's&x=1 +%': probed as itself, registered and ready "
       "(it was probed as 's' and recorded not ready)",
       "%s\n%r" % (r.stdout[-400:], probes))


# ------------------------------------------------------------------------
# Row 12: paths; row 14: numbers; row 15: the printed replay command
# ------------------------------------------------------------------------

def test_paths():
    before = set(os.listdir(TMP))
    long_dir = os.path.join(TMP, "L" * 994)
    r = run(["run", "--report-dir", long_dir, scen("fallback-ready")])
    ok(r.returncode == 2 and "too long" in r.stdout.lower(),
       "a 994-character --report-dir component: exit 2, too long",
       r.stdout)
    deep = TMP + "/" + "/".join(["d" * 200] * 19)
    r = run(["run", "--report-dir", deep, scen("fallback-ready")])
    ok(r.returncode == 2 and "too long" in r.stdout.lower(),
       "a --report-dir too long for the case files under it: exit 2",
       r.stdout)
    ok(set(os.listdir(TMP)) == before, "...and no stray directory is left",
       repr(set(os.listdir(TMP)) - before))
    r = run(["run", "--report-dir", "", scen("fallback-ready")])
    ok(r.returncode == 2 and "--report-dir" in r.stdout,
       "--report-dir '': exit 2 naming it", r.stdout)


FAKE_GW = r'''#!/usr/bin/python3
# A gateway that lies: MODE port prints a port that overflows an int,
# MODE status answers /healthz with a status that overflows one.
import http.server, os, socketserver, sys
mode = os.environ["FAKE_MODE"]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.wfile.write(b"HTTP/1.1 4294967496 OK\r\nContent-Length: 2\r\n"
                         b"\r\nok")
    def log_message(self, *a):
        pass
srv = socketserver.TCPServer(("127.0.0.1", 0), H)
port = srv.server_address[1]
if mode == "port":
    port += 4294967296
print("listening 127.0.0.1:%d" % port, flush=True)
srv.serve_forever()
'''


def test_numbers():
    for v in ("nan", "inf", "1e-300", "-1", "0.09", "1001", "x"):
        r = run(["run", "--time-scale", v, scen("fallback-ready")])
        ok(r.returncode == 2 and "--time-scale" in r.stdout,
           "--time-scale %s: exit 2 naming it" % v, r.stdout)
    fake = write("fake-gw", FAKE_GW, 0o755)
    for mode in ("port", "status"):
        os.environ["FAKE_MODE"] = mode
        t0 = time.time()
        r = subprocess.run([WSRACE, "run", "--target", fake, "--time-scale",
                            "0.2", "--report-dir", TMP + "/r14" + mode,
                            scen("fallback-ready")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60 * SCALE)
        c = load(os.path.join(latest(TMP + "/r14" + mode),
                              "summary.json"))["cases"][0]
        ok(r.returncode == 3 and c["target"]["state"] == "no-start" and
           time.time() - t0 < 20 * SCALE,
           "a gateway whose %s overflows an int: no-start, exit 3, within "
           "the bound (%s)" % (mode, c["target"]["error"]), r.stdout)
    del os.environ["FAKE_MODE"]


def test_shell_quoting():
    rd = os.path.join(TMP, "r;touch INJECTED;'q'$(touch INJECTED2)")
    r = run(["run", "--inject", "fallback-ready", "--report-dir", rd,
             scen("fallback-ready")])
    case = load(os.path.join(latest(rd), "summary.json"))["cases"][0]
    cmd = case["replay"]
    if TOOL:
        cmd = cmd.replace(" replay ", " replay --time-scale %g " % SCALE, 1)
    r2 = subprocess.run(["/bin/sh", "-c", cmd + " --report-dir " +
                         TMP + "/r15b"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, cwd=TMP,
                        timeout=120 * SCALE)
    ok(r.returncode == 0 and r2.returncode == 0 and
       "the same verdicts recurred" in r2.stdout,
       "the printed replay command, pasted into sh, replays the case "
       "from a report directory holding ; ' $( )", "%s\n%s" % (cmd,
                                                               r2.stdout))
    ok(not os.path.exists(os.path.join(TMP, "INJECTED")) and
       not os.path.exists(os.path.join(TMP, "INJECTED2")),
       "...and runs nothing the directory's name spells")


# ------------------------------------------------------------------------
# Row 17: a --url server whose answers never end
# ------------------------------------------------------------------------

class Endless(threading.Thread):
    """Answers every request with a 200 whose body never ends (256 MB at
    most, so that an unbounded reader shows in its RSS, not the
    machine's)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.stop = False

    def serve(self, c):
        try:
            c.recv(65536)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n"
                      b"\r\n")
            chunk = b"x" * 65536
            for _ in range(4096):
                if self.stop:
                    break
                c.sendall(chunk)
        except OSError:
            pass
        finally:
            c.close()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.srv.accept()
            except OSError:
                break
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()


def test_endless_url_server():
    srv = Endless()
    srv.start()
    t0 = time.time()
    r = run(["run", "--url", "ws://127.0.0.1:%d/ws" % srv.port,
             "--inject", "none", "--report-dir", TMP + "/r17",
             scen("fallback-ready")], timeout=120,
            prefix=["/usr/bin/time", "-f", "maxrss=%M"])
    took = time.time() - t0
    srv.stop = True
    srv.srv.close()
    rss = re.search(r"maxrss=(\d+)", r.stdout)
    ok(r.returncode in (1, 3) and took < 60 * SCALE,
       "a --url server whose answers never end: the run ends (exit %d, "
       "%.0f s)" % (r.returncode, took), r.stdout[-800:])
    if TOOL:
        ok(True, "# SKIP memory: not measured under %s" % TOOL)
    else:
        ok(rss and int(rss.group(1)) < 100 * 1024,
           "...and wsrace stays under 100 MB (%s KB): responses are "
           "bounded" % (rss.group(1) if rss else "?"))


def main():
    for t in (test_replay_file_chooses_nothing, test_merge_case_dirs,
              test_client_caps, test_alias_bomb, test_report_dir_link,
              test_sigkill_under_forking_wrapper, test_probe_encoding,
              test_paths, test_numbers, test_shell_quoting,
              test_endless_url_server):
        if os.environ.get("HOSTILE_ONLY", t.__name__) != t.__name__:
            continue
        try:
            t()
        except Exception as e:  # a broken test is a failed test
            ok(False, "%s raised %r" % (t.__name__, e))
    code = tap.finish(results)
    if code == 0 and not os.environ.get("WR_TEST_KEEP"):
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print("# kept %s" % TMP)
    return code


if __name__ == "__main__":
    sys.exit(main())
