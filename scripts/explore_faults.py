#!/usr/bin/env python3
"""explore_faults.py - the body of scripts/explore-faults (see there).

For each fault of the gateway: `wsrace explore --inject FAULT` on a
scenario that does not expose it (golden-path by default) with the
default budget; then the finding's own replay.json replayed N times and
the shrunk scenario run N times, each counted when the same check fails.
Prints a table and the totals; exit 0 when every fault was found, shrunk,
and replayed at least 95% of the time, 1 otherwise, 3 when wsrace could
not run. Standard library only; every run has a timeout.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def sh(cmd, timeout):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return -1, "timed out after %d s" % timeout


def faults(wsrace):
    """The in-process faults `wsrace list` names (cluster faults need a
    cluster scenario and are reported as such)."""
    rc, out = sh([wsrace, "list"], 60)
    names, cluster, on = [], [], False
    for line in out.splitlines():
        if line.startswith("faults"):
            on = True
            continue
        if on and not line.strip():
            break
        if on and line.startswith("  ") and not line.startswith("   "):
            name = line.split()[0]
            (cluster if "cluster" in line else names).append(name)
    return names, cluster


# Where each fault is explored: a scenario that does not open its window.
# golden-path with client chaos (its probes reach readiness, its abrupt
# closes and reconnects the close paths) for all but one: a duplicate
# registration needs two clients asking for one session, which only
# duplicate-burst has; explored without its own windows (--no-sync) it
# promises nothing.
PLACES = {"duplicate-registration": ("scenarios/04-duplicate-burst.yaml",
                                     ["--no-sync"])}


def place(fault, default):
    return PLACES.get(fault, (default, ["--chaos"]))


def summary(report_dir):
    path = os.path.join(report_dir, "latest", "summary.json")
    with open(path) as f:
        return json.load(f), os.path.realpath(os.path.join(report_dir,
                                                           "latest"))


def check_failed(run_dir, check):
    """Whether the one case of a run failed check."""
    with open(os.path.join(run_dir, "summary.json")) as f:
        s = json.load(f)
    for c in s.get("cases", []):
        if c.get("checks", {}).get(check, {}).get("verdict") == "FAIL":
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wsrace", required=True)
    ap.add_argument("--scenario", default="scenarios/10-golden-path.yaml")
    ap.add_argument("--budget", type=int, default=60)
    ap.add_argument("--replays", type=int, default=20)
    ap.add_argument("--only", default="")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    names, cluster = faults(a.wsrace)
    if a.only:
        names = [n for n in names if n in a.only.split(",")]
    if not names:
        print("explore-faults: no fault to explore", file=sys.stderr)
        return 3
    tmp = tempfile.mkdtemp(prefix="wsrace-explore-faults-")
    rows, bad = [], 0
    try:
        for fault in names:
            rep = os.path.join(tmp, fault)
            t0 = time.time()
            scenario, flags = place(fault, a.scenario)
            rc, out = sh([a.wsrace, "explore", "--inject", fault,
                          "--budget", str(a.budget), "--report-dir", rep] +
                         flags + [scenario], a.budget + 600)
            took = time.time() - t0
            if rc not in (0, 1):
                print(out[-2000:], file=sys.stderr)
                return 3
            s, run_dir = summary(rep)
            e = s.get("explore") or {}
            f = (e.get("findings") or [None])[0]
            row = {"fault": fault, "found": f is not None,
                   "where": os.path.basename(scenario)[3:-5] + " " +
                   " ".join(flags),
                   "iterations": e.get("iterations", 0), "seconds": took}
            if f is None:
                rows.append(row)
                bad += 1
                continue
            check = f["check"]
            first = [c for c in s["cases"] if c["id"] == f["case"]][0]
            row.update(check=check, first_fail_ms=first.get("first_fail_ms"),
                       before=f["before"], after=f["after"],
                       shrunk=bool(f.get("shrunk")), confirmed=f["confirmed"],
                       confirm_runs=f["confirm_runs"])
            # The finding's own recording, replayed.
            ok = 0
            replay = os.path.join(run_dir, "cases", f["case"], "replay.json")
            for i in range(a.replays):
                rr = os.path.join(tmp, fault + "-replay")
                rc, out = sh([a.wsrace, "replay", replay, "--report-dir",
                              rr], 600)
                if rc in (0, 1) and check_failed(
                        os.path.realpath(os.path.join(rr, "latest")), check):
                    ok += 1
                shutil.rmtree(rr, ignore_errors=True)
            row["replayed"] = ok
            # The shrunk scenario as a regression test: with its fault
            # injected it must fail the check (the case is as expected).
            ok = 0
            yaml = os.path.join(run_dir, f["yaml"]) if f.get("yaml") else ""
            for i in range(a.replays if yaml else 0):
                rr = os.path.join(tmp, fault + "-shrunk")
                rc, out = sh([a.wsrace, "run", "--inject", "exposed",
                              "--report-dir", rr, yaml], 600)
                if rc == 0 and check_failed(
                        os.path.realpath(os.path.join(rr, "latest")), check):
                    ok += 1
                shutil.rmtree(rr, ignore_errors=True)
            row["shrunk_ok"] = ok
            rows.append(row)
            need = 0.95 * a.replays
            if not row["shrunk"] or row["replayed"] < need or ok < need:
                bad += 1
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%-23s %-28s %-5s %5s %7s  %-22s %-16s %8s %9s" % (
        "fault", "explored in", "found", "iters", "seconds", "check",
        "clients/steps", "replayed", "shrunk ok"))
    for r in rows:
        if not r["found"]:
            print("%-23s %-28s %-5s %5d %7.1f  (not found within %d s)" % (
                r["fault"], r["where"], "NO", r["iterations"], r["seconds"],
                a.budget))
            continue
        print("%-23s %-28s %-5s %5d %7.1f  %-22s %-16s %8s %9s" % (
            r["fault"], r["where"], "yes", r["iterations"], r["seconds"],
            r["check"],
            "%d/%d -> %d/%d" % (r["before"]["clients"], r["before"]["steps"],
                                r["after"]["clients"], r["after"]["steps"]),
            "%d/%d" % (r["replayed"], a.replays),
            "%d/%d" % (r["shrunk_ok"], a.replays)))
    if cluster:
        print("not explored here (cluster faults need a scenario with "
              "registry: redis): %s" % ", ".join(cluster))
    print("explore-faults: %d of %d fault(s) found, shrunk and replayed "
          "at least 95%% of the time" % (len(rows) - bad, len(rows)))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
