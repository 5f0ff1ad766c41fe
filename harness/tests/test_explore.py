#!/usr/bin/python3
"""test_explore.py - exploration, shrinking and replay of a schedule, end to
end, as TAP.

usage: test_explore.py WSRACE GATEWAY SCENARIO_DIR

- The correct gateway explored for a while: exit 0, no finding, and the
  report says what was explored (iterations, interleavings).
- A fault injected into a scenario that does not expose it: exit 1, a
  finding naming the fault's check, a shrunk scenario with fewer clients
  that, run with the fault, fails the same check; the finding's
  replay.json replays to the same check.
- A race only the scheduler shows: two clients of one session, the
  duplicate-registration fault's check-then-insert window at
  registry.check, nothing scripted; PCT finds it and the recorded schedule
  replays it.
- Shards: two explore shards explore disjoint seeds; `wsrace merge`
  joins them with their findings.
- `wsrace shrink` on any replay.json; its refusals (a case that failed
  nothing, a file that is not a replay).
- Bad options and hostile schedules are refused with exit 2 and a
  message naming what is wrong.
Every run has a timeout; nothing is left running.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import tap

WSRACE, GATEWAY, SCEN = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="wsrace-explore-")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def run(args, timeout=400):
    return subprocess.run([WSRACE] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def load(path):
    with open(path) as f:
        return json.load(f)


def latest(report_dir):
    d = os.path.realpath(os.path.join(report_dir, "latest"))
    return d, load(os.path.join(d, "summary.json"))


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def fails(summary, check):
    return any(c["checks"].get(check, {}).get("verdict") == "FAIL"
               for c in summary["cases"])


TWO = write("two.yaml", """\
name: two-users
description: two users chat once each
clients:
  - count: 2
    user: u{g}
    session: s{g}
    steps:
      - connect
      - expect: {type: connection_established}
      - send: {type: user_message, data: {content: hi}, correlation_id: "{g}"}
      - expect: {type: agent_completed, match: {correlation_id: "{g}"}}
      - close
""")

TWINS = write("twins.yaml", """\
name: twins
description: two connections ask for one session, nothing scripted
clients:
  - count: 2
    user: ada
    session: twin
    steps:
      - connect
      - sleep: 200
