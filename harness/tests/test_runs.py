#!/usr/bin/python3
"""test_runs.py - runs as a CI job uses them, end to end, as TAP.

usage: test_runs.py WSRACE GATEWAY SCENARIO_DIR

The reproduction matrix (DETECTED, MISSED, FALSE ALARM, and the exit code
that goes with them), replay.json and `wsrace replay`, `wsrace diff`,
sharding with `wsrace merge` (the same verdicts as one run), baselines,
parallel jobs, and the store (`latest`, --keep). A missed detection and a
false alarm are made real with gateway wrappers: one that drops --inject,
one that injects a fault nobody asked for. Every wait is bounded.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import tap

WSRACE, GATEWAY, SCEN = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="wsrace-runs-")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def run(args, timeout=300, **kw):
    return subprocess.run([WSRACE] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, **kw)


def scen(name):
    for f in sorted(os.listdir(SCEN)):
        if f.endswith(".yaml") and f[3:-5] == name:
            return os.path.join(SCEN, f)
    raise FileNotFoundError(name)


def load(path):
    with open(path) as f:
        return json.load(f)


def summary(report_dir):
    return load(os.path.join(report_dir, "latest", "summary.json"))


def wrapper(name, body):
    """A gateway wrapper script: body is shell that ends in exec."""
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


# Drops --inject and its value: every fault silently absent (MISSED).
DROP_INJECT = wrapper("no-inject-gw", """
skip=0
for a in "$@"; do
  shift
  if [ $skip = 1 ]; then skip=0; continue; fi
  if [ "$a" = --inject ]; then skip=1; continue; fi
  set -- "$@" "$a"
done
exec %s "$@"
""" % GATEWAY)

# Leaks every registration whatever was asked (a FALSE ALARM for "none").
LEAKY = wrapper("leaky-gw", 'exec %s "$@" --inject registry-leak' % GATEWAY)


def cells(s):
    """{(row, scenario, check): cell} of a summary's matrix."""
    return {(c["row"], c["scenario"], c["check"]): c["cell"]
            for c in s["matrix"]["cells"]}


def verdicts(s):
    """{case id: (as_expected, {check: (verdict, expected)})}."""
    return {c["id"]: (c["as_expected"],
                      {k: (v["verdict"], v["expected"])
                       for k, v in c["checks"].items()})
            for c in s["cases"]}


