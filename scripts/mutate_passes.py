"""scripts/mutate_passes.py - the passes of scripts/mutate beyond the
shipped scenarios (run scripts/mutate, not this).

Two measures that a mutant run reports beside the scenarios' verdicts,
each in its own column and its own score, never as a scenario kill:

- the gateway's unit tests (meson's tests in the suites 'gateway' and
  'unit', not 'cluster'), built from the mutated tree with the gateway and
  run as they are; a test that fails on the mutant and passes on the
  unmutated gateway kills it;
- an exploration of each mutant the scenarios left alive: `wsrace explore`
  under a PCT schedule of the gateway's sync points for a budget of
  seconds. A finding kills the mutant only when replaying its case fails
  the same way again on the mutant and passes every check on the
  unmutated gateway.

Python 3 standard library only; the processes run through mutate.py's
Runner (every wait bounded, every process group ours).
"""

import json
import os
import subprocess


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP, or a child that ended with 130: stop,
    clean up, publish nothing (mutate.py's, too)."""


# ---------------------------------------------------------------------------
# The gateway's unit tests
# ---------------------------------------------------------------------------


def unit_tests(build):
    """The gateway's unit tests of the configured meson build dir: a list
    of {name, cmd, env, timeout, target} (target: the ninja target of its
    program), from `meson introspect`. [] when the build has none (tests
    disabled, or Criterion missing)."""
    p = subprocess.run(["meson", "introspect", "--tests", build],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        return []
    tests = []
    for t in json.loads(p.stdout or "[]"):
        # meson names suites "project:suite".
        suites = {s.split(":")[-1] for s in t.get("suite") or []}
        if not {"gateway", "unit"} <= suites or "cluster" in suites:
            continue
        exe = t["cmd"][0]
        tests.append({"name": t["name"], "cmd": t["cmd"],
                      "env": t.get("env") or {},
                      "timeout": int(t.get("timeout") or 120),
                      "target": os.path.relpath(exe, build)})
    return sorted(tests, key=lambda t: t["name"])


def run_unit(runner, tests, build, name, logs):
    """Runs tests (unit_tests()) as built now. Returns {status: killed |
    survived | error, failed: [names], seconds, log}; killed when a test
    fails (or times out)."""
    out = os.path.join(logs, "unit-%s.log" % name)
    failed, seconds = [], 0.0
    if not tests:
        return {"status": "error", "failed": [], "seconds": 0.0, "log": out,
                "error": "no gateway unit test in the build"}
    for t in tests:
        env = dict(os.environ, **t["env"])
        with open(out, "a") as f:
            f.write("\n== %s: %s\n" % (t["name"], " ".join(t["cmd"])))
        rc, took = runner.timed(t["cmd"], t["timeout"], out, cwd=build,
                                env=env)
        seconds += took
        if rc == 130:
            raise Interrupted()
        if rc != 0:
            failed.append(t["name"])
    return {"status": "killed" if failed else "survived", "failed": failed,
            "seconds": round(seconds, 1), "log": out}


# ---------------------------------------------------------------------------
# Exploration
# ---------------------------------------------------------------------------


def explore(opts, runner, gateway, name, base, confirm=True, seed=None):
    """Explores gateway with the shipped scenarios for opts.explore
    seconds. Returns {status: killed | survived | unconfirmed | error, rc,
    seconds, finding, log, command, how}: killed when a finding's replay
    fails the same way on gateway and passes on the unmutated one (how:
    "replay"), or, when it does not replay, when a second exploration with
    other seeds finds a failure on gateway again (how: "found again": a
    race between two sync points, such as an unlocked queue, shows by
    exploring, not by replaying one schedule; the unmutated gateway's own
    exploration, run first, found nothing); unconfirmed otherwise;
    survived when nothing was found. Without confirm (the control's own
    exploration) a finding is left unconfirmed."""
    rdir = os.path.join(base, "explore", name + ("" if seed is None else
                                                 "-again"))
    out = os.path.join(base, "logs", "explore-%s%s.log" % (
        name, "" if seed is None else "-again"))
    os.makedirs(rdir, exist_ok=True)
    argv = [opts.harness, "explore", "--target", gateway, "--inject", "none",
            "--seed", str(opts.seed if seed is None else seed),
            "--budget", "%g" % opts.explore,
            "--no-shrink", "--report-dir", rdir
            ] + (["--chaos"] if opts.explore_chaos else []) + opts.scenarios
    # Past the budget the iterations under way end (each within its
    # scenario's timeout) and the report is written.
    rc, took = runner.timed(argv, int(opts.explore) + opts.timeout, out,
                            cwd=opts.root)
    res = {"rc": rc, "seconds": round(took, 1), "finding": None, "log": out,
           "command": " ".join(argv)}
    if rc == 130:
        raise Interrupted()
    if rc == 0:
        res["status"] = "survived"
        return res
    finding = first_finding(rdir) if rc == 1 else None
    if finding is None:
        res["status"] = "error"
        res["error"] = ("explore timed out" if rc is None else
                        "explore exit %s%s" % (rc, ", and no finding in its "
                                               "report" if rc == 1 else ""))
        return res
    res["finding"] = finding
    res["status"] = (confirm_finding(opts, runner, gateway, finding, name,
                                     base) if confirm else "unconfirmed")
    res["how"] = "replay" if res["status"] == "killed" else None
    if res["status"] == "unconfirmed" and confirm and seed is None:
        # Seeds far from the first exploration's: disjoint iterations.
        again = explore(opts, runner, gateway, name, base, confirm=False,
                        seed=opts.seed + 1000003)
        res["again"] = {k: again.get(k) for k in ("rc", "seconds", "finding",
                                                  "log")}
        if again.get("finding") is not None:
            res["status"], res["how"] = "killed", "found again"
    return res


def first_finding(rdir):
    """The first finding of the exploration report in rdir: {case, check,
    replay}, or None."""
    path = os.path.join(rdir, "latest", "summary.json")
    try:
        with open(path) as f:
            s = json.load(f)
    except (OSError, ValueError):
        return None
    dirs = {c.get("id"): c.get("dir") for c in s.get("cases") or []}
    for f in (s.get("explore") or {}).get("findings") or []:
        # summary.json names a finding's case "case" (plan/wr_explored.c).
        d = dirs.get(f.get("case"))
        rp = os.path.join(rdir, "latest", d, "replay.json") if d else None
        if rp and os.path.exists(rp) and not os.path.islink(rp):
            return {"case": f["case"], "check": f.get("check"),
                    "replay": rp}
    return None


def confirm_finding(opts, runner, gateway, finding, name, base):
    """Replays a finding: "killed" when its verdicts recur on gateway (wsrace
    replay exits 0) and the unmutated gateway passes every check of the
    same case; "unconfirmed" otherwise (the schedule's chance, a loaded
    machine, or a case the unmutated gateway fails too)."""
    out = os.path.join(base, "logs", "explore-replay-%s.log" % name)

    def replay(gw, tag):
        rdir = os.path.join(base, "explore-replays", name, tag)
        rc, _ = runner.timed([opts.harness, "replay", finding["replay"],
                              "--target", gw, "--report-dir", rdir],
                             opts.timeout, out, cwd=opts.root)
        if rc == 130:
            raise Interrupted()
        return rc, rdir

    rc, _ = replay(gateway, "mutant")
    finding["mutant_replay_rc"] = rc
    if rc != 0:
        return "unconfirmed"
    if opts.control_gateway is None:
        return "killed"
    rc, rdir = replay(opts.control_gateway, "control")
    finding["control_replay_rc"] = rc
    return "killed" if all_pass(rdir) else "unconfirmed"


def all_pass(rdir):
    """Whether the replay report in rdir holds a case and no FAIL."""
    try:
        with open(os.path.join(rdir, "latest", "summary.json")) as f:
            cases = json.load(f).get("cases") or []
    except (OSError, ValueError):
        return False
    return bool(cases) and not any(
        v.get("verdict") == "FAIL" for c in cases
        for v in (c.get("checks") or {}).values())
