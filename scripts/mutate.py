#!/usr/bin/python3
"""scripts/mutate.py - the engine of scripts/mutate (run that, not this).

Mutation testing of the reference gateway: each mutant of the catalog
(scripts/mutants.txt) is applied to a scratch git worktree of HEAD, the
gateway alone is rebuilt in one reused meson build directory, and the
shipped scenarios are run against that gateway by the harness built from
the unmutated tree, with nothing injected. A mutant is killed when the run
exits 1 (an unexpected verdict); exit 2 or 3, a timeout or a build failure
is an error of the tool, never a kill. The gateway's unit tests and an
exploration of the survivors are measures of their own, in their own
columns (mutate_passes.py).

Python 3 standard library only.
"""

import argparse
import datetime
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import mutate_passes as passes
from mutate_report import (killed_by, score, score_lines, table_lines,
                           write_reports)

ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
EXIT_OK, EXIT_FALSE_ALARM, EXIT_USAGE, EXIT_INFRA, EXIT_INTR = 0, 1, 2, 3, 130


# SIGINT, SIGTERM or SIGHUP: stop, clean up, publish nothing. One class
# for this file and the passes'.
Interrupted = passes.Interrupted


class Fatal(Exception):
    """An error that ends the run; code is the exit status."""

    def __init__(self, msg, code=EXIT_INFRA):
        super().__init__(msg)
        self.code = code


