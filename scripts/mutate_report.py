"""scripts/mutate_report.py - the table, the scores and the report files
of scripts/mutate (run that, not this).

A mutant's record (a dict built by mutate.py) holds what the scenarios did
to it (status, killers, confirm), and what each further measure did: the
extra command, the exploration (mutate_passes.explore) and the gateway's
unit tests (mutate_passes.run_unit). Its final status counts the
scenarios, the exploration and the extra command; the unit tests are a
measure apart, in their own column and score.

Python 3 standard library only.
"""

import json
import os
import shutil


def killed_by(r):
    """What the scenarios (and the extra command) did to r."""
    if r["status"] == "error":
        return "ERROR: " + r.get("error", "?").splitlines()[0]
    if r["status"] == "survived":
        ex = r.get("extra")
        if ex and ex["status"] == "killed":
            return "extra-cmd (exit 1)"
        if ex and ex["status"] == "error":
            return "SURVIVED (extra-cmd failed: exit %s)" % ex["rc"]
        return "SURVIVED"
    note = {"not-reproduced": " [no replay reproduced it]",
            "control-fails": " [the unmutated gateway fails it too]"}
    return killers_text(r["killers"]) + note.get(
        (r.get("confirm") or {}).get("status"), "")


def explore_cell(r):
    """The explore column: '-' when not explored (killed by the scenarios,
    or no --explore), else what the exploration did."""
    x = r.get("explore")
    if not x:
        return "-"
    if x["status"] == "killed":
        return "KILLED (%s%s)" % ((x["finding"] or {}).get("check", "?"),
                                  ", found again" if x.get("how") ==
                                  "found again" else "")
    return {"survived": "nothing", "unconfirmed": "unconfirmed",
            "error": "ERROR"}.get(x["status"], x["status"])


def unit_cell(r):
    """The unit column: '-' when not run, 'pass', or the failing tests."""
    u = r.get("unit")
    if not u:
        return "-"
    if u["status"] == "killed":
        return ",".join(u["failed"])
    return "pass" if u["status"] == "survived" else "ERROR"


def killers_text(killers, full=False):
    """scenario/check list, grouped by check: "liveness: stuck-swap 2/2";
    a check that failed in more than three scenarios is counted instead,
    unless full."""
    by, order = {}, []
    for k in killers:
        if k["check"] not in by:
            order.append(k["check"])
            by[k["check"]] = []
        by[k["check"]].append(k)
    parts = []
    for check in order:
        ks = by[check]
        if len(ks) <= 3 or full:
            parts.append("%s: %s" % (check, ", ".join(
                "%s %d/%d" % (k["scenario"], k["seeds"], k["of"])
                for k in ks)))
        else:
            parts.append("%s: %d scenarios, %d/%d cases" % (
                check, len(ks), sum(k["seeds"] for k in ks),
                sum(k["of"] for k in ks)))
    return "; ".join(parts)


def final_status(r):
    """killed by the scenarios, an exploration or the extra command;
    survived; error. The unit tests are a measure apart."""
    if r["status"] == "survived" and any(
            (r.get(k) or {}).get("status") == "killed"
            for k in ("explore", "extra")):
        return "killed"
    return r["status"]


def score(results, opts):
    """The scores: the scenarios alone; with the exploration of their
    survivors (when --explore); with the extra command (when given); and
    the gateway's unit tests apart (when run). The flat keys are the
    overall figures (scenarios, exploration and extra command)."""
    total = len(results)

    def part(rs):
        n = len(rs)
        return {"killed": n,
                "percent": round(100.0 * n / total, 1) if total else 0.0}

    def killed_by_pass(key):
        return [r for r in results
                if (r.get(key) or {}).get("status") == "killed"]

    by_scen = [r for r in results if r["status"] == "killed"]
    killed = [r for r in results if final_status(r) == "killed"]
    s = part(killed)
    s.update({
        "total": total,
        "killed_by_scenarios": len(by_scen),
        "confirmed": sum(1 for r in by_scen
                         if (r.get("confirm") or {}).get("status")
                         == "confirmed"),
        "survived": sum(1 for r in results
                        if final_status(r) == "survived"),
        "errors": sum(1 for r in results if r["status"] == "error"),
        "scenarios": part(by_scen),
        "scenarios_explore": None, "scenarios_extra": None, "unit": None,
    })
    if opts.explore:
        s["scenarios_explore"] = part(by_scen + killed_by_pass("explore"))
        s["scenarios_explore"]["budget_s"] = opts.explore
    if opts.extra_cmd:
        s["scenarios_extra"] = part(by_scen + killed_by_pass("extra"))
    if opts.unit:
        unit = killed_by_pass("unit")
        s["unit"] = part(unit)
        s["unit"]["beyond_scenarios"] = [r["id"] for r in unit
                                         if r["status"] != "killed"]
    return s