def test_matrix():
    rd = TMP + "/m"
    r = run(["matrix", "--cells", "all", "--seeds", "2", "--faults",
             "fallback-ready,registry-leak", "--report-dir", rd,
             scen("fallback-ready"), scen("registry-leak")])
    ok(r.returncode == 0, "matrix: exit 0 when every detection is N/N and "
       "nothing fires without a fault", r.stdout)
    s = summary(rd)
    c = cells(s)
    ok(s["kind"] == "matrix" and s["matrix"]["seeds"] == 2,
       "matrix: summary.json says matrix, 2 seeds", json.dumps(s["matrix"])[:300])
    ok([x["label"] for x in s["matrix"]["rows"]] ==
       ["none", "fallback-ready", "registry-leak"],
       "matrix: rows are none, then each fault alone",
       json.dumps(s["matrix"]["rows"]))
    ok(c[("fallback-ready", "fallback-ready", "false_readiness")] == "DETECTED"
       and c[("registry-leak", "registry-leak", "registry_leak")] == "DETECTED",
       "matrix: each fault DETECTED in the scenario that exposes it",
       str(c)[:1500])
    ok(all(v == "clean" for (row, _, _), v in c.items() if row == "none"),
       "matrix: the none row is clean everywhere",
       str([(k, v) for k, v in c.items() if k[0] == "none"]))
    ok(c[("registry-leak", "fallback-ready", "registry_leak")] in
       ("allowed", "clean"),
       "matrix: a fault the scenario does not promise may fire (allowed)",
       str(c[("registry-leak", "fallback-ready", "registry_leak")]))
    ok("DETECTED 2/2" in r.stdout or "matrix: 0 missed, 0 false alarm" in
       r.stdout, "matrix: printed on the terminal", r.stdout)
    md = open(os.path.join(rd, "latest", "report.md")).read()
    ok("DETECTED 2/2" in md, "matrix: report.md has the matrix", md[:2000])
    # The default: a fault row only where a scenario exposes the fault.
    rd = TMP + "/m-exposed"
    r = run(["matrix", "--seeds", "2", "--faults",
             "fallback-ready,registry-leak", "--report-dir", rd,
             scen("fallback-ready"), scen("registry-leak")])
    s = summary(rd)
    c = cells(s)
    planned = sorted(set((x["scenario"]["name"], ",".join(x["inject"]))
                         for x in s["cases"]))
    ok(r.returncode == 0 and planned == [
        ("fallback-ready", ""), ("fallback-ready", "fallback-ready"),
        ("registry-leak", ""), ("registry-leak", "registry-leak")],
       "matrix --cells exposed (the default): each fault only where a "
       "scenario exposes it, nothing injected everywhere", str(planned))
    ok(c[("fallback-ready", "fallback-ready", "false_readiness")] ==
       "DETECTED" and ("registry-leak", "fallback-ready", "registry_leak")
       not in c or c[("registry-leak", "fallback-ready", "registry_leak")]
       == "not run",
       "matrix --cells exposed: the detections, and no cell for a fault "
       "where nothing exposes it", str(c)[:1500])

    # A gateway that ignores --inject: the detection is MISSED, exit 1.
    rd2 = TMP + "/m-missed"
    r = run(["matrix", "--cells", "all", "--seeds", "1", "--faults", "fallback-ready",
             "--target", DROP_INJECT, "--report-dir", rd2,
             scen("fallback-ready")])
    c = cells(summary(rd2))
    ok(r.returncode == 1 and
       c[("fallback-ready", "fallback-ready", "false_readiness")] == "MISSED",
       "matrix: a missed detection is MISSED and exits 1", r.stdout)

    # A gateway that leaks without being asked: FALSE ALARM, exit 1.
    rd3 = TMP + "/m-false"
    r = run(["matrix", "--cells", "all", "--seeds", "1", "--faults", "fallback-ready",
             "--target", LEAKY, "--report-dir", rd3, scen("fallback-ready")])
    c = cells(summary(rd3))
    ok(r.returncode == 1 and
       c[("none", "fallback-ready", "registry_leak")] == "FALSE ALARM",
       "matrix: a FAIL without its fault is a FALSE ALARM and exits 1",
       r.stdout)

    # Bad input: named, exit 2, nothing written.
    r = run(["matrix", "--cells", "all", "--faults", "no-such", "--report-dir", TMP + "/m-bad",
             scen("fallback-ready")])
    ok(r.returncode == 2 and "no-such" in r.stdout and
       not os.path.exists(TMP + "/m-bad"),
       "matrix: an unknown fault exits 2 naming it, no report", r.stdout)


def test_baseline():
    rd = TMP + "/b"
    base = TMP + "/baseline.json"
    r = run(["matrix", "--cells", "all", "--seeds", "1", "--faults", "fallback-ready",
             "--write-baseline", base, "--report-dir", rd,
             scen("fallback-ready")])
    ok(r.returncode == 0 and os.path.exists(base),
       "baseline: --write-baseline writes the matrix", r.stdout)
    r = run(["matrix", "--cells", "all", "--seeds", "1", "--faults", "fallback-ready",
             "--baseline", base, "--report-dir", rd, scen("fallback-ready")])
    ok(r.returncode == 0 and "0 regression(s)" in r.stdout,
       "baseline: the same gateway has no regression", r.stdout)
    r = run(["matrix", "--cells", "all", "--seeds", "1", "--faults", "fallback-ready",
             "--baseline", base, "--target", DROP_INJECT, "--report-dir", rd,
             scen("fallback-ready")])
    ok(r.returncode == 1 and "REGRESSION" in r.stdout and
       "false_readiness: DETECTED -> MISSED" in r.stdout,
       "baseline: a lost detection is a regression, exit 1", r.stdout)
    b = summary(rd)["baseline"]
    ok(b and any(x["check"] == "false_readiness" for x in b["regressions"]),
       "baseline: summary.json lists the regression", json.dumps(b)[:800])
    bad = os.path.join(TMP, "not-a-baseline.json")
    with open(bad, "w") as f:
        f.write('{"cells": 3}')
    r = run(["matrix", "--cells", "all", "--baseline", bad, "--report-dir", rd,
             scen("fallback-ready")])
    ok(r.returncode == 2 and "not-a-baseline.json" in r.stdout,
       "baseline: a bad file exits 2 naming it", r.stdout)