def log(msg):
    print("mutate: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------


class Mutant:
    def __init__(self, mid, line):
        self.id = mid
        self.line = line  # where its block starts in the catalog
        self.file = None
        self.bug = None
        self.original = None
        self.replacement = None


def parse_catalog(path):
    """Returns the mutants of the catalog at path; Fatal(2) on any error,
    naming FILE:LINE."""
    mutants, seen = [], {}
    cur, section, buf = None, None, []

    def err(n, msg):
        raise Fatal("%s:%d: %s" % (path, n, msg), EXIT_USAGE)

    def close_section():
        if section == "original":
            cur.original = "".join(buf)
        elif section == "replacement":
            cur.replacement = "".join(buf)

    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise Fatal("cannot read the catalog %s: %s" % (path, e), EXIT_USAGE)
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        directive = line.startswith("@@ ") or line == "@@"
        if section in ("original", "replacement") and not directive:
            buf.append(raw if raw.endswith("\n") else raw + "\n")
            continue
        if not directive:
            if cur is not None and line.strip():
                err(n, "text outside original/replacement in mutant '%s'"
                    % cur.id)
            if cur is None and line.strip() and not line.lstrip().startswith("#"):
                err(n, "text outside any mutant block (comments start "
                    "with '#')")
            continue
        word, _, rest = line[3:].partition(" ")
        rest = rest.strip()
        if word == "mutant":
            if cur is not None:
                err(n, "mutant '%s' has no '@@ end'" % cur.id)
            if not ID_RE.match(rest):
                err(n, "mutant id '%s' is not kebab-case" % rest)
            if rest in seen:
                err(n, "mutant id '%s' already used at line %d"
                    % (rest, seen[rest]))
            seen[rest] = n
            cur, section, buf = Mutant(rest, n), None, []
        elif cur is None:
            err(n, "'@@ %s' outside a mutant block" % word)
        elif word in ("file", "bug"):
            if section is not None:
                err(n, "'@@ %s' must come before '@@ original'" % word)
            if not rest:
                err(n, "'@@ %s' needs a value" % word)
            setattr(cur, word, rest)
        elif word == "original":
            if section is not None:
                err(n, "'@@ original' given twice")
            section, buf = "original", []
        elif word == "replacement":
            if section != "original":
                err(n, "'@@ replacement' must follow '@@ original'")
            close_section()
            section, buf = "replacement", []
        elif word == "end":
            if section != "replacement":
                err(n, "mutant '%s' ends without '@@ replacement'" % cur.id)
            close_section()
            for field in ("file", "bug"):
                if getattr(cur, field) is None:
                    err(cur.line, "mutant '%s' has no '@@ %s'"
                        % (cur.id, field))
            if not cur.original.strip():
                err(cur.line, "mutant '%s' has an empty original" % cur.id)
            if cur.original == cur.replacement:
                err(cur.line, "mutant '%s' changes nothing" % cur.id)
            mutants.append(cur)
            cur, section, buf = None, None, []
        else:
            err(n, "unknown directive '@@ %s'" % word)
    if cur is not None:
        err(cur.line, "mutant '%s' has no '@@ end'" % cur.id)
    if not mutants:
        raise Fatal("%s: no mutant in the catalog" % path, EXIT_USAGE)
    return mutants


def occurrences(text, snippet):
    return text.count(snippet)


# ---------------------------------------------------------------------------
# Processes: every wait bounded, every process group ours
# ---------------------------------------------------------------------------


class Runner:
    def __init__(self):
        self.child = None  # the Popen running now, in its own session
        self.watched = []  # binaries whose leftover processes we end

    def run(self, argv, timeout, out, cwd=None, env=None):
        """Runs argv in a session of its own, output to the file out.
        Returns the exit status, or None on timeout (the group is ended)."""
        with open(out, "ab") as f:
            self.child = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=f,
                stderr=subprocess.STDOUT, start_new_session=True)
            try:
                return self.child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with open(out, "a") as g:
                    g.write("\nmutate: timed out after %d s, stopped\n"
                            % timeout)
                self.stop_child()
                return None
            except BaseException:
                self.stop_child()  # interrupted: the child goes first
                raise
            finally:
                self.child = None
                self.sweep()

    def timed(self, argv, timeout, out, cwd=None, env=None):
        """run(), and the seconds it took."""
        t0 = time.monotonic()
        rc = self.run(argv, timeout, out, cwd=cwd, env=env)
        return rc, time.monotonic() - t0

    def stop_child(self):
        """SIGINT to the child's group (wsrace then stops its gateways and
        exits 130), SIGKILL after a bound."""
        p = self.child
        if p is None or p.poll() is not None:
            return
        for sig, grace in ((signal.SIGINT, 20), (signal.SIGTERM, 5),
                           (signal.SIGKILL, 5)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                return
            try:
                p.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue

    def sweep(self):
        """Ends any process still running one of our temporary gateway
        binaries (none should be: wsrace stops its gateways itself)."""
        if not self.watched:
            return
        mine = set(os.path.realpath(w) for w in self.watched)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                exe = os.readlink("/proc/%s/exe" % pid)
            except OSError:
                continue
            if exe.endswith(" (deleted)"):
                exe = exe[: -len(" (deleted)")]
            if exe in mine:
                log("ending leftover gateway pid %s (%s)" % (pid, exe))
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass


def tail(path, n=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def git(root, *args, check=True, timeout=120):
    p = subprocess.run(["git", "-C", root] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Fatal("git %s failed: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


# ---------------------------------------------------------------------------
# Scratch tree and build
# ---------------------------------------------------------------------------


class Scratch:
    """A detached worktree of HEAD and one meson build dir of the gateway."""

    def __init__(self, root, base, keep, runner, build_timeout):
        self.root, self.base, self.keep = root, base, keep
        self.runner, self.build_timeout = runner, build_timeout
        self.wt = os.path.join(base, "wt")
        self.build = os.path.join(base, "build")
        self.logs = os.path.join(base, "logs")
        self.gw_dir = os.path.join(base, "gateways")
        self.head = git(root, "rev-parse", "HEAD").strip()
        self.created_wt = False

    def prepare(self):
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(self.gw_dir, exist_ok=True)
        if os.path.isdir(self.wt) and os.path.exists(
                os.path.join(self.wt, ".git")):
            log("reusing the scratch worktree %s" % self.wt)
            git(self.wt, "checkout", "-q", "--detach", "-f", self.head)
            git(self.wt, "reset", "-q", "--hard", self.head)
        else:
            git(self.root, "worktree", "add", "-q", "--detach", self.wt,
                self.head)
        self.created_wt = True

    def configure(self, tests):
        """Configures the build dir, with the test programs when tests
        (built only when asked for: see build_gateway)."""
        opt = "-Dtests=%s" % ("enabled" if tests else "disabled")
        if not os.path.exists(os.path.join(self.build, "build.ninja")):
            log("configuring %s" % self.build)
            argv = ["meson", "setup", self.build, self.wt, opt]
        else:
            argv = ["meson", "configure", self.build, opt]
        rc = self.runner.run(argv, self.build_timeout,
                             os.path.join(self.logs, "meson.log"))
        if rc != 0:
            raise Fatal("meson setup of the scratch build failed:\n"
                        + tail(os.path.join(self.logs, "meson.log")))

    def build_gateway(self, name, variants=(), extra=()):
        """Builds target/wsrace-gateway (and wsrace-gateway-V for each
        sanitizer variant V) and copies them to gateways/name/; the extra
        targets (the unit tests) are built in place. Returns (path of the
        plain gateway, None) or (None, why)."""
        out = os.path.join(self.logs, "build-%s.log" % name)
        bins = ["wsrace-gateway"] + ["wsrace-gateway-" + v for v in variants]
        rc = self.runner.run(
            ["ninja", "-C", self.build] + ["target/" + b for b in bins]
            + list(extra), self.build_timeout, out)
        if rc != 0:
            why = "timed out" if rc is None else "exit %d" % rc
            return None, "gateway build %s:\n%s" % (why, tail(out, 30))
        for b in bins:
            dst = os.path.join(self.gw_dir, name, b)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(self.build, "target", b), dst)
            self.runner.watched.append(dst)
        return os.path.join(self.gw_dir, name, "wsrace-gateway"), None

    def check_clean(self):
        st = git(self.wt, "status", "--porcelain", "--untracked-files=no")
        if st.strip():
            raise Fatal("the scratch tree did not come back to HEAD:\n" + st)

    def remove(self):
        if self.keep:
            return
        if self.created_wt or os.path.isdir(self.wt):
            gone = subprocess.run(
                ["git", "-C", self.root, "worktree", "remove", "--force",
                 self.wt], capture_output=True, timeout=120).returncode == 0
            shutil.rmtree(self.base, ignore_errors=True)
            if not gone:  # only the entry of a directory now removed
                git(self.root, "worktree", "prune", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def apply(scratch, m):
    """Applies m to the scratch tree; returns the original text of its file.
    Fatal(2) naming the mutant when its original is not there exactly
    once."""
    path = os.path.join(scratch.wt, m.file)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise Fatal("mutant '%s': cannot read %s: %s" % (m.id, m.file, e),
                    EXIT_USAGE)
    n = occurrences(text, m.original)
    if n != 1:
        raise Fatal("mutant '%s' (catalog line %d): its original occurs %d "
                    "times in %s at HEAD, not once: the catalog has rotted; "
                    "update the snippet" % (m.id, m.line, n, m.file),
                    EXIT_USAGE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(m.original, m.replacement, 1))
    return text


def restore(scratch, m, text):
    with open(os.path.join(scratch.wt, m.file), "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------------------
# Running the scenarios and judging
# ---------------------------------------------------------------------------


def run_scenarios(opts, runner, gateway, name, base):
    """Runs the shipped scenarios against gateway. Returns a dict: status
    (killed, survived, error), killers, steps_failed, rc, seconds."""
    rdir = os.path.join(base, "runs", name)
    os.makedirs(rdir, exist_ok=True)
    out = os.path.join(base, "logs", "run-%s.log" % name)
    argv = [opts.harness, "run", "--target", gateway, "--inject", "none",
            "--seed", str(opts.seed), "--repeat", str(opts.repeat),
            "--jobs", str(opts.jobs), "--report-dir", rdir] + opts.scenarios
    t0 = time.monotonic()
    rc = runner.run(argv, opts.timeout, out, cwd=opts.root)
    res = {"rc": rc, "seconds": round(time.monotonic() - t0, 1),
           "killers": [], "steps_failed": 0, "cases": 0, "log": out,
           "summary": None, "command": " ".join(shlex.quote(a) for a in argv)}
    if rc == 130:
        raise Interrupted()
    summary = os.path.join(rdir, "latest", "summary.json")
    if rc in (0, 1) and os.path.exists(summary):
        res["summary"] = summary
        with open(summary) as f:
            data = json.load(f)
        judge(data, res)
    if rc == 1 and res["summary"] is not None:
        res["status"] = "killed"
    elif rc == 0 and res["summary"] is not None and not res["killers"]:
        res["status"] = "survived"
    else:
        res["status"] = "error"
        res["error"] = ("harness timed out after %d s" % opts.timeout
                        if rc is None else
                        "harness exit %s%s" % (rc, "" if res["summary"]
                                               else ", no summary.json"))
        res["error_log"] = tail(out, 15)
    return res


def judge(data, res):
    """Collects, per scenario and check, the seeds on which the verdict was
    not as expected, and the first violation's summary."""
    seeds, first, order = {}, {}, []
    for case in data.get("cases", []):
        res["cases"] += 1
        res["steps_failed"] += int(case.get("steps_failed") or 0)
        scen = (case.get("scenario") or {}).get("name", "?")
        if case.get("as_expected", True):
            continue
        bad = [(k, v) for k, v in (case.get("checks") or {}).items()
               if not v.get("as_expected", True)]
        if not bad:
            state = (case.get("target") or {}).get("state", "?")
            bad = [("case", {"verdict": "target " + str(state),
                             "summary": "the case was not as expected "
                                        "(target %s)" % state})]
        for check, v in bad:
            key = (scen, check)
            if key not in seeds:
                order.append(key)
                seeds[key] = set()
                first[key] = ("%s: %s" % (v.get("verdict", "?"),
                                          v.get("summary", "")),
                              case.get("dir"))
            seeds[key].add(case.get("seed"))
    total = {}
    for case in data.get("cases", []):
        scen = (case.get("scenario") or {}).get("name", "?")
        total[scen] = total.get(scen, 0) + 1
    res["killers"] = [{"scenario": s, "check": c, "seeds": len(seeds[(s, c)]),
                       "of": total.get(s, 0), "summary": first[(s, c)][0],
                       "case": first[(s, c)][1]}
                      for s, c in order]


def confirm(opts, runner, gateway, res, name, base):
    """Replays failing cases of a killed mutant (wsrace replay, same
    scenario text, seed and sync actions): the kill is confirmed when a
    case shows the same verdicts again on the mutant and not on the
    unmutated gateway. A kill no replay reproduces was a chance of the
    schedule (or of a loaded machine); one the control reproduces is not
    the mutant's doing."""
    rdir = os.path.join(base, "runs", name, "latest")
    out = os.path.join(base, "logs", "replay-%s.log" % name)
    cases = []
    for k in res["killers"]:
        if k.get("case") and k["case"] not in cases:
            cases.append(k["case"])
    tried = []
    for case in cases[:opts.confirm]:
        rp = os.path.join(rdir, case, "replay.json")
        if not os.path.exists(rp):
            continue

        def replay(gw):
            rc = runner.run([opts.harness, "replay", rp, "--target", gw,
                             "--report-dir",
                             os.path.join(base, "replays", name)],
                            opts.timeout, out, cwd=opts.root)
            if rc == 130:
                raise Interrupted()
            return rc

        tried.append(os.path.basename(case))
        if replay(gateway) != 0:
            continue  # the same verdicts did not recur
        if opts.control_gateway and replay(opts.control_gateway) == 0:
            return {"status": "control-fails", "case": tried[-1],
                    "tried": tried}
        return {"status": "confirmed", "case": tried[-1], "tried": tried}
    return {"status": "not-reproduced", "case": None, "tried": tried}


def run_extra(opts, runner, gateway, mid, base):
    """The --extra-cmd for a survivor (or the control) mid. Returns a dict:
    rc, status (killed, survived, error), seconds, log."""
    out = os.path.join(base, "logs", "extra-%s.log" % mid)
    tmp = os.path.join(base, "extra", mid)
    os.makedirs(tmp, exist_ok=True)
    cmd = opts.extra_cmd
    subst = [("{gateway}", gateway), ("{id}", mid),
             ("{harness}", opts.harness), ("{tmp}", tmp)]
    env = dict(os.environ, MUTANT_ID=mid, MUTANT_GATEWAY=gateway,
               MUTANT_TMP=tmp, WSRACE=opts.harness)
    for v in opts.variants:
        path = gateway + "-" + v
        subst.append(("{gateway_%s}" % v, path))
        env["MUTANT_GATEWAY_" + v.upper()] = path
    for k, v in subst:
        cmd = cmd.replace(k, shlex.quote(v))
    t0 = time.monotonic()
    rc = runner.run(["bash", "-c", cmd], opts.extra_timeout, out,
                    cwd=opts.root, env=env)
    if rc == 130:
        raise Interrupted()
    st = {0: "survived", 1: "killed"}.get(rc, "error")
    return {"rc": rc, "status": st, "command": cmd, "log": out,
            "seconds": round(time.monotonic() - t0, 1)}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def control_passes(opts, runner, scratch, gw, control, base):
    """The unit tests and the exploration on the unmutated gateway: each
    must pass, or its kills would mean nothing (Fatal, EXIT_FALSE_ALARM).
    The unit tests are run as built for the control."""
    if opts.unit:
        u = passes.run_unit(runner, opts.unit_tests, scratch.build,
                            "control", scratch.logs)
        control["unit"] = u
        print("control, gateway unit tests: %s (%.1f s)" % (
            "all pass" if u["status"] == "survived" else
            "NOT CLEAN: " + (", ".join(u["failed"]) or u.get("error", "?")),
            u["seconds"]), flush=True)
        if u["status"] != "survived":
            raise Fatal("the gateway's unit tests fail on the unmutated "
                        "gateway (log: %s): their kills would mean nothing"
                        % u["log"], EXIT_FALSE_ALARM)
    if opts.explore:
        x = passes.explore(opts, runner, gw, "control", base, confirm=False)
        control["explore"] = x
        print("control, exploration: %s (exit %s, %.1f s)" % (
            "no finding" if x["status"] == "survived" else "NOT CLEAN",
            x["rc"], x["seconds"]), flush=True)
        if x["status"] != "survived":
            raise Fatal("exploring the unmutated gateway for %g s did not end "
                        "clean (exit %s, log below): its findings would mean "
                        "nothing\n%s" % (opts.explore, x["rc"],
                                         tail(x["log"])), EXIT_FALSE_ALARM)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/mutate",
        description="Mutation testing of the reference gateway against the "
                    "shipped scenarios (see the header of scripts/mutate).")
    p.add_argument("--list", action="store_true",
                   help="list the mutants and check each against HEAD")
    p.add_argument("--only", metavar="ID[,ID]",
                   help="run these mutants only")
    p.add_argument("--self-check", action="store_true",
                   help="run the unmutated gateway only; must kill nothing")
    p.add_argument("--keep-going", action="store_true",
                   help="record a mutant that cannot be applied, built or "
                        "run as an error and go on (exit 3 at the end)")
    p.add_argument("--jobs", type=int, default=2,
                   help="cases at once in each wsrace run (default 2)")
    p.add_argument("--repeat", type=int, default=2,
                   help="seeds per scenario (default 2)")
    p.add_argument("--seed", type=int, default=1, help="first seed (1)")
    p.add_argument("--extra-cmd", metavar="CMD",
                   help="run CMD (bash) for each survivor; {gateway} {id} "
                        "{harness} {tmp} are replaced (also in $MUTANT_"
                        "GATEWAY, $MUTANT_ID, $WSRACE, $MUTANT_TMP); "
                        "{gateway_tsan} or {gateway_asan} in CMD builds that "
                        "sanitizer gateway of each mutant too (for wsrace "
                        "--target-build tsan:PATH); exit 1 kills the mutant")
    p.add_argument("--explore", type=float, default=0, metavar="SECONDS",
                   help="explore each survivor of the scenarios for SECONDS "
                        "(wsrace explore, PCT schedules of the sync points); "
                        "a finding that replays on the mutant and passes on "
                        "the unmutated gateway kills it, in a score of its "
                        "own (default 0: no exploration)")
    p.add_argument("--explore-chaos", action="store_true",
                   help="explore with client chaos too (wsrace explore "
                        "--chaos: closes, reconnects, early bursts and "
                        "probes at random points of each iteration)")
    p.add_argument("--no-unit", action="store_true",
                   help="do not build and run the gateway's unit tests of "
                        "each mutant (a measure of their own)")
    p.add_argument("--extra-timeout", type=int, default=900,
                   help="bound of one --extra-cmd, seconds (900)")
    p.add_argument("--timeout", type=int, default=900,
                   help="bound of one wsrace run, seconds (900)")
    p.add_argument("--build-timeout", type=int, default=600,
                   help="bound of one configure or build, seconds (600)")
    p.add_argument("--confirm", type=int, default=3, metavar="N",
                   help="replay up to N failing cases of each kill on the "
                        "mutant and the unmutated gateway (3; 0: no replay)")
    p.add_argument("--no-control", action="store_true",
                   help="skip the unmutated control run before the mutants")
    p.add_argument("--work-dir", metavar="DIR",
                   help="keep the scratch worktree and build dir in DIR and "
                        "reuse them next time (default: a temporary dir, "
                        "removed at exit)")
    p.add_argument("--catalog", help="mutant catalog (scripts/mutants.txt)")
    p.add_argument("--report-dir",
                   help="where reports go (reports/mutate)")
    p.add_argument("--root", help=argparse.SUPPRESS)
    p.add_argument("--harness", help=argparse.SUPPRESS)
    o = p.parse_args(argv)
    o.root = os.path.realpath(o.root or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), ".."))
    o.catalog = o.catalog or os.path.join(o.root, "scripts", "mutants.txt")
    o.report_dir = os.path.abspath(
        o.report_dir or os.path.join(o.root, "reports", "mutate"))
    o.harness = os.path.abspath(o.harness or os.path.join(
        o.root, "build", "harness", "wsrace"))
    for name in ("jobs", "repeat", "timeout", "extra_timeout",
                 "build_timeout"):
        if getattr(o, name) < 1:
            p.error("--%s must be at least 1" % name.replace("_", "-"))
    if o.confirm < 0:
        p.error("--confirm must be 0 or more")
    if o.explore < 0 or o.explore > 86400:
        p.error("--explore wants seconds in [0, 86400]")
    o.unit = not o.no_unit
    o.unit_tests = []
    o.control_gateway = None
    if o.self_check and (o.only or o.list):
        p.error("--self-check runs no mutant: drop --only/--list")
    return o


def shown(path, root):
    """path relative to root when it is inside it, else absolute."""
    rel = os.path.relpath(path, root)
    return path if rel.startswith("..") else rel


def list_mutants(opts, mutants):
    head = git(opts.root, "rev-parse", "--short", "HEAD").strip()
    bad = 0
    w = max(len(m.id) for m in mutants)
    for m in mutants:
        p = subprocess.run(["git", "-C", opts.root, "show",
                            "HEAD:" + m.file], capture_output=True, text=True)
        n = occurrences(p.stdout, m.original) if p.returncode == 0 else -1
        state = "ok" if n == 1 else (
            "FILE NOT AT HEAD" if n < 0 else "ORIGINAL FOUND %d TIMES" % n)
        bad += n != 1
        print("%-*s  %-22s  %s%s" % (w, m.id, m.file, m.bug,
                                     "" if n == 1 else "   <- " + state))
    print("%d mutant(s) in %s; %s against HEAD %s" % (
        len(mutants), shown(opts.catalog, opts.root),
        "all apply" if not bad else "%d DO NOT APPLY" % bad, head))
    return EXIT_OK if not bad else EXIT_USAGE


def on_signal(signum, frame):
    # One interruption is enough: the clean-up that follows must not be cut
    # short by a second Ctrl-C.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted()


def main(argv):
    opts = parse_args(argv)
    mutants = parse_catalog(opts.catalog)
    if opts.list:
        return list_mutants(opts, mutants)
    if opts.only:
        want = [x for x in opts.only.split(",") if x]
        known = {m.id: m for m in mutants}
        unknown = [x for x in want if x not in known]
        if unknown:
            raise Fatal("unknown mutant(s): %s (see --list)"
                        % ", ".join(unknown), EXIT_USAGE)
        mutants = [known[x] for x in dict.fromkeys(want)]
    if opts.self_check:
        mutants = []
    if not os.access(opts.harness, os.X_OK):
        raise Fatal("no harness at %s (scripts/setup builds it)"
                    % opts.harness)
    opts.scenarios = sorted(os.path.relpath(p, opts.root) for p in glob.glob(
        os.path.join(opts.root, "scenarios", "*.yaml")))
    if not opts.scenarios:
        raise Fatal("no scenario in %s/scenarios" % opts.root)
    if opts.extra_cmd is not None and not opts.extra_cmd.strip():
        raise Fatal("--extra-cmd is empty", EXIT_USAGE)
    opts.variants = [v for v in ("asan", "tsan")
                     if "{gateway_%s}" % v in (opts.extra_cmd or "")]
    # Builds and runs share 2 cores with other work: at least niceness 10.
    cur = os.nice(0)
    if cur < 10:
        os.nice(10 - cur)

    started = datetime.datetime.now(datetime.timezone.utc)
    run_id = "%s-%d" % (started.strftime("%Y%m%dT%H%M%SZ"), os.getpid())
    runner = Runner()
    if opts.work_dir:
        base = os.path.abspath(opts.work_dir)
        os.makedirs(base, exist_ok=True)
        for d in ("runs", "logs", "gateways", "extra"):
            shutil.rmtree(os.path.join(base, d), ignore_errors=True)
    else:
        base = tempfile.mkdtemp(prefix="wsrace-mutate-")
    scratch = Scratch(opts.root, base, bool(opts.work_dir), runner,
                      opts.build_timeout)
    results, control, infra = [], None, False
    t_start = time.monotonic()
    try:
        scratch.prepare()
        log("commit %s, %d mutant(s), %d scenario(s) x %d seed(s), harness %s"
            % (scratch.head[:12], len(mutants), len(opts.scenarios),
               opts.repeat, shown(opts.harness, opts.root)))
        # Every snippet is checked before anything is run.
        broken = []
        for m in mutants:
            path = os.path.join(scratch.wt, m.file)
            text = open(path).read() if os.path.exists(path) else None
            n = occurrences(text, m.original) if text is not None else -1
            if n != 1:
                broken.append((m, n))
        for m, n in broken:
            log("mutant '%s' (catalog line %d): its original %s in %s at "
                "HEAD" % (m.id, m.line, "file is missing" if n < 0 else
                          "occurs %d times, not once" % n, m.file))
        if broken and not opts.keep_going:
            raise Fatal("the catalog does not apply to HEAD (%d mutant(s)); "
                        "fix the snippets or use --keep-going" % len(broken),
                        EXIT_USAGE)
        broken_ids = {m.id for m, _ in broken}
        scratch.configure(opts.unit)
        if opts.unit:
            opts.unit_tests = passes.unit_tests(scratch.build)
            if not opts.unit_tests:
                raise Fatal("the scratch build has no gateway unit test (is "
                            "Criterion installed? scripts/setup installs "
                            "it); --no-unit runs without them")
        extra = [u["target"] for u in opts.unit_tests]

        if not opts.no_control or opts.self_check:
            t0 = time.monotonic()
            gw, why = scratch.build_gateway("control", opts.variants, extra)
            if gw is None:
                raise Fatal("the unmutated gateway does not build: " + why)
            opts.control_gateway = gw
            control = run_scenarios(opts, runner, gw, "control", base)
            control.update(id="control", file="-", bug="the unmutated "
                           "gateway", seconds=round(time.monotonic() - t0, 1))
            if control["status"] == "error":
                raise Fatal("the control run failed: %s\n%s" % (
                    control["error"], control.get("error_log", "")))
            verdict = ("clean: 0 kills, no false alarm"
                       if control["status"] == "survived" else
                       "NOT CLEAN: " + killed_by(control))
            print("control (unmutated gateway): %s (%.1f s)"
                  % (verdict, control["seconds"]), flush=True)
            if control["status"] != "survived" and not opts.self_check:
                raise Fatal("the unmutated gateway already fails a check: "
                            "kills would mean nothing", EXIT_FALSE_ALARM)
            if opts.extra_cmd and control["status"] == "survived":
                # The extra command must pass on the unmutated gateway too,
                # or its kills would mean nothing either.
                ex = run_extra(opts, runner, gw, "control", base)
                control["extra"] = ex
                print("control, extra command: %s (exit %s, %.1f s)" % (
                    "clean" if ex["status"] == "survived" else "NOT CLEAN",
                    ex["rc"], ex["seconds"]), flush=True)
                if ex["status"] != "survived":
                    raise Fatal("--extra-cmd fails on the unmutated gateway "
                                "(exit %s, log below): its kills would mean "
                                "nothing\n%s" % (ex["rc"], tail(ex["log"])),
                                EXIT_FALSE_ALARM)
            control_passes(opts, runner, scratch, gw, control, base)

        width = max([len(m.id) for m in mutants] + [7])
        for i, m in enumerate(mutants, 1):
            t0 = time.monotonic()
            r = {"id": m.id, "file": m.file, "bug": m.bug, "killers": [],
                 "steps_failed": 0}
            if m.id in broken_ids:
                r.update(status="error", seconds=0.0,
                         error="the original snippet is not in %s exactly "
                               "once" % m.file)
            else:
                text = apply(scratch, m)
                try:
                    gw, why = scratch.build_gateway(m.id, opts.variants,
                                                    extra)
                    r["build_log"] = os.path.join(scratch.logs,
                                                  "build-%s.log" % m.id)
                finally:
                    restore(scratch, m, text)
                scratch.check_clean()
                if gw is None:
                    r.update(status="error", error=why)
                else:
                    r.update(run_scenarios(opts, runner, gw, m.id, base))
                    if r["status"] == "killed" and opts.confirm > 0:
                        r["confirm"] = confirm(opts, runner, gw, r, m.id,
                                               base)
                    if r["status"] == "survived" and opts.extra_cmd:
                        r["extra"] = run_extra(opts, runner, gw, m.id, base)
                    if r["status"] == "survived" and opts.explore:
                        r["explore"] = passes.explore(opts, runner, gw,
                                                      m.id, base)
                    if opts.unit: # the tests as built for this mutant
                        r["unit"] = passes.run_unit(
                            runner, opts.unit_tests, scratch.build, m.id,
                            scratch.logs)
                r["seconds"] = round(time.monotonic() - t0, 1)
            results.append(r)
            print("[%2d/%d] %s" % (i, len(mutants),
                                   table_lines([r], opts, width)[1]),
                  flush=True)
            if r["status"] == "error":
                infra = True
                log("mutant '%s': %s" % (m.id, r.get("error", "?")))
                if r.get("error_log"):
                    sys.stderr.write(r["error_log"])
                if not opts.keep_going:
                    raise Fatal("stopped at mutant '%s' (--keep-going goes "
                                "on)" % m.id)

        meta = {
            "run_id": run_id, "commit": scratch.head,
            "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "mode": "self-check" if opts.self_check else "mutants",
            "catalog": shown(opts.catalog, opts.root),
            "command": "%s run --target MUTANT_GATEWAY --inject none --seed "
                       "%d --repeat %d --jobs %d --report-dir TMP "
                       "scenarios/*.yaml" % (
                           shown(opts.harness, opts.root),
                           opts.seed, opts.repeat, opts.jobs),
            "scenarios": opts.scenarios, "seed": opts.seed,
            "repeat": opts.repeat, "extra_cmd": opts.extra_cmd,
            "unit_tests": [u["name"] for u in opts.unit_tests],
            "explore_budget_s": opts.explore or None,
            "explore_command": "%s explore --target GATEWAY --inject none "
                               "--seed %d --budget %g --no-shrink%s "
                               "--report-dir TMP scenarios/*.yaml" % (
                                   shown(opts.harness, opts.root), opts.seed,
                                   opts.explore, " --chaos" if
                                   opts.explore_chaos else "")
                               if opts.explore else None,
            "seconds": round(time.monotonic() - t_start, 1),
        }
        where = write_reports(opts, results, control, meta, base)
        print()
        if results:
            for line in table_lines(results, opts):
                print(line)
            print()
            for line in score_lines(score(results, opts)):
                print("score, " + line)
            print("%.0f s in all" % meta["seconds"])
        if opts.self_check:
            if control["status"] == "survived":
                print("self-check: the unmutated gateway killed nothing "
                      "(%d case(s), every verdict as expected): no false "
                      "alarm, the tool is honest" % control["cases"])
            else:
                print("self-check: FALSE ALARM: the unmutated gateway was "
                      "'killed' by %s" % killed_by(control))
        print("report: %s/mutate.md (json: mutate.json)"
              % shown(where, opts.root))
        if opts.self_check and control["status"] != "survived":
            return EXIT_FALSE_ALARM
        return EXIT_INFRA if infra else EXIT_OK
    finally:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            runner.stop_child()
            runner.sweep()
        finally:
            scratch.remove()


if __name__ == "__main__":
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sys.exit(main(sys.argv[1:]))
    except Interrupted:
        log("interrupted: nothing published; scratch tree removed")
        sys.exit(EXIT_INTR)
    except Fatal as e:
        log("error: %s" % e)
        sys.exit(e.code)
