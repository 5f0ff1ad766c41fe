#!/usr/bin/python3
"""test_cluster.py - integration test of cluster mode through the real
binaries: gateway instances sharing a Redis registry (docs/DESIGN.md,
"Cluster mode").

usage: test_cluster.py WSRACE GATEWAY SCENARIO_DIR BENCH_SCENARIO_DIR [SEEDS]

- The gateway refuses a fault of a cluster without a Redis registry
  (exit 2, naming the fault and --registry), and says so when the Redis
  server cannot be reached.

- Killing one of three instances mid-run (scenarios/18-cluster-kill.yaml,
  correct cluster, SEEDS seeds): every check passes; every session the
  dead instance held and never unregistered is recorded as expired
  (registry.expired, traced by a surviving instance's heartbeat) within
  its TTL and a heartbeat of the kill; nothing is left in the registry
  when the harness reads it; the restarted instance (a new incarnation,
  its connection ids apart) welcomes its new users; replay.json shows
  the topology.
- The cluster's golden path: 1,000 connections on two instances
  (bench/scenarios/load-cluster-1k.yaml) run clean, every client welcomed.

Each case starts its own redis-server (wsrace does) and stops it.
Prints TAP.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import tap

TIMEOUT_S = 600
CONN_INSTANCE_SHIFT = 40
CONN_INCARNATION_SHIFT = 32


def load_history(case_dir):
    with open(os.path.join(case_dir, "history.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def kill_case(ok, case, case_dir, ttl_ms):
    """The kill scenario's claims on one case."""
    name = case["id"]
    ok(case["as_expected"] and all(
        r["verdict"] == "PASS" for r in case["checks"].values()),
       "%s: every check PASS on the correct cluster" % name,
       json.dumps({n: r["summary"] for n, r in case["checks"].items()
                   if r["verdict"] != "PASS"}))
    hist = load_history(case_dir)
    kills = [e for e in hist if e["event"] == "instance.kill"]
    ok(len(kills) == 1 and kills[0]["instance"] == 1,
       "%s: instance 1 killed once" % name, repr(kills))
    if not kills:
        return
    kill_ns = kills[0]["ns"]
    # The sessions the dead process held: moved there by its own swap,
    # not unregistered before the kill.
    held = {}
    for e in hist:
        if e["src"] != "gateway" or e["ns"] > kill_ns:
            continue
        conn = e.get("conn", 0)
        dead = (conn >> CONN_INSTANCE_SHIFT == 1 and
                (conn >> CONN_INCARNATION_SHIFT) & 0xff == 0)
        if e["event"] == "registry.rekey" and e.get("result") == "moved" \
                and dead:
            held[e["key"]] = conn
        elif e["event"] == "registry.unregister" and \
                e.get("result") == "removed":
            held.pop(e["key"], None)
    ok(len(held) == 3, "%s: the dead instance held 3 sessions" % name,
       repr(held))
    expired = {e["key"]: e for e in hist
               if e["event"] == "registry.expired" and e["src"] == "gateway"}
    bound_ns = (ttl_ms + ttl_ms // 3 + 500) * 1000000
    late = {k: (expired[k]["ns"] - kill_ns) / 1e6 for k in held
            if k in expired and expired[k]["ns"] - kill_ns > bound_ns}
    missing = [k for k in held if k not in expired]
    ok(not missing and not late,
       "%s: each expired within its TTL and a heartbeat of the kill" % name,
       "missing %r, late (ms) %r" % (missing, late))
    ok(all(expired[k]["conn"] == held[k] and
           expired[k].get("owner_instance") == 1
           for k in held if k in expired),
       "%s: each expiry names its dead owner" % name)
    regs = [e for e in hist if e["event"] == "target.registry"]
    ok(regs and regs[-1]["count"] == 0 and regs[-1]["ns"] > kill_ns,
       "%s: the registry is empty when read after the kill" % name,
       repr(regs[-1:]))
    restarts = [e for e in hist if e["event"] == "instance.restart"]
    late_welcomes = [e for e in hist if e["src"] == "gateway" and
                     e["event"] == "welcome.sent" and
                     (e.get("conn", 0) >> CONN_INCARNATION_SHIFT) & 0xff == 1]
    ok(len(restarts) == 1 and len(late_welcomes) == 3,
       "%s: the restarted instance welcomed its 3 users" % name,
       "%d restarts, %d welcomes" % (len(restarts), len(late_welcomes)))
    with open(os.path.join(case_dir, "replay.json")) as f:
        topo = json.load(f).get("topology", {})
    ok(topo.get("instances") == 3 and topo.get("registry") == "redis" and
       len(topo.get("processes", [])) == 4,
       "%s: replay.json shows 3 instances, 4 processes, Redis" % name,
       repr(topo))


def main():
    wsrace, gateway = sys.argv[1], sys.argv[2]
    scen_dir, bench_dir = sys.argv[3], sys.argv[4]
    seeds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    seeds = int(os.environ.get("WSRACE_TEST_SEEDS") or seeds)
    scale = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))
    tool = ["--time-scale", "%g" % scale] if scale != 1 else []
    results = []

    def ok(cond, name, detail=""):
        results.append((bool(cond), name, detail))

    tmp = tempfile.mkdtemp(prefix="wsrace-cluster-")
    try:
        for fault in ("blind-unregister", "stale-presence",
                      "local-readiness"):
            proc = subprocess.run(
                [gateway, "--port", "0", "--inject", fault],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=30, text=True)
            ok(proc.returncode == 2 and fault in proc.stdout and
               "--registry redis://" in proc.stdout,
               "gateway refuses %s without a Redis registry" % fault,
               proc.stdout)
        proc = subprocess.run(
            [gateway, "--port", "0", "--registry", "redis://127.0.0.1:1",
             "--instance-id", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
            text=True)
        ok(proc.returncode != 0 and "cannot reach the registry" in
           proc.stdout, "gateway says when Redis cannot be reached",
           proc.stdout)
        kill = os.path.join(scen_dir, "18-cluster-kill.yaml")
        proc = subprocess.run(
            [wsrace, "run", "--inject", "none", "--repeat", str(seeds),
             "--report-dir", os.path.join(tmp, "kill"), kill] + tool,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=TIMEOUT_S * scale, text=True)
        ok(proc.returncode == 0, "kill: the run exits 0", proc.stdout[-3000:])
        run_dir = os.path.join(tmp, "kill", "latest")
        with open(os.path.join(run_dir, "summary.json")) as f:
            summary = json.load(f)
        ok(len(summary["cases"]) == seeds, "kill: %d cases" % seeds)
        for case in summary["cases"]:
            ok("3 instances sharing a Redis registry" in
               (case["target"].get("topology") or ""),
               "%s: summary.json gives the topology" % case["id"],
               repr(case["target"]))
            kill_case(ok, case, os.path.join(run_dir, case["dir"]), 1000)

        golden = os.path.join(bench_dir, "load-cluster-1k.yaml")
        proc = subprocess.run(
            [wsrace, "run", "--inject", "none", "--report-dir",
             os.path.join(tmp, "golden"), golden] + tool,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=TIMEOUT_S * scale, text=True)
        ok(proc.returncode == 0, "golden path: the run exits 0",
           proc.stdout[-3000:])
        with open(os.path.join(tmp, "golden", "latest",
                               "summary.json")) as f:
            case = json.load(f)["cases"][0]
        ok(case["established"] == 1000 and case["clients"] == 1000,
           "golden path: 1,000 clients on 2 instances, all welcomed",
           "%d of %d" % (case["established"], case["clients"]))
        ok(all(r["verdict"] == "PASS" for r in case["checks"].values()),
           "golden path: every check PASS",
           json.dumps({n: r["summary"] for n, r in case["checks"].items()
                       if r["verdict"] != "PASS"}))
        print("# golden path: 1,000 connections on 2 instances in %.0f ms"
              % case["duration_ms"])
    except subprocess.TimeoutExpired:
        ok(False, "runs finished within %d s" % (TIMEOUT_S * scale))
    except (OSError, ValueError, KeyError) as e:
        ok(False, "reports readable", repr(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.finish(results, 40)


if __name__ == "__main__":
    sys.exit(main())