def score_lines(s):
    """The scores as sentences, for the terminal and mutate.md."""
    lines = ["scenarios alone: %d/%d killed (%.1f %%), %d confirmed by "
             "replay" % (s["scenarios"]["killed"], s["total"],
                         s["scenarios"]["percent"], s["confirmed"])]
    x = s.get("scenarios_explore")
    if x:
        lines.append("scenarios + exploration (%g s per survivor): %d/%d "
                     "killed (%.1f %%)" % (x["budget_s"], x["killed"],
                                           s["total"], x["percent"]))
    e = s.get("scenarios_extra")
    if e:
        lines.append("scenarios + extra command: %d/%d killed (%.1f %%)"
                     % (e["killed"], s["total"], e["percent"]))
    u = s.get("unit")
    if u:
        lines.append("gateway unit tests, a measure apart: %d/%d killed "
                     "(%.1f %%); of the scenarios' survivors: %s" % (
                         u["killed"], s["total"], u["percent"],
                         ", ".join(u["beyond_scenarios"]) or "none"))
    lines.append("%d survived, %d error(s)" % (s["survived"], s["errors"]))
    return lines


def table_lines(results, opts, w=None):
    """The table: mutant, time, the explore and unit columns when those
    passes ran, then the scenario/check list that killed it (with the
    seeds that failed), SURVIVED or ERROR."""
    w = w or max([len(r["id"]) for r in results] + [6])
    cols = [("explore", explore_cell, 14)] if opts.explore else []
    if opts.unit:
        cols.append(("unit", unit_cell, 10))
    head = "".join("%-*s  " % (n, c) for c, _, n in cols)
    rows = ["%-*s  %7s  %skilled by (scenarios)" % (w, "mutant", "time",
                                                    head)]
    for r in results:
        cells = "".join("%-*s  " % (n, f(r)) for _, f, n in cols)
        rows.append("%-*s  %6.1fs  %s%s" % (w, r["id"], r["seconds"], cells,
                                            killed_by(r)))
    return rows