def test_replay():
    # The scenario is copied, run, then deleted: replay needs only its file.
    path = os.path.join(TMP, "01-fallback-ready.yaml")
    shutil.copy(scen("fallback-ready"), path)
    rd = TMP + "/rp"
    r = run(["run", "--inject", "fallback-ready", "--seed", "7",
             "--report-dir", rd, path])
    ok(r.returncode == 0, "replay: the original run", r.stdout)
    os.unlink(path)
    c = summary(rd)["cases"][0]
    rp = os.path.join(rd, "latest", c["dir"], "replay.json")
    j = load(rp)
    ok(j["seed"] == 7 and j["inject"] == "fallback-ready" and
       "name: fallback-ready" in j["scenario"]["text"] and
       j["verdicts"]["false_readiness"] == "FAIL" and
       isinstance(j["gateway_args"], list) and
       "--secret" not in j["gateway_args"] and
       "wsrace-harness-secret" not in json.dumps(j),
       "replay.json: scenario text, faults, seed, gateway args (no secret: "
       "the gateway gets it in its environment), verdicts",
       json.dumps(j)[:1500])
    ok(c["replay"].endswith(" replay " + os.path.join(
        rd, os.readlink(os.path.join(rd, "latest")), c["dir"], "replay.json")),
       "the report's replay command names the case's replay.json",
       c["replay"])
    r = run(["replay", "--report-dir", TMP + "/rp2", rp])
    ok(r.returncode == 0 and "the same verdicts recurred" in r.stdout,
       "replay: a replayed failure reproduces (exit 0)", r.stdout)
    s2 = summary(TMP + "/rp2")
    ok(s2["kind"] == "replay" and s2["cases"][0]["seed"] == 7 and
       s2["cases"][0]["inject"] == ["fallback-ready"],
       "replay: same seed and faults", json.dumps(s2["cases"][0])[:500])
    j["verdicts"]["false_readiness"] = "PASS"
    forged = os.path.join(TMP, "forged-replay.json")
    with open(forged, "w") as f:
        json.dump(j, f)
    r = run(["replay", "--report-dir", TMP + "/rp3", forged])
    ok(r.returncode == 1 and "false_readiness" in r.stdout and
       "was PASS, now FAIL" in r.stdout,
       "replay: different verdicts exit 1 with the difference", r.stdout)
    r = run(["replay", os.path.join(TMP, "nothing.json")])
    ok(r.returncode == 2 and "nothing.json" in r.stdout,
       "replay: a missing file exits 2 naming it", r.stdout)


def test_diff():
    a, b = TMP + "/d-none", TMP + "/d-fault"
    run(["run", "--inject", "none", "--report-dir", a,
         scen("fallback-ready")])
    run(["run", "--inject", "fallback-ready", "--report-dir", b,
         scen("fallback-ready")])
    ra, rb = os.path.join(a, "latest"), os.path.join(b, "latest")
    r = run(["diff", ra, rb])
    newly = r.stdout.split("newly failing:")[1].split("newly passing:")[0]
    ok(r.returncode == 1, "diff: something newly fails: exit 1", r.stdout)
    ok(newly.strip().startswith("1") and "false_readiness" in newly and
       "registry_leak" not in newly,
       "diff: names exactly the fault's check (false_readiness)", r.stdout)
    r = run(["diff", rb, ra])
    ok(r.returncode == 0 and "newly passing: 1" in r.stdout,
       "diff: the other way it newly passes, exit 0", r.stdout)
    r = run(["diff", ra, os.path.join(ra, "summary.json")])
    ok(r.returncode == 0 and "newly failing: 0" in r.stdout,
       "diff: a run against itself (dir vs file): nothing changed", r.stdout)
    r = run(["diff", ra, TMP + "/nope"])
    ok(r.returncode == 2 and "nope" in r.stdout,
       "diff: a missing run exits 2 naming it", r.stdout)


