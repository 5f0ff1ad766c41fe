#!/usr/bin/python3
"""test_early.py - the early verdict (--early-verdict), end to end, as TAP.

usage: test_early.py WSRACE GATEWAY SCENARIO_DIR

With a race fault injected the case ends at its first conclusive failure,
long before its scenario's sleeps are over, on the check that must fail,
and the whole history confirms it; checks that need the whole case are not
judged. Without a fault nothing ends early and every check is judged. A
fault that only liveness sees (stuck-swap) runs its case out and is still
detected. Parallel jobs carry the early end back; an early case's
replay.json replays to the same verdicts without --early-verdict. Every
wait is bounded.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import tap

WSRACE, GATEWAY, SCEN = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="wsrace-early-")
SCALE = max(1.0, float(os.environ.get("WSRACE_TEST_TIME_SCALE") or 1))
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def run(args, timeout=300):
    return subprocess.run([WSRACE] + args + ["--target", GATEWAY],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout * SCALE)


def scen(name):
    for f in sorted(os.listdir(SCEN)):
        if f.endswith(".yaml") and f[3:-5] == name:
            return os.path.join(SCEN, f)
    raise FileNotFoundError(name)


def latest(report_dir):
    d = os.path.realpath(os.path.join(report_dir, "latest"))
    with open(os.path.join(d, "summary.json")) as f:
        return d, json.load(f)


def history(run_dir, case):
    with open(os.path.join(run_dir, case["dir"], "history.jsonl")) as f:
        return [json.loads(line) for line in f]


def verdicts(case):
    return {k: v["verdict"] for k, v in case["checks"].items()}


LONG_CHECKS = ("liveness", "registry_leak", "no_lost_messages", "steps")


def t_race_ends_early():
    rep = os.path.join(TMP, "dup")
    p = run(["run", "--inject", "duplicate-registration", "--early-verdict",
             "--repeat", "3", "--jobs", "2", "--report-dir", rep,
             scen("duplicate-registration")])
    d, s = latest(rep)
    cases = s["cases"]
    ok(p.returncode == 0 and len(cases) == 3 and
       all(c["as_expected"] for c in cases),
       "duplicate-registration injected, --early-verdict: 3 cases as "
       "expected", p.stdout[-1500:])
    ends = [c.get("early_end") or {} for c in cases]
    ok(all(e.get("check") == "duplicate_registration" and e.get("confirmed")
           for e in ends),
       "each ended early on duplicate_registration, confirmed by the whole "
       "history (and the end came back from the parallel jobs)",
       json.dumps(ends))
    ok(all(verdicts(c).get("duplicate_registration") == "FAIL"
           for c in cases) and
       not any(k in verdicts(c) for c in cases for k in LONG_CHECKS),
       "duplicate_registration FAIL; liveness, registry_leak, "
       "no_lost_messages and steps not judged over a case cut short",
       json.dumps([verdicts(c) for c in cases]))
    # The scenario's clients sleep 300 ms after their welcome: cut short,
    # none of them reached the end of its steps, and the harness closed
    # them after the early.end event.
    evs = history(d, cases[0])
    names = [e.get("event") for e in evs]
    end_at = names.index("early.end") if "early.end" in names else -1
    closes = [e for e in evs[end_at + 1:] if e.get("event") == "client.close"]
    ok(end_at >= 0 and "client.finished" not in names and closes and
       all(e.get("why") == "end of run" for e in closes),
       "the clients were closed after early.end, before their steps ended",
       json.dumps([(e.get("event"), e.get("why")) for e in evs])[-1500:])
    md = open(os.path.join(d, "report.md")).read()
    ok("on duplicate_registration)" in md,
       "report.md says the case ended early and on which check", md[-1500:])

    # Its replay.json, replayed as a whole case (no --early-verdict), fails
    # the same check; the checks the recording did not judge are not
    # compared.
    replay = os.path.join(d, cases[0]["dir"], "replay.json")
    p = subprocess.run([WSRACE, "replay", replay, "--target", GATEWAY,
                        "--report-dir", os.path.join(TMP, "r")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120 * SCALE)
    ok(p.returncode == 0 and "the same verdicts recurred" in p.stdout,
       "an early case's replay.json replays to the same verdicts as a "
       "whole case", p.stdout[-1500:])


def t_clean_runs_out():
    rep = os.path.join(TMP, "clean")
    p = run(["run", "--early-verdict", "--report-dir", rep,
             scen("golden-path"), scen("duplicate-registration")])
    _, s = latest(rep)
    ok(p.returncode == 0 and
       not any(c.get("early_end") for c in s["cases"]),
       "no fault injected: no case ends early", p.stdout[-1500:])
    ok(all(all(k in verdicts(c) and verdicts(c)[k] == "PASS"
               for k in LONG_CHECKS if k in verdicts(c)) and
           "liveness" in verdicts(c) for c in s["cases"]),
       "and every check is judged, liveness included",
       json.dumps([verdicts(c) for c in s["cases"]]))


def t_liveness_fault_runs_out():
    rep = os.path.join(TMP, "stuck")
    p = run(["run", "--inject", "stuck-swap", "--early-verdict",
             "--report-dir", rep, scen("stuck-swap")])
    _, s = latest(rep)
    c = s["cases"][0]
    ok(p.returncode == 0 and verdicts(c).get("liveness") == "FAIL" and
       not c.get("early_end"),
       "stuck-swap (seen only by liveness) runs its case out and is "
       "detected, though an allowed side effect fails on the way",
       json.dumps(verdicts(c)) + p.stdout[-800:])


def main():
    try:
        for t in (t_race_ends_early, t_clean_runs_out,
                  t_liveness_fault_runs_out):
            try:
                t()
            except (subprocess.TimeoutExpired, OSError, KeyError,
                    IndexError, ValueError) as e:
                ok(False, "%s ran to its end" % t.__name__, repr(e))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return tap.finish(results)


if __name__ == "__main__":
    sys.exit(main())