def write_reports(opts, results, control, meta, base):
    run_id = meta["run_id"]
    top = opts.report_dir
    os.makedirs(top, exist_ok=True)
    tmp = os.path.join(top, ".tmp-" + run_id)
    final = os.path.join(top, run_id)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for r in results + ([control] if control else []):
        keep = os.path.join(tmp, "runs", r["id"])
        if r.get("summary"):
            os.makedirs(keep, exist_ok=True)
            shutil.copy2(r["summary"], os.path.join(keep, "summary.json"))
        for key in ("log",):
            if r.get(key) and os.path.exists(r[key]):
                os.makedirs(keep, exist_ok=True)
                shutil.copy2(r[key], os.path.join(keep, "wsrace.log"))
        if r.get("build_log") and os.path.exists(r["build_log"]):
            os.makedirs(keep, exist_ok=True)
            shutil.copy2(r["build_log"], os.path.join(keep, "build.log"))
        for key in ("extra", "unit", "explore"):
            x = r.get(key)
            if x and os.path.exists(x["log"]):
                os.makedirs(keep, exist_ok=True)
                shutil.copy2(x["log"], os.path.join(keep, key + ".log"))

    def clean(r):
        d = {k: v for k, v in r.items()
             if k not in ("summary", "log", "build_log", "error_log")}
        if r.get("summary"):
            d["summary"] = "runs/%s/summary.json" % r["id"]
        d["result"] = final_status(r)
        for key in ("extra", "unit", "explore"):
            if key in d:
                d[key] = {k: v for k, v in d[key].items() if k != "log"}
        return d

    doc = dict(meta)
    doc["score"] = score(results, opts) if results else None
    doc["control"] = clean(control) if control else None
    doc["mutants"] = [clean(r) for r in results]
    with open(os.path.join(tmp, "mutate.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(os.path.join(tmp, "mutate.md"), "w") as f:
        f.write(markdown(doc, results, control, opts))
    os.rename(tmp, final)
    link = os.path.join(top, "latest")
    tmp_link = link + ".tmp-" + run_id
    os.symlink(run_id, tmp_link)
    os.replace(tmp_link, link)
    return final


def md_cell(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def markdown(doc, results, control, opts):
    out = ["# Mutation testing of the reference gateway", ""]
    out.append("Run `%s` of commit `%s` (%s), %s." % (
        doc["run_id"], doc["commit"][:12], doc["mode"], doc["started"]))
    out.append("")
    out.append("Each mutant is run through `%s`." % doc["command"])
    out.append("")
    if control:
        ok = control["status"] == "survived"
        out.append("Control (the unmutated gateway, same path): %s (%.1f s)."
                   % ("**clean**, no false alarm" if ok else
                      "**NOT clean: %s**" % killed_by(control),
                      control["seconds"]))
        ex = control.get("extra")
        if ex:
            out.append("")
            out.append("The extra command `%s` on the control: %s (exit %s)."
                       % (md_cell(ex["command"]),
                          "clean" if ex["status"] == "survived" else
                          "NOT clean", ex["rc"]))
        if control.get("unit"):
            out.append("")
            out.append("The gateway's unit tests on the control: all pass "
                       "(%s)." % ", ".join(doc["unit_tests"]))
        if control.get("explore"):
            out.append("")
            out.append("The exploration of the control (`%s`): no finding "
                       "in %.0f s." % (doc["explore_command"],
                                       control["explore"]["seconds"]))
        out.append("")
    if results:
        s = doc["score"]
        out.append("**Scores**")
        out.append("")
        for line in score_lines(s):
            out.append("- " + line)
        out.append("")
        cols = ([("explore", explore_cell)] if opts.explore else []) + (
            [("unit tests", unit_cell)] if opts.unit else [])
        out.append("| mutant | file | scenarios | killed by (check: "
                   "scenario failing seeds/seeds) | %stime |"
                   % "".join(c + " | " for c, _ in cols))
        out.append("|---|---|---|---|%s---|" % ("---|" * len(cols)))
        for r in results:
            out.append("| `%s` | %s | %s | %s | %s%.1f s |" % (
                r["id"], r["file"], r["status"].upper(),
                "-" if r["status"] == "survived" and not r.get("extra")
                else md_cell(killed_by(r)),
                "".join(md_cell(f(r)) + " | " for _, f in cols),
                r["seconds"]))
        out.append("")
        out.append("## Mutants")
        out.append("")
        for r in results:
            out.append("- `%s` (%s): %s" % (r["id"], r["file"], r["bug"]))
            if r["status"] == "killed" and r["killers"]:
                out.append("  - killed by %s" % md_cell(
                    killers_text(r["killers"], full=True)))
                out.append("  - first evidence: %s" % md_cell(
                    r["killers"][0]["summary"]))
                c = r.get("confirm")
                if c:
                    out.append("  - replay: %s%s" % (
                        {"confirmed": "confirmed",
                         "not-reproduced": "NOT reproduced",
                         "control-fails": "the unmutated gateway fails it "
                                          "too"}[c["status"]],
                        " (%s)" % ", ".join(c["tried"]) if c["tried"]
                        else ""))
            elif r["status"] == "survived":
                out.append("  - every check passed on every case; the "
                           "clients saw %d failed step(s)"
                           % r["steps_failed"])
                ex = r.get("extra")
                if ex:
                    out.append("  - extra command: %s (exit %s)"
                               % (ex["status"], ex["rc"]))
                x = r.get("explore")
                if x:
                    f = x.get("finding") or {}
                    out.append("  - exploration: %s%s" % (
                        x["status"], " (finding %s, %s)" % (
                            f.get("case"), f.get("check")) if f else ""))
            elif r["status"] == "error":
                out.append("  - error: %s" % md_cell(r.get("error", "?")))
            u = r.get("unit")
            if u and u["status"] == "killed":
                out.append("  - gateway unit tests failing: %s"
                           % ", ".join(u["failed"]))
        out.append("")
    return "\n".join(out) + "\n"