def test_shards():
    args = ["matrix", "--cells", "all", "--seeds", "2", "--faults",
            "fallback-ready,duplicate-registration",
            scen("fallback-ready"), scen("duplicate-registration")]
    whole = TMP + "/s-whole"
    r = run(args[:1] + ["--report-dir", whole, "--jobs", "1"] + args[1:])
    ok(r.returncode == 0, "shards: the unsharded matrix", r.stdout)
    dirs = []
    for i in (1, 2, 3):
        rd = TMP + "/s-%d" % i
        r = run(args[:1] + ["--shard", "%d/3" % i, "--report-dir", rd] +
                args[1:])
        ok(r.returncode in (0, 1), "shards: shard %d/3 ran" % i, r.stdout)
        dirs.append(os.path.realpath(os.path.join(rd, "latest")))
    sizes = [len(load(d + "/summary.json")["cases"]) for d in dirs]
    W = summary(whole)
    ok(sum(sizes) == len(W["cases"]) and min(sizes) > 0,
       "shards: 3 shards split the %d cases (%s)" % (len(W["cases"]), sizes))
    out = TMP + "/s-merged"
    r = run(["merge"] + dirs[:2] + ["--out", out])
    ok(r.returncode == 2 and "missing shard" in r.stdout and
       not os.path.exists(out),
       "merge: a missing shard exits 2, nothing written", r.stdout)
    r = run(["merge"] + dirs + ["--out", out])
    ok(r.returncode == 0, "merge: the three shards", r.stdout)
    M = load(out + "/summary.json")
    parts = {}
    for d in dirs:
        parts.update(verdicts(load(d + "/summary.json")))
    ok(verdicts(M) == parts and set(parts) == set(verdicts(W)),
       "merge: every case of every shard, with its verdicts, and the same "
       "cases as the unsharded run", json.dumps([verdicts(M), parts])[:2000])
    # A side effect a fault may or may not have (expected ANY) depends on
    # the race of each run; every verdict that was due must agree.
    due = {k: v for k, v in cells(W).items() if v not in ("allowed", "clean")}
    ok(all(cells(M).get(k) == v for k, v in due.items()) and
       set(cells(M)) == set(cells(W)),
       "merge: the same matrix as the unsharded run, cell by cell where a "
       "verdict was due", repr([cells(M), cells(W)])[:2000])
    fails = [(c["id"], k, len(v["evidence"])) for c in M["cases"]
             for k, v in c["checks"].items() if v["verdict"] == "FAIL"]
    ok(fails and all(n > 0 for _, _, n in fails),
       "merge: every FAIL read back from the shards keeps its evidence",
       str(fails))
    ok(all(os.path.exists(os.path.join(out, c["dir"], "history.jsonl"))
           for c in M["cases"]),
       "merge: every case's evidence files are in the merged run")
    j = os.path.join(out, "junit.xml")
    ok(os.path.exists(j) and open(j).read().count("<testcase") ==
       open(os.path.join(whole, "latest", "junit.xml")).read().count(
           "<testcase"), "merge: junit.xml with every testcase")
    other = TMP + "/s-other"
    run(["matrix", "--cells", "all", "--seeds", "1", "--faults", "fallback-ready", "--shard",
         "1/3", "--report-dir", other, scen("fallback-ready")])
    r = run(["merge", dirs[0], os.path.realpath(other + "/latest"),
             dirs[2], "--out", TMP + "/s-mixed"])
    ok(r.returncode == 2 and "not a shard of the plan" in r.stdout,
       "merge: shards of another plan are refused", r.stdout)


def test_store():
    rd = TMP + "/k"
    ids = []
    for _ in range(3):
        r = run(["run", "--inject", "none", "--keep", "2", "--report-dir", rd,
                 scen("fallback-ready")])
        ids.append(os.readlink(os.path.join(rd, "latest")))
        time.sleep(1.1)  # run ids are per second and pid
    runs = sorted(d for d in os.listdir(rd) if d[0].isdigit())
    ok(runs == sorted(ids[1:]) and len(set(ids)) == 3,
       "store: --keep 2 keeps the two newest runs", str((runs, ids)))
    ok(os.readlink(os.path.join(rd, "latest")) == ids[-1],
       "store: latest points at the newest")