""")


def t_clean():
    rep = os.path.join(TMP, "clean")
    p = run(["explore", "--inject", "none", "--budget", "0", "--runs", "40",
             "--seed", "5", "--report-dir", rep, TWO])
    d, s = latest(rep)
    e = s.get("explore") or {}
    ok(p.returncode == 0 and not e.get("findings"),
       "the correct gateway explored: exit 0, no finding", p.stdout[-1500:])
    ok(e.get("iterations") == 40 and e.get("schedules") == 40 and
       1 <= e.get("distinct", 0) <= 40 and e.get("strategy") == "pct",
       "the record says what was explored: 40 iterations under pct, "
       "their distinct interleavings", json.dumps(e)[:600])
    md = open(os.path.join(d, "report.md")).read()
    ok("## Exploration" in md and "No finding" in md and
       "distinct interleavings" in md,
       "report.md has the exploration and says there was no finding",
       md[:1500])
    ok("explore:" in p.stdout and "iterations (" in p.stdout,
       "a progress line: iterations per second", p.stdout[-800:])


def t_injected():
    """golden-path does not expose early-welcome; exploring it with the
    fault injected finds it, shrinks it, and the shrunk case fails the
    same check."""
    rep = os.path.join(TMP, "found")
    golden = os.path.join(SCEN, "10-golden-path.yaml")
    p = run(["explore", "--inject", "early-welcome", "--budget", "60",
             "--confirm", "3", "--shrink-budget", "60", "--report-dir", rep,
             golden], timeout=600)
    d, s = latest(rep)
    e = s.get("explore") or {}
    f = (e.get("findings") or [{}])[0]
    ok(p.returncode == 1 and f.get("check") == "false_readiness",
       "early-welcome injected into golden-path: exit 1, found by "
       "false_readiness", p.stdout[-2000:])
    ok(f.get("shrunk") and f["after"]["clients"] < f["before"]["clients"]
       and f["after"]["steps"] < f["before"]["steps"],
       "shrunk to fewer clients and steps", json.dumps(f)[:800])
    ok(f.get("confirm_runs") == 3 and f.get("confirmed") == 3,
       "the shrunk case failed the same check in each of its 3 replays",
       json.dumps(f)[:800])
    # scripts/mutate reads the same report for its exploration column.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "..", "scripts"))
    import mutate_passes
    mf = mutate_passes.first_finding(rep)
    ok(mf is not None and mf["check"] == "false_readiness" and
       os.path.exists(mf["replay"]),
       "scripts/mutate finds the finding and its replay.json in the report",
       repr(mf))
    yaml = os.path.join(d, f.get("yaml", "missing"))
    text = open(yaml).read() if os.path.exists(yaml) else ""
    ok(text.startswith("# Shrunk by wsrace") and "exposes:" in text and
       "early-welcome" in text and "seed:" in text,
       "the shrunk scenario: a header, the fault it exposes, its seed",
       text[:1500])
    p2 = run(["check", yaml])
    ok(p2.returncode == 0, "the shrunk scenario passes `wsrace check`",
       p2.stdout)
    rep2 = os.path.join(TMP, "shrunk-run")
    p3 = run(["run", "--inject", "exposed", "--report-dir", rep2, yaml])
    _, s3 = latest(rep2)
    ok(p3.returncode == 0 and fails(s3, "false_readiness"),
       "run as a regression scenario with its fault: false_readiness "
       "FAILs as it promises (exit 0)", p3.stdout[-1500:])
    p4 = run(["run", "--inject", "none", "--report-dir", rep2, yaml])
    _, s4 = latest(rep2)
    ok(p4.returncode == 0 and not fails(s4, "false_readiness"),
       "and without the fault every check passes", p4.stdout[-1500:])
    replay = os.path.join(d, "cases", f.get("case", "?"), "replay.json")
    good = 0
    for i in range(3):
        rp = run(["replay", replay, "--report-dir",
                  os.path.join(TMP, "replays")])
        good += "the same verdicts recurred" in rp.stdout
    ok(good == 3, "the finding's replay.json replays to the same verdicts "
       "(3 of 3)", "%d of 3" % good)
    md = open(os.path.join(d, "report.md")).read()
    ok("| | original | shrunk |" in md and "```yaml" in md and
       "### Finding 1" in md,
       "report.md shows the finding and its shrunk case side by side",
       md[-3000:])


def t_scheduled_race():
    """Two connections of one session with the duplicate-registration
    fault: check and insert are separate critical sections with the
    registry.check sync point between them. The scheduler holding both
    arrivals there is what makes both insert."""
    rep = os.path.join(TMP, "race")
    p = run(["explore", "--inject", "duplicate-registration", "--budget",
             "60", "--no-shrink", "--seed", "3", "--report-dir", rep, TWINS])
    d, s = latest(rep)
    e = s.get("explore") or {}
    f = (e.get("findings") or [{}])[0]
    ok(p.returncode == 1 and f.get("check") == "duplicate_registration",
       "PCT finds the check-then-insert race of two twins",
       p.stdout[-1500:])
    replay = os.path.join(d, "cases", f.get("case", "?"), "replay.json")
    r = load(replay) if os.path.exists(replay) else {}
    sched = r.get("schedule") or {}
    ok(sched.get("strategy") == "replay" and len(sched.get("releases", [])) > 4
       and all(len(x) == 4 for x in sched["releases"]),
       "replay.json carries the schedule: [point, session, n, parked] "
       "per release", json.dumps(sched)[:600])
    hist = os.path.join(d, "cases", f.get("case", "?"), "history.jsonl")
    events = [json.loads(l)["event"] for l in open(hist)] \
        if os.path.exists(hist) else []
    ok("sched.arrive" in events and "sched.release" in events and
       "sched.stats" in events,
       "every decision is in the history (sched.arrive, sched.release)",
       str(events[:20]))
    good = 0
    for i in range(5):
        rp = run(["replay", replay, "--report-dir",
                  os.path.join(TMP, "race-replays")])
        good += "the same verdicts recurred" in rp.stdout
    ok(good >= 4, "the recorded schedule replays the race (at least 4 of "
       "5; scripts/explore-faults measures 20)", "%d of 5" % good)
    # shrink, from the replay file, with its own command
    rep2 = os.path.join(TMP, "shrink")
    sp = run(["shrink", replay, "--budget", "40", "--confirm", "3",
              "--report-dir", rep2], timeout=400)
    d2, s2 = latest(rep2)
    e2 = s2.get("explore") or {}
    f2 = (e2.get("findings") or [{}])[0]
    ok(sp.returncode == 0 and f2.get("confirmed", 0) >= 1 and
       len(s2["cases"]) == 2 and s2.get("kind") == "shrink",
       "wsrace shrink REPLAY.json: the original and the shrunk case in one "
       "report", sp.stdout[-1500:])


def t_shards():
    reps = []
    for i in (1, 2):
        rep = os.path.join(TMP, "shard%d" % i)
        run(["explore", "--inject", "duplicate-registration", "--runs", "4",
             "--budget", "0", "--keep-going", "--no-shrink", "--seed", "100",
             "--shard", "%d/2" % i, "--report-dir", rep, TWINS, TWO])
        reps.append(latest(rep))
    seeds = [set(c["seed"] for c in s["cases"]) for _, s in reps]
    ok(reps[0][1]["explore"]["iterations"] == 4 and
       reps[1][1]["explore"]["iterations"] == 4 and
       not (seeds[0] & seeds[1]),
       "two shards explore disjoint seeds", str(seeds))
    out = os.path.join(TMP, "merged")
    p = run(["merge", reps[0][0], reps[1][0], "--out", out])
    m = load(os.path.join(out, "summary.json")) \
        if os.path.exists(os.path.join(out, "summary.json")) else {}
    e = m.get("explore") or {}
    n = sum(len(s["explore"]["findings"]) for _, s in reps)
    ok(p.returncode == 1 and e.get("iterations") == 8 and
       len(e.get("findings", [])) == n and n > 0 and
       len(m.get("cases", [])) == n,
       "wsrace merge joins them: 8 iterations, every finding, exit 1",
       p.stdout[-1200:])
    p2 = run(["merge", reps[0][0], "--out", os.path.join(TMP, "half")])
    ok(p2.returncode == 2 and "missing shard" in p2.stdout,
       "a merge without every shard is refused", p2.stdout[-600:])


def t_refusals():
    cases = [
        (["explore", "--strategy", "dfs", TWO], "--strategy"),
        (["explore", "--depth", "0", TWO], "--depth"),
        (["explore", "--budget", "0", TWO], "--budget 0 needs --runs"),
        (["explore", "--sync-control", "/tmp/x.sock", TWO], "--url"),
        (["run", "--strategy", "pct", TWO], "option of wsrace explore"),
        (["explore", "--tool", "memcheck", TWO], "natively"),
        (["shrink"], "give one replay.json"),
        (["shrink", TWO], "replay"),
    ]
    for args, want in cases:
        p = run(args)
        ok(p.returncode == 2 and want in p.stdout,
           "refused with exit 2: wsrace %s" % " ".join(args[:3]),
           p.stdout[-600:])
    # a replay whose case failed nothing: nothing to shrink
    rep = os.path.join(TMP, "passing")
    run(["run", "--inject", "none", "--report-dir", rep, TWO])
    d, s = latest(rep)
    replay = glob.glob(os.path.join(d, "cases", "*", "replay.json"))[0]
    p = run(["shrink", replay, "--report-dir", rep])
    ok(p.returncode == 2 and "failed no check" in p.stdout,
       "shrink of a case that failed nothing: exit 2, says so",
       p.stdout[-600:])
    # hostile schedules in a replay file: refused, never run
    base = load(replay)
    for bad, what in [
            ({"strategy": "replay", "releases": [["../../etc", "s", 0]]},
             "sync point name"),
            ({"strategy": "replay", "releases": [["auth.done", "s", -1]]},
             "release 1"),
            ({"strategy": "replay", "releases": [["auth.done", "x" * 200,
                                                  0]]}, "release 1"),
            ({"strategy": "chaos-monkey"}, "strategy")]:
        r = dict(base)
        r["schedule"] = bad
        path = write("bad-replay.json", json.dumps(r))
        p = run(["replay", path, "--report-dir", rep])
        ok(p.returncode == 2 and what in p.stdout,
           "a replay.json with a hostile schedule is refused (%s)" % what,
           p.stdout[-600:])
    # a scenario with a bad pinned schedule: file:line:column
    path = write("bad-sched.yaml", open(TWO).read() +
                 "schedule:\n  strategy: replay\n  releases: [[x, s]]\n")
    p = run(["check", path])
    ok(p.returncode == 2 and "bad-sched.yaml:" in p.stdout and
       "release 1" in p.stdout,
       "a scenario's bad schedule: FILE:LINE:COLUMN and what is wrong",
       p.stdout[-600:])


def main():
    try:
        for t in (t_clean, t_injected, t_scheduled_race, t_shards,
                  t_refusals):
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
