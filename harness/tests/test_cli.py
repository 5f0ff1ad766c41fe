#!/usr/bin/python3
"""test_cli.py - the wsrace command line, end to end, as TAP.

usage: test_cli.py WSRACE GATEWAY SCENARIO_DIR

Exit codes (0/1/2/3/130), scenario errors with their position, a crashing
gateway, a gateway that never starts, one that will not stop, an
interrupted run that leaves no report and no process behind, and the
black-box route (--url) with its UNKNOWN verdicts. Every wait is bounded;
every process started here is stopped here.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import tap
import time

WSRACE, GATEWAY, SCEN = sys.argv[1], sys.argv[2], sys.argv[3]
# Under a tool setup (meson test --setup valgrind, a sanitizer build) our
# binaries run under the tool: WRAP prefixes wsrace and the gateways started
# here, `wsrace run --wrapper` gets it for the gateways wsrace starts, and
# every bound is multiplied by SCALE (scripts/tool-wrap sets these).
TOOL = os.environ.get("WSRACE_TEST_TOOL", "")
WRAP = os.environ.get("WSRACE_TEST_WRAPPER", "").split()
SCALE = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))
TMP = tempfile.mkdtemp(prefix="wsrace-cli-")
results = []
procs = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def tool_args(args):
    """What `wsrace run` needs under a tool: the gateways it starts run
    under it too (not a --target of this file's own), and its bounds are
    scaled unless the test sets them."""
    if not args or args[0] != "run" or not TOOL:
        return args
    extra = []
    if WRAP and "--target" not in args and "--url" not in args:
        extra += ["--wrapper", " ".join(WRAP)]
    if "--time-scale" not in args:
        extra += ["--time-scale", "%g" % SCALE]
    return args[:1] + extra + args[1:]


def run(args, timeout=120, **kw):
    return subprocess.run(WRAP + [WSRACE] + tool_args(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout * SCALE, **kw)


def scen(name):
    """The shipped scenario called name (files are NN-name.yaml)."""
    for f in sorted(os.listdir(SCEN)):
        if f.endswith(".yaml") and f[3:-5] == name:
            return os.path.join(SCEN, f)
    raise FileNotFoundError(name)


def summary(report_dir):
    with open(os.path.join(report_dir, "latest", "summary.json")) as f:
        return json.load(f)


def write(name, text, mode=0o644):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def children_of(pid):
    """Pids whose parent is pid (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_gateway(*extra):
    """A gateway of our own for --url; returns (proc, port)."""
    port = free_port()
    p = subprocess.Popen(WRAP + [GATEWAY, "--host", "127.0.0.1", "--port",
                                 str(port), "--secret", "cli-secret"] +
                         list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    procs.append(p)
    deadline = time.time() + 10 * SCALE
    while time.time() < deadline:
        line = p.stdout.readline()
        if line.startswith("listening"):
            return p, port
    return p, None


def test_check():
    r = run(["check"] + sorted(
        os.path.join(SCEN, f) for f in os.listdir(SCEN) if f.endswith(".yaml")))
    ok(r.returncode == 0, "check: every shipped scenario is valid", r.stdout)
    bad = write("bad.yaml", "name: bad\ndescription: x\nclients:\n"
                "  - cuont: 3\n    steps: [connect]\n")
    r = run(["check", bad])
    ok(r.returncode == 2, "check: an invalid scenario exits 2", r.stdout)
    ok(re.search(re.escape(bad) + r":4:\d+:.*cuont", r.stdout),
       "check: the error names file:line:column and the key", r.stdout)
    r = run(["run", "--report-dir", TMP + "/r-bad", bad])
    ok(r.returncode == 2, "run: an invalid scenario exits 2", r.stdout)
    ok(not os.path.exists(TMP + "/r-bad/latest"),
       "run: no report for an invalid scenario")


def test_usage():
    r = run([])
    ok(r.returncode == 2, "no command exits 2")
    r = run(["run", "--bogus", scen("scope-loss")])
    ok(r.returncode == 2, "unknown option exits 2", r.stdout)
    r = run(["run", "--inject", "no-such-fault", scen("scope-loss")])
    ok(r.returncode == 2 and "no-such-fault" in r.stdout,
       "unknown fault exits 2 naming it", r.stdout)
    r = run(["run", "--seed", "x", scen("scope-loss")])
    ok(r.returncode == 2 and "--seed" in r.stdout, "bad seed exits 2", r.stdout)
    r = run(["list"], cwd=os.path.dirname(os.path.abspath(SCEN)))
    ok(r.returncode == 0 and "duplicate-registration" in r.stdout and
       "golden-path" in r.stdout, "list shows faults and scenarios", r.stdout)


def gateway_list(flag):
    """The first word of each line of `wsrace-gateway FLAG`, with the modes
    a fault line names ("(modes: crash, error, swallow)")."""
    r = subprocess.run([GATEWAY, flag], stdout=subprocess.PIPE, text=True,
                       timeout=30)
    out = {}
    for line in r.stdout.splitlines():
        if not line.strip():
            continue
        m = re.search(r"\(modes: ([^)]*)\)", line)
        out[line.split()[0]] = m.group(1).split(", ") if m else []
    return r.returncode, out


def test_vocabulary():
    """wsrace and the gateway name the same faults, modes and sync points:
    both read them from the common library, and this is what a user sees
    of that."""
    r = run(["list"], cwd=TMP)
    faults, points, section = {}, set(), None
    for line in r.stdout.splitlines():
        if line.startswith("faults"):
            section = "faults"
        elif line.startswith("checks"):
            section = "checks"
        elif line.startswith("sync points"):
            section = "sync"
        elif line.startswith("  ") and not line.startswith("   "):
            word = line.split()[0]
            if section == "faults" and "detected by" in line:
                faults[word] = []
            elif section == "sync":
                points.add(word)
        if section == "faults" and "; modes " in line:
            last = list(faults)[-1]
            faults[last] = line.split("; modes ")[1].split(", ")
    rc, gw_faults = gateway_list("--list-faults")
    ok(r.returncode == 0 and rc == 0 and faults and faults == gw_faults,
       "wsrace list and wsrace-gateway --list-faults name the same faults "
       "and modes", "%r\n%r" % (faults, gw_faults))
    rc, gw_points = gateway_list("--list-sync-points")
    ok(rc == 0 and points and points == set(gw_points),
       "wsrace list and wsrace-gateway --list-sync-points name the same "
       "points", "%r\n%r" % (points, gw_points))


def test_replay_options():
    """Options may follow the replay file; a version-1 replay.json (no
    tool recorded) still replays; a hostile one is refused."""
    rd = TMP + "/r-replay"
    r = run(["run", "--inject", "scope-loss", "--seed", "3", "--report-dir",
             rd, scen("scope-loss")])
    c = summary(rd)["cases"][0]
    rp = os.path.join(rd, "latest", c["dir"], "replay.json")
    rd2 = TMP + "/r-replay2"
    r = run(["replay", rp, "--report-dir", rd2])
    ok(r.returncode == 0 and "the same verdicts recurred" in r.stdout and
       os.path.exists(os.path.join(rd2, "latest", "summary.json")),
       "replay FILE --report-dir DIR: options after the operand", r.stdout)
    with open(rp) as f:
        old = json.load(f)
    old["wsrace_replay"] = 1
    old.pop("tool", None)
    v1 = write("v1-replay.json", json.dumps(old))
    r = run(["replay", "--report-dir", rd2, v1])
    ok(r.returncode == 0 and "the same verdicts recurred" in r.stdout,
       "a version-1 replay.json still replays", r.stdout)
    old["wsrace_replay"] = 99
    r = run(["replay", "--report-dir", rd2, write("v99.json",
                                                   json.dumps(old))])
    ok(r.returncode == 2 and "version 99" in r.stdout,
       "a replay.json of an unknown version is refused naming it", r.stdout)


def test_crash():
    rd = TMP + "/r-crash"
    r = run(["run", "--inject", "scope-loss", "--report-dir", rd,
             scen("scope-loss")])
    ok(r.returncode == 0, "scope-loss=crash: detected as expected, exit 0",
       r.stdout)
    s = summary(rd)
    c = s["cases"][0]
    # A sanitizer reports the SIGSEGV and exits non-zero instead.
    died = c["target"]["signal"] == 11 or (
        TOOL in ("asan", "tsan") and c["target"]["exit_code"] not in (0, -1))
    ok(c["target"]["state"] == "crashed" and died,
       "crash: the gateway's death by SIGSEGV is recorded", json.dumps(c["target"]))
    ev = c["checks"]["scope_loss"]["evidence"]
    ok(any(e["event"] == "swap.begin" for e in ev) and
       any(e["event"] == "target.exit" for e in ev),
       "crash: evidence holds the out-of-scope swap and the exit",
       json.dumps(ev)[:2000])
    case_dir = os.path.join(rd, "latest", c["dir"])
    ok(all(os.path.exists(os.path.join(case_dir, f)) for f in
           ("trace.jsonl", "history.jsonl", "gateway.log")),
       "crash: per-case trace, history and gateway log kept")
    rp = os.path.join(case_dir, "replay.json")
    ok(c["replay"] == "%s replay %s" % (
        WSRACE, os.path.join(rd, os.readlink(rd + "/latest"), c["dir"],
                             "replay.json")) and
       json.load(open(rp))["inject"] == "scope-loss",
       "crash: the replay command names replay.json, which names the fault",
       c["replay"])
    with open(os.path.join(rd, "latest", "junit.xml")) as f:
        junit = f.read()
    ok("scope_loss" in junit, "crash: junit.xml has the scope_loss testcase")
    # Without injection the same scenario is clean.
    r = run(["run", "--inject", "none", "--report-dir", rd,
             scen("scope-loss")])
    ok(r.returncode == 0, "scope-loss off: exit 0", r.stdout)
    c = summary(rd)["cases"][0]
    ok(all(v["verdict"] == "PASS" for v in c["checks"].values()),
       "scope-loss off: every check PASS", json.dumps(c["checks"])[:1500])
    # A fault injected into a scenario that does not promise to expose it
    # may fire (allowed, not required): exit 0, and the FAIL is reported.
    r = run(["run", "--inject", "registry-leak", "--report-dir", rd,
             scen("scope-loss")])
    c = summary(rd)["cases"][0]
    ok(r.returncode == 0 and
       c["checks"]["registry_leak"]["verdict"] == "FAIL" and
       c["checks"]["registry_leak"]["expected"] == "ANY",
       "an injected, unexposed fault may fire: expected ANY, exit 0",
       r.stdout)
    # A FAIL that nothing injected explains exits 1: a gateway that leaks
    # on its own.
    leaky = write("leaky-gw", '#!/bin/sh\nexec %s "$@" --inject '
                  'registry-leak\n' % GATEWAY, 0o755)
    r = run(["run", "--inject", "none", "--target", leaky, "--report-dir",
             rd, scen("scope-loss")])
    ok(r.returncode == 1, "an unexpected FAIL exits 1", r.stdout)


def test_no_start():
    rd = TMP + "/r-nostart"
    r = run(["run", "--target", "/nonexistent/gw", "--report-dir", rd,
             scen("scope-loss")])
    ok(r.returncode == 3, "missing gateway binary exits 3", r.stdout)
    silent = write("silent-gw", "#!/bin/sh\nexec sleep 30\n", 0o755)
    t0 = time.time()
    r = run(["run", "--target", silent, "--time-scale", "0.2",
             "--report-dir", rd, scen("scope-loss")], timeout=60)
    took = time.time() - t0
    ok(r.returncode == 3, "a gateway that never listens exits 3", r.stdout)
    ok(took < 15 * SCALE, "...within the start bound (%.1f s)" % took)
    c = summary(rd)["cases"][0]
    ok(c["target"]["state"] == "no-start" and c["target"]["error"],
       "no-start is reported with its reason", json.dumps(c["target"]))


HUNG_GW = r'''#!/usr/bin/python3
# A gateway that listens, answers /healthz and ignores SIGTERM.
import http.server, signal, socketserver, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"connections":[]}\n' if "registry" in self.path else b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = socketserver.TCPServer(("127.0.0.1", 0), H)
print("listening 127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
'''


def test_hung():
    rd = TMP + "/r-hung"
    hung = write("hung-gw", HUNG_GW, 0o755)
    p = subprocess.Popen(WRAP + [WSRACE, "run", "--target", hung,
                                 "--time-scale", "0.3", "--report-dir", rd,
                                 scen("scope-loss")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    gw_pids = set()
    deadline = time.time() + 60 * SCALE
    while p.poll() is None and time.time() < deadline:
        gw_pids.update(children_of(p.pid))
        time.sleep(0.05)
    out = (p.communicate(timeout=60 * SCALE)[0] if p.poll() is None
           else p.stdout.read())
    ok(p.returncode in (1, 3), "a gateway that ignores SIGTERM: run ends "
       "(exit %s)" % p.returncode, out)
    c = summary(rd)["cases"][0]
    ok(c["target"]["state"] == "hung", "...reported as hung",
       json.dumps(c["target"]))
    ok(gw_pids and not any(alive(q) for q in gw_pids),
       "...and killed: no gateway outlives the run (%s)" % sorted(gw_pids))


def test_interrupt():
    rd = TMP + "/r-int"
    p = subprocess.Popen(WRAP + [WSRACE] + tool_args(
        ["run", "--repeat", "50", "--report-dir", rd, scen("golden-path")]),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    gw_pids = set()
    deadline = time.time() + 3
    # Under a tool, wsrace takes longer to start its first gateway.
    while time.time() < deadline or (not gw_pids and
                                     time.time() < deadline + 30 * SCALE):
        gw_pids.update(children_of(p.pid))
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    try:
        out = p.communicate(timeout=60 * SCALE)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        out = p.communicate()[0]
    ok(p.returncode == 130, "SIGINT: exit 130", out)
    left = os.listdir(rd) if os.path.isdir(rd) else []
    ok(left == [], "SIGINT: no report and no temporary directory left",
       repr(left))
    time.sleep(0.2)
    ok(gw_pids and not any(alive(q) for q in gw_pids),
       "SIGINT: no gateway outlives the run (%s)" % sorted(gw_pids))


def test_url():
    rd = TMP + "/r-url"
    gw, port = start_gateway()
    ok(port is not None, "url: gateway of our own started")
    if port is None:
        return
    url = "ws://127.0.0.1:%d/ws" % port
    r = run(["run", "--url", url, "--secret", "cli-secret", "--inject",
             "none", "--report-dir", rd, scen("registry-leak")])
    ok(r.returncode == 0, "url: the correct gateway is as expected", r.stdout)
    c = summary(rd)["cases"][0]
    v = {k: x["verdict"] for k, x in c["checks"].items()}
    ok(v["coordinator_gap"] == "UNKNOWN",
       "url: a trace-only check is UNKNOWN", repr(v))
    ok(v["isolation"] == "PASS" and v["no_lost_messages"] == "PASS" and
       v["liveness"] == "PASS",
       "url: client-visible checks still decide", repr(v))
    r = run(["run", "--url", url, "--inject", "scope-loss", "--report-dir",
             rd, scen("registry-leak")])
    ok(r.returncode == 2, "url: injecting into an external gateway exits 2",
       r.stdout)
    gw.terminate()
    gw.wait(timeout=10 * SCALE)
    # The black-box route still catches a bug: the gateway below has
    # fallback-ready on, which wsrace cannot know about.
    gw, port = start_gateway("--inject", "fallback-ready")
    url = "ws://127.0.0.1:%d/ws" % port
    r = run(["run", "--url", url, "--secret", "cli-secret", "--inject",
             "none", "--report-dir", rd, scen("fallback-ready")])
    ok(r.returncode == 1, "url: a buggy external gateway gives exit 1",
       r.stdout)
    c = summary(rd)["cases"][0]
    ok(c["checks"]["false_readiness"]["verdict"] == "FAIL",
       "url: false_readiness caught from the client's probe alone",
       json.dumps(c["checks"]["false_readiness"])[:1500])
    gw.terminate()
    gw.wait(timeout=10 * SCALE)


def test_scale():
    """10,000 concurrent connections from one harness process."""
    if TOOL in ("memcheck", "helgrind", "drd", "tsan"):
        ok(True, "# SKIP scale: 10,000 connections are not run under %s"
           % TOOL)
        return
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 10300:
        ok(True, "# SKIP scale: descriptor hard limit %d < 10300" % hard)
        return
    rd = TMP + "/r-scale"
    yaml = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                        "run", "scale-10k.yaml")
    r = run(["run", "--report-dir", rd, yaml], timeout=300)
    ok(r.returncode == 0, "scale: 10,000 connections, every check PASS",
       r.stdout)
    c = summary(rd)["cases"][0]
    ok(c["clients"] == 10000 and c["established"] == 10000 and
       c["steps_failed"] == 0,
       "scale: all 10,000 welcomed, no step failed (%s established)" %
       c["established"])


def main():
    for t in (test_check, test_usage, test_vocabulary, test_replay_options,
              test_crash, test_no_start, test_hung, test_interrupt, test_url,
              test_scale):
        try:
            t()
        except Exception as e:  # a broken test is a failed test
            ok(False, "%s raised %r" % (t.__name__, e))
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)
    return tap.finish(results)


if __name__ == "__main__":
    sys.exit(main())