def test_jobs_interrupt():
    rd = TMP + "/j"
    p = subprocess.Popen([WSRACE, "matrix", "--cells", "all", "--seeds", "3", "--jobs", "3",
                          "--faults", "stuck-swap", "--report-dir", rd,
                          scen("golden-path")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    time.sleep(2.5)
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) == p.pid and int(d) != p.pid:
                    kids.append(int(d))  # same process group
            except (OSError, IndexError, ValueError):
                pass
    os.kill(p.pid, signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    ok(p.returncode == 130, "jobs: SIGTERM to the parent exits 130", out)
    time.sleep(0.5)
    left = [k for k in kids if os.path.exists("/proc/%d" % k)]
    ok(not left, "jobs: no job or gateway outlives the run", str(left))
    ok(not os.path.exists(rd) or not [d for d in os.listdir(rd)
                                      if d != "latest"],
       "jobs: nothing published, no temp dir left",
       str(os.listdir(rd) if os.path.exists(rd) else []))


def test_tools():
    """The memory_safety check under memcheck and under an ASan build:
    scope-loss=crash shows its invalid access with the stack, the correct
    gateway is clean. Only in a plain build: a sanitizer build has no
    -asan/-tsan variants, and valgrind cannot run an instrumented gateway."""
    if not os.path.exists(GATEWAY + "-asan"):
        ok(True, "tools: skipped in a sanitizer build (no %s-asan)" % GATEWAY)
        return
    for how, args in (("memcheck", ["--tool", "memcheck"]),
                      ("asan", ["--target-build", "asan"])):
        rd = TMP + "/t-" + how
        r = run(["run"] + args + ["--inject", "exposed", "--inject", "none",
                                  "--report-dir", rd, scen("scope-loss")])
        ok(r.returncode == 0, "%s: crash detected, clean without: exit 0" % how,
           r.stdout)
        s = summary(rd)
        crash, clean = s["cases"]
        ms = crash["checks"].get("memory_safety", {})
        tops = [e["line"].get("top") or "" for e in ms.get("evidence", [])
                if isinstance(e.get("line"), dict)]
        ok(ms.get("verdict") == "FAIL" and ms.get("expected") == "FAIL" and
           any("gw_registry_rekey" in t for t in tops),
           "%s: memory_safety FAIL with the stack of the invalid access" % how,
           json.dumps(ms)[:2000])
        ms = clean["checks"].get("memory_safety", {})
        ok(ms.get("verdict") == "PASS" and "data_race" not in clean["checks"],
           "%s: the correct gateway: memory_safety PASS, no race verdict "
           "from a tool that does not look for races" % how,
           json.dumps(clean["checks"])[:1500])
        md = open(os.path.join(rd, "latest", "report.md")).read()
        ok("gw_registry_rekey" in md, "%s: report.md shows the stack" % how)
        if how == "asan":
            # The replay runs the same sanitizer build, so the same
            # analysis check runs and gives the same verdict.
            rp = os.path.join(rd, "latest", crash["dir"], "replay.json")
            r = run(["replay", rp, "--report-dir", rd + "-replay"])
            rs = summary(rd + "-replay")["cases"][0]["checks"]
            ok(r.returncode == 0 and "the same verdicts recurred" in r.stdout
               and rs.get("memory_safety", {}).get("verdict") == "FAIL",
               "asan: replaying the case runs the sanitizer build again "
               "and the verdicts recur", r.stdout)
    r = run(["run", "--tool", "cachegrind", scen("scope-loss")])
    ok(r.returncode == 2 and "--tool" in r.stdout,
       "--tool: an unknown tool exits 2", r.stdout)


def test_wrapper_children():
    """A wrapper that runs the gateway as its child and does not pass
    SIGTERM on: the gateway must not outlive the run."""
    wrap = wrapper("forking-wrapper", '"$@" &\nwait')
    rd = TMP + "/w"
    r = run(["run", "--wrapper", "/bin/sh " + wrap, "--inject", "none",
             "--report-dir", rd, scen("fallback-ready")])
    ok(r.returncode == 0, "wrapper: the case ran under a forking wrapper",
       r.stdout)
    time.sleep(0.3)
    left = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if rd.encode() in f.read():
                        left.append(int(d))
            except OSError:
                pass
    ok(not left, "wrapper: no gateway outlives its wrapper", str(left))


def pids_with(s):
    left = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if s.encode() in f.read():
                        left.append(int(d))
            except OSError:
                pass
    return left


def starts(rd, case):
    """The target.start event of a case, and its trace's gateway.start."""
    d = os.path.join(rd, "latest", case["dir"])
    with open(os.path.join(d, "history.jsonl")) as f:
        evs = [json.loads(line) for line in f]
    ts = [e for e in evs if e.get("event") == "target.start"]
    gs = [e for e in evs if e.get("event") == "gateway.start"]
    return (ts[0] if ts else {}), (gs[0] if gs else {})


def test_warm():
    """Each case's gateway starts while the case before it runs: the next
    cases of a job take their spare; every case's gateway is its own (its
    faults, its seed, its trace); a wrapper gets no spare; nothing
    outlives the run, finished or interrupted."""
    rd = TMP + "/warm"
    r = run(["run", "--jobs", "1", "--repeat", "2", "--inject", "exposed",
             "--inject", "none", "--report-dir", rd,
             scen("duplicate-registration")])
    ok(r.returncode == 0, "warm: every case as expected", r.stdout)
    s = summary(rd)
    warm = [starts(rd, c)[0].get("warm", False) for c in s["cases"]]
    ok(len(warm) == 4 and not warm[0] and all(warm[1:]),
       "warm: the first case starts its gateway, the next ones take "
       "theirs warm", str(warm))
    own = True
    for c in s["cases"]:
        t, g = starts(rd, c)
        inj = c["inject"] if isinstance(c["inject"], list) else \
            [c["inject"]]
        want = [x.split("=")[0] for x in inj if x and x != "none"]
        have = g.get("faults") or ""
        own = own and t.get("pid") == g.get("pid") and \
            g.get("seed") == c["seed"] and \
            all(w in have for w in want) and (bool(want) == bool(have))
    ok(own, "warm: each case's gateway is its own: pid, seed and faults "
       "of its trace are the case's", json.dumps(s["cases"])[:600])
    time.sleep(0.3)
    ok(not pids_with(rd), "warm: no gateway outlives the run",
       str(pids_with(rd)))

    rd = TMP + "/warm-wrap"
    r = run(["run", "--jobs", "1", "--repeat", "2", "--wrapper",
             "/usr/bin/env", "--report-dir", rd,
             scen("duplicate-registration")])
    s = summary(rd)
    ok(r.returncode == 0 and
       not any(starts(rd, c)[0].get("warm") for c in s["cases"]),
       "warm: a case under a wrapper starts its own gateway", r.stdout)

    # Explore: findings keep their directories; a fault the scenario does
    # not expose makes every iteration one. Its controlled gateways
    # connect to their scheduler as they start: the spare needs it.
    rd = TMP + "/warm-explore"
    r = run(["explore", "--jobs", "1", "--budget", "0", "--runs", "4",
             "--keep-going", "--no-shrink", "--inject", "registry-leak",
             "--report-dir", rd, scen("duplicate-registration")])
    s = summary(rd)
    warm = sorted((c["id"], bool(starts(rd, c)[0].get("warm")))
                  for c in s["cases"])
    ok(r.returncode == 1 and len(warm) == 4 and not warm[0][1] and
       all(w for _, w in warm[1:]),
       "warm: explore iterations after the first take their spare, "
       "scheduler and all", "%s %s" % (warm, r.stdout[-800:]))
    time.sleep(0.3)
    ok(not pids_with(rd), "warm: no gateway outlives an explore",
       str(pids_with(rd)))

    rd = TMP + "/warm-int"
    p = subprocess.Popen([WSRACE, "explore", "--budget", "60", "--jobs", "2",
                          "--report-dir", rd, scen("duplicate-registration")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    time.sleep(3)
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    time.sleep(0.5)
    ok(p.returncode == 130 and not pids_with(rd),
       "warm: explore interrupted: exit 130, no gateway or spare left",
       "%s %s" % (pids_with(rd), out[-500:]))


def main():
    for t in (test_warm, test_wrapper_children, test_tools, test_matrix, test_baseline, test_replay, test_diff, test_shards,
              test_store, test_jobs_interrupt):
        try:
            t()
        except Exception as e:  # a broken test is a failed test
            ok(False, "%s raised %r" % (t.__name__, e))
    shutil.rmtree(TMP, ignore_errors=True)
    return tap.finish(results)


if __name__ == "__main__":
    sys.exit(main())
