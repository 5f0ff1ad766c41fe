#!/usr/bin/python3
"""detect.py - integration test: a scenario detects its seed bug on every
seed with the fault injected, and reports no FAIL on any seed without it.

usage: detect.py WSRACE SCENARIO [SEEDS] [--clean-only]

Runs `wsrace run --inject exposed --inject none --repeat SEEDS` (only
`--inject none` with --clean-only, for scenarios that expose nothing) into
a temporary report directory, then reads summary.json and prints TAP:
  - the run exits 0 (every verdict as expected);
  - with the fault injected, every check the catalog says detects it is
    FAIL on SEEDS of SEEDS seeds;
  - with nothing injected, no check is FAIL on any seed (and no UNKNOWN).
The detection counts are printed as TAP comments for the closing note.

Under a tool setup (scripts/tool-wrap) wsrace and the gateways run under
the tool (WSRACE_TEST_WRAPPER), the bounds are multiplied by
WSRACE_TEST_TIME_SCALE and WSRACE_TEST_SEEDS, when set, replaces SEEDS.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import tap

TIMEOUT_S = 600


def main():
    wsrace, scenario = sys.argv[1], sys.argv[2]
    seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    seeds = int(os.environ.get("WSRACE_TEST_SEEDS") or seeds)
    wrap = os.environ.get("WSRACE_TEST_WRAPPER", "").split()
    scale = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))
    tool = ["--time-scale", "%g" % scale] if scale != 1 else []
    if wrap:
        tool += ["--wrapper", " ".join(wrap)]
    clean_only = "--clean-only" in sys.argv[4:]
    sets = ["--inject", "none"] if clean_only else [
        "--inject", "exposed", "--inject", "none"]
    tmp = tempfile.mkdtemp(prefix="wsrace-detect-")
    results = []

    def ok(cond, name, detail=""):
        results.append((bool(cond), name, detail))

    try:
        proc = subprocess.run(
            wrap + [wsrace, "run"] + tool + sets + [
             "--repeat", str(seeds), "--seed", "1",
             "--report-dir", tmp, scenario],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=TIMEOUT_S * scale, text=True)
        ok(proc.returncode == 0, "run exits 0 (every verdict as expected)",
           proc.stdout[-3000:])
        summary_path = os.path.join(tmp, "latest", "summary.json")
        ok(os.path.exists(summary_path), "summary.json written")
        if not os.path.exists(summary_path):
            return tap.finish(results, 40)
        with open(summary_path) as f:
            summary = json.load(f)
        cases = summary["cases"]
        injected = [c for c in cases if c["inject"]]
        clean = [c for c in cases if not c["inject"]]
        exposes = cases[0]["scenario"]["exposes"]
        ok(bool(exposes) != clean_only,
           "scenario exposes %r" % (exposes,))
        if exposes:
            ok(len(injected) == seeds,
               "%d cases with %s injected" % (seeds, ",".join(exposes)),
               "got %d" % len(injected))
            must = sorted({name for c in injected
                           for name, r in c["checks"].items()
                           if r["expected"] == "FAIL"})
            ok(len(must) > 0, "the catalog names a detecting check")
            for check in must:
                hits = sum(1 for c in injected
                           if c["checks"][check]["verdict"] == "FAIL")
                print("# %s: %s detected %d/%d seeds" %
                      (os.path.basename(scenario), check, hits, seeds))
                ok(hits == seeds, "%s FAIL on %d/%d seeds" %
                   (check, hits, seeds))
                # Every FAIL carries evidence a person can read.
                ok(all(c["checks"][check]["evidence"] for c in injected
                       if c["checks"][check]["verdict"] == "FAIL"),
                   "%s evidence present on every FAIL" % check)
        ok(len(clean) == seeds, "%d cases with nothing injected" % seeds,
           "got %d" % len(clean))
        false_alarms = [(c["id"], n) for c in clean
                        for n, r in c["checks"].items()
                        if r["verdict"] != "PASS"]
        print("# %s: %d non-PASS verdicts over %d clean seeds" %
              (os.path.basename(scenario), len(false_alarms), seeds))
        # What each false alarm showed, so that a rare one can be
        # diagnosed from the test log alone (the report is removed).
        shown = [json.dumps({"case": c["id"], "check": n, "result": r})[:1500]
                 for c in clean for n, r in c["checks"].items()
                 if r["verdict"] != "PASS"][:3]
        ok(not false_alarms, "no FAIL or UNKNOWN without injection",
           repr(false_alarms[:5]) + "".join("\n" + x for x in shown))
    except subprocess.TimeoutExpired:
        ok(False, "run finished within %d s" % (TIMEOUT_S * scale))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.finish(results, 40)


if __name__ == "__main__":
    sys.exit(main())
