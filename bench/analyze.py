#!/usr/bin/python3
"""analyze.py - figures of scripts/bench, from what the runs left behind.

  analyze.py wsrace-load REPORT_DIR N    one wsrace load run -> JSON
  analyze.py trace-load TRACE N          one peer run's gateway trace -> JSON
  analyze.py record TOOL N REP CLIENT TOOL_RUSAGE SERVER_RUSAGE [TRACE]
                                         one load run's files -> JSON record
  analyze.py repro REPORT_DIR MODE BUG FILE [SAME_AS]
                                         one wsrace repro run -> JSON record
  analyze.py profile PERF_DATA N         one profiled wsrace run (perf record
                                         with call graphs, the gateway its
                                         child) -> where the CPU went, JSON
  analyze.py speed REPORT_DIR MODE JOBS  one timed `wsrace explore` (MODE
                                         explore) or `wsrace run --repeat`
                                         (MODE run) -> per second, JSON
  analyze.py matrix REPORT_DIR CELLS T0 T1 EXIT
                                         one timed `wsrace matrix` -> wall
                                         time, cases, verdicts, JSON
  analyze.py report BENCH_DIR            raw/*.json -> bench.json, bench.md

Handshake = connect started -> welcome (connection_established) received,
on the client's clock (wsrace: its history; the peers measure it
themselves). The gateway's trace gives the same figures from the server
side for every client that drives the gateway (conn.open -> welcome.sent),
so wsrace, Node ws and Artillery are also compared on one instrument.
Client CPU. wsrace starts the gateway itself (through the server's
rusage wrapper) and reaps it, so the CPU that wait4() reports for wsrace
holds the gateway's too; wsrace's own CPU is that minus the server's
figure. The peers are not the gateway's parents: theirs is their own.

Standard library only (Debian's /usr/bin/python3).
"""
import bisect
import collections
import glob
import json
import os
import re
import statistics
import subprocess
import sys


def pct(xs, q):
    """The q-quantile (nearest rank) of a sorted list, or None."""
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def rate(n, t0, t1):
    return n / ((t1 - t0) / 1e9) if n and t1 > t0 else 0.0


def gateway_side(events, n):
    """Server-side figures from gateway trace events (dicts)."""
    opened, welcomed, done = {}, {}, []
    for e in events:
        ev = e.get("event")
        if ev == "conn.open":
            opened[e["conn"]] = e["ns"]
        elif ev == "welcome.sent":
            welcomed[e["conn"]] = e["ns"]
        elif ev == "message.done":
            done.append(e["ns"])
    if not opened or not welcomed:
        return {"welcomed": 0}
    t0 = min(opened.values())
    lat = sorted((welcomed[c] - opened[c]) / 1e6 for c in welcomed
                 if c in opened)
    return {
        "welcomed": len(welcomed),
        # first conn.open -> last welcome.sent: the handshakes' window
        "window_ns": [t0, max(welcomed.values())],
        "handshakes_per_s": rate(len(welcomed), t0, max(welcomed.values())),
        "handshake_p50_ms": pct(lat, 0.5),
        "handshake_p99_ms": pct(lat, 0.99),
        "messages_per_s": rate(len(welcomed) + 5 * len(done), t0,
                               max(done) if done else t0),
    }


WANTED = ('"conn.open"', '"welcome.sent"', '"message.done"',
          '"client.connect"', '"client.established"', '"client.recv"')


def read_events(path):
    """Events of a JSON-lines file that the figures need (a substring test
    first: a 10,000-connection history has 400,000 lines)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if any(w in line for w in WANTED):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a torn last line
    return out


def wsrace_load(report_dir, n):
    summ = json.load(open(os.path.join(report_dir, "summary.json")))
    case = summ["cases"][0]
    events = read_events(os.path.join(report_dir, case["dir"],
                                      "history.jsonl"))
    gw = [e for e in events if e.get("src") == "gateway"]
    inv, est, recv = {}, {}, []
    for e in events:
        if e.get("src") != "client":
            continue
        ev = e["event"]
        if ev == "client.connect" and e.get("type") == "invoke":
            inv[e["client"]] = e["ns"]
        elif ev == "client.established":
            est[e["client"]] = e["ns"]
        elif ev == "client.recv":
            recv.append(e["ns"])
    t0 = min(inv.values()) if inv else 0
    lat = sorted((est[c] - inv[c]) / 1e6 for c in est if c in inv)
    return {
        "tool": "wsrace",
        "connections": n,
        "welcomed": len(est),
        "as_expected": case["as_expected"],
        "verdicts": {k: v["verdict"] for k, v in case["checks"].items()},
        "handshakes_per_s": rate(len(est), t0, max(est.values()) if est
                                 else t0),
        "handshake_p50_ms": pct(lat, 0.5),
        "handshake_p99_ms": pct(lat, 0.99),
        "messages": len(recv),
        "messages_per_s": rate(len(recv), t0, max(recv) if recv else t0),
        "case_duration_ms": case["duration_ms"],
        "gateway": gateway_side(gw, n),
    }


def trace_load(trace, n):
    return {"gateway": gateway_side(read_events(trace), n)}


DETECTS = {  # seed bug -> the check that detects it (wsrace list)
    "fallback-ready": "false_readiness",
    "coordinator-gap": "coordinator_gap",
    "duplicate-registration": "duplicate_registration",
    "scope-loss": "scope_loss",
}


def read_json(path):
    """The JSON object in path (its last line that parses), or None."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
    except OSError:
        return None
    for ln in reversed(lines):
        try:
            return json.loads(ln)
        except ValueError:
            continue
    return None


def cpu_at(samples, ns):
    """A process's CPU seconds at time ns (CLOCK_MONOTONIC), from the
    wrapper's [ns, cpu_ms] samples (kept when the CPU time changed;
    linear between two), or None when ns is outside them."""
    if not samples or ns < samples[0][0] or ns > samples[-1][0]:
        return None
    i = bisect.bisect_left([t for t, _ in samples], ns)
    if samples[i][0] == ns or i == 0:
        return samples[i][1] / 1e3
    (t_a, c_a), (t_b, c_b) = samples[i - 1], samples[i]
    return (c_a + (c_b - c_a) * (ns - t_a) / (t_b - t_a)) / 1e3


def cpu_between(samples, t0, t1):
    a, b = cpu_at(samples, t0), cpu_at(samples, t1)
    return b - a if a is not None and b is not None else None


def handshake_window(r, ts, ss):
    """CPU spent inside the handshakes' window (the gateway's first
    conn.open to its last welcome.sent), by the gateway and by the client
    (wsrace: its own, the gateway is its child), from the wrappers' CPU
    samples: ts the client's, ss the gateway's."""
    win = get(r, "client.gateway.window_ns")
    if not win or win[1] <= win[0]:
        return None
    return {"s": (win[1] - win[0]) / 1e9,
            "server_cpu_s": cpu_between(ss, win[0], win[1]),
            "tool_cpu_s": (None if r["tool"] == "wsrace-cluster"
                           else cpu_between(ts, win[0], win[1]))}


def record(tool, n, rep, client, tool_rusage, server_rusage, trace=None):
    """One load run: the client's figures (wsrace: from its report dir),
    the gateway side from its trace, and both processes' rusage."""
    r = {"tool": tool, "connections": n, "rep": rep, "ok": False,
         "error": None, "tool_rusage": read_json(tool_rusage),
         "server_rusage": read_json(server_rusage)}
    # The CPU samples are read here and not kept in the record.
    samples = [(u or {}).pop("cpu_samples", None)
               for u in (r["tool_rusage"], r["server_rusage"])]
    wsrace = tool.startswith("wsrace")  # this build's, or a compared one
    try:
        if wsrace:
            r["client"] = wsrace_load(client, n)
        else:
            r["client"] = read_json(client) or {}
            if trace and os.path.exists(trace):
                r["client"]["gateway"] = gateway_side(read_events(trace), n)
    except (OSError, ValueError, KeyError, IndexError) as e:
        r["client"] = {}
        r["error"] = f"no figures: {e}"
        return r
    c = r["client"]
    r["window"] = handshake_window(r, *samples)
    # The client's own CPU (see the module comment).
    cpu = (r["tool_rusage"] or {}).get("cpu_s")
    srv = (r["server_rusage"] or {}).get("cpu_s")
    # A cluster's two gateways and Redis are wsrace's children too, with
    # no figure of their own to take out: its own CPU is not known.
    r["tool_own_cpu_s"] = (None if tool == "wsrace-cluster"
                           else cpu - srv if wsrace and cpu is not None
                           and srv is not None else cpu)
    welcomed = c.get("welcomed", c.get("gateway", {}).get("welcomed", 0))
    if tool == "artillery":
        welcomed = c.get("gateway", {}).get("welcomed", 0)
    if welcomed != n:
        r["error"] = f"{welcomed} of {n} connections welcomed"
    elif wsrace and not c.get("as_expected"):
        r["error"] = "a check did not PASS: " + json.dumps(c.get("verdicts"))
    elif r["tool_rusage"] is None:
        r["error"] = "no rusage of the client"
    else:
        r["ok"] = True
    return r


def signature(summary):
    """What a failing check showed, without the run's ids and numbers:
    "conn 3 registered key 'burst' ... (result existing, seq 26)" ->
    "conn N registered key '…' ...". Cut at the first parenthesis."""
    s = re.sub(r"'[^'\s]*'", "'…'", summary)
    s = re.sub(r"\d+", "N", s)
    return s.split(" (")[0].split(";")[0].strip()


def repro(report_dir, mode, bug, file, same_as=None):
    summ = json.load(open(os.path.join(report_dir, "summary.json")))
    cases = []
    for c in summ["cases"]:
        faults = [f.split("=")[0] for f in c["inject"]]
        checks = [DETECTS[f] for f in faults if f in DETECTS]
        detected = bool(checks) and all(
            c["checks"].get(k, {}).get("verdict") == "FAIL" for k in checks)
        cases.append({
            "seed": c["seed"],
            "detected": detected,
            "evidence": signature(" / ".join(
                c["checks"].get(k, {}).get("summary") or "" for k in checks)
                if detected else ""),
            "first_fail_ms": c["first_fail_ms"],
            "duration_ms": c["duration_ms"],
            "gateway_up_ms": c["target"].get("gateway_up_ms"),
        })
    return {"scenario": summ["cases"][0]["scenario"]["name"] if cases
            else None, "inject": summ["cases"][0]["inject"] if cases
            else [], "wall_ms": summ["duration_ms"], "cases": cases,
            "mode": mode, "bug": bug, "file": file, "same_as": same_as}


# --------------------------------------------------------------------------
# Exploration speed
# --------------------------------------------------------------------------

def load_summary(report_dir):
    return json.load(open(os.path.join(report_dir, "summary.json")))


def speed(report_dir, mode, jobs):
    """One timed run of explore-2: explore's iterations, or run's cases,
    per second of the tool's own clock (summary.json); what went wrong
    (explore's findings, run's unexpected verdicts)."""
    summ = load_summary(report_dir)
    if mode == "explore":
        x = summ["explore"]
        n, secs = x["iterations"], x["seconds"]
        bad, distinct = len(x.get("findings") or []), x.get("distinct")
    else:
        n, secs = summ["totals"]["cases"], summ["duration_ms"] / 1000
        bad, distinct = summ["totals"]["unexpected"], None
    return {"mode": mode, "jobs": int(jobs), "count": n, "seconds": secs,
            "per_s": n / secs if n and secs else None, "unexpected": bad,
            "distinct": distinct}


def verdict_times(summ):
    """Per fault row of a matrix, in its order: gateway up -> verdict
    (duration_ms - gateway_up_ms) over the cases that injected it."""
    by = {}
    for c in summ["cases"]:
        up = (c.get("target") or {}).get("gateway_up_ms")
        if c["inject"] and up is not None and c["duration_ms"] is not None:
            by.setdefault(",".join(c["inject"]), []).append(
                c["duration_ms"] - up)
    rows = (summ.get("matrix") or {}).get("rows") or []
    return [{"fault": r["label"], "inject": r["inject"],
             "ms": spread(by[r["inject"]])}
            for r in rows if r["inject"] in by]


WRONG_CELLS = ("MISSED", "FALSE ALARM", "ERROR")


def matrix_speed(report_dir, cells, t0, t1, code):
    """One timed `wsrace matrix`: its wall time (from outside), cases,
    missed detections, false alarms (and which cells), the verdict
    times."""
    summ = load_summary(report_dir)
    m = summ.get("matrix") or {}
    wrong = [{k: c.get(k) for k in ("row", "scenario", "check", "cell")}
             for c in m.get("cells") or [] if c.get("cell") in WRONG_CELLS]
    return {"cells": cells, "wall_s": float(t1) - float(t0),
            "exit": int(code), "scenarios": len(m.get("scenarios") or []),
            "cases": summ["totals"]["cases"],
            "unexpected": summ["totals"]["unexpected"],
            "missed": m.get("missed"), "false_alarms": m.get("false_alarms"),
            "errors": m.get("errors"), "wrong": wrong,
            "verdict_ms": verdict_times(summ)}


# --------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------

OWN_BINARIES = ("wsrace", "wsrace-gateway")


def role_of(comm, pid, tid):
    """Which part of which process a thread is (the threads are named:
    wsrace-loop, gw-loop, gw-worker; each process's main thread has its
    own role)."""
    if comm == "wsrace":
        return "wsrace: history, checks, reports (main thread)" \
            if pid == tid else "wsrace: other threads"
    if comm == "wsrace-loop":
        return "wsrace: client engine (service loops)"
    if comm in ("wsrace-gateway", "gw-loop"):
        # The first loop runs on the main thread.
        return "gateway: service loops"
    if comm == "gw-worker":
        return "gateway: worker pool (handshake, messages, close, trace)"
    return "other: " + comm


def frame_name(sym, dso, ip):
    """A frame's function; lws's static functions have no symbol in
    Debian's build: they are named by their offset in the library."""
    base = os.path.basename(dso)
    if sym and sym != "[unknown]":
        return sym, base
    return "%s+0x%s" % (base or "?", ip), base


def kernel_entry(named):
    """What a sample in the kernel was there for: a page fault, or the
    system call its user-space wrapper made (the first frame out of the
    kernel), or else an interrupt or the scheduler."""
    kfns = [f for f, d in named if d == "[kernel.kallsyms]"]
    user = next((f for f, d in named if d != "[kernel.kallsyms]"), None)
    if any("page_fault" in f for f in kfns):
        return "page faults"
    if user is None:
        return "interrupts, scheduling"
    name = re.sub(r"^(__GI_|__libc_|_)+", "", user)
    name = re.sub(r"^(libc_|GI_)+", "", name)
    if re.search(r"lll_lock|futex|pthread_cond|pthread_mutex", user):
        return "futex() (locks, condition variables)"
    return name + "()"


def perf_samples(data):
    """(comm, pid, tid, period ns, frames) per sample of a perf.data with
    call graphs; frames innermost first, each (function, dso)."""
    out = subprocess.run(
        ["perf", "script", "-i", data, "-F",
         "comm,pid,tid,period,ip,sym,dso"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        check=False).stdout
    head = re.compile(r"^(\S.*?)\s+(\d+)/(\d+)\s+(\d+)\s*$")
    frame = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")
    cur = None
    for line in out.splitlines():
        m = head.match(line)
        if m:
            if cur:
                yield cur
            cur = (m.group(1), int(m.group(2)), int(m.group(3)),
                   int(m.group(4)), [])
            continue
        m = frame.match(line)
        if m and cur:
            ip, sym, dso = m.groups()
            if dso == "inlined":  # an inlined call: the next frame's dso
                dso = ""
            cur[4].append((ip, sym, dso))
    if cur:
        yield cur


def profile(data, n, top=8):
    """Where the CPU of one profiled run went: per process role, its CPU
    seconds and share, its hottest functions by self time (with the
    function of our own code that led there), and our own functions by
    inclusive time."""
    roles = {}
    total = 0
    for comm, pid, tid, period, frames in perf_samples(data):
        # Inlined frames take the dso of the frame that holds them.
        named = []
        for i, (ip, sym, dso) in enumerate(frames):
            if not dso:
                dso = next((d for _, _, d in frames[i + 1:] if d), "")
            named.append(frame_name(sym, dso, ip))
        if not named:
            continue
        r = roles.setdefault(role_of(comm, pid, tid), {
            "ns": 0, "self": collections.Counter(),
            "own": collections.Counter(), "kernel": collections.Counter(),
            "via": collections.defaultdict(collections.Counter)})
        r["ns"] += period
        total += period
        self_fn = named[0]
        if self_fn[1] == "[kernel.kallsyms]":
            # One entry: in this VM kernel time lands mostly on
            # pvm_irq_enable, wherever interrupts come back on; what the
            # kernel was doing is told by the system call (or fault) the
            # stack came in through.
            self_fn = ("kernel (system calls, page faults, network)",
                       "[kernel.kallsyms]")
            r["kernel"][kernel_entry(named)] += period
        r["self"][self_fn] += period
        own = [f for f, d in named if d in OWN_BINARIES]
        for f in dict.fromkeys(own):  # once per sample: inclusive
            r["own"][f] += period
        if self_fn[1] not in OWN_BINARIES and own:
            r["via"][self_fn][own[0]] += period
    entry = {"main", "_start", "__libc_start_main_impl",
             "__libc_start_call_main", "start_thread", "clone3", "serve",
             "gw_server_run", "loop_main", "worker_main", "watch_main",
             "run_cases", "run_case", "cmd_run", "wr_cli_main"}
    out = {"available": total > 0, "connections": n,
           "cpu_s": total / 1e9, "roles": []}
    for name, r in sorted(roles.items(), key=lambda kv: -kv[1]["ns"]):
        ns = r["ns"]
        for f in list(r["own"]):
            if f in entry or r["own"][f] >= 0.9 * ns:
                del r["own"][f]  # a thread's entry: everything is under it
        out["roles"].append({
            "role": name, "cpu_s": ns / 1e9,
            "share": ns / total if total else 0,
            "self": [{"function": f, "dso": d, "share": v / ns,
                      "via": (r["via"][(f, d)].most_common(1)[0][0]
                              if r["via"][(f, d)] else None)}
                     for (f, d), v in r["self"].most_common(top)],
            "own": [{"function": f, "share": v / ns}
                    for f, v in r["own"].most_common(top)],
            "kernel": [{"what": k, "share": v / ns}
                       for k, v in r["kernel"].most_common(5)],
        })
    return out


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------

def spread(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1],
            "n": len(xs)}


def get(d, path):
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


LOAD_FIGURES = {
    # figure: path in a raw load record
    "handshakes_per_s": "client.handshakes_per_s",
    "handshake_p50_ms": "client.handshake_p50_ms",
    "handshake_p99_ms": "client.handshake_p99_ms",
    "messages_per_s": "client.messages_per_s",
    "gw_handshakes_per_s": "client.gateway.handshakes_per_s",
    "gw_handshake_p50_ms": "client.gateway.handshake_p50_ms",
    "gw_handshake_p99_ms": "client.gateway.handshake_p99_ms",
    "gw_messages_per_s": "client.gateway.messages_per_s",
    "tool_rss_mb": "tool_rusage.maxrss_kb",
    "tool_cpu_s": "tool_own_cpu_s",
    "tool_wall_s": "tool_rusage.wall_s",
    "server_rss_mb": "server_rusage.maxrss_kb",
    "server_cpu_s": "server_rusage.cpu_s",
    "window_s": "window.s",
    "window_server_cpu_s": "window.server_cpu_s",
    "window_tool_cpu_s": "window.tool_cpu_s",
}
TOOLS = ["wsrace", "wsrace-hs", "wsrace-compare", "wsrace-cluster",
         "node-ws",
         "node-ws-compare", "artillery", "lws-echo"]
TOOL_NAMES = {
    "wsrace": "wsrace",
    "wsrace-hs": "wsrace, handshakes only (no message)",
    "wsrace-compare": "wsrace, compared build (its own gateway)",
    "wsrace-cluster": "wsrace, 2 gateways sharing Redis (cluster mode)",
    "node-ws": "Node.js `ws` client",
    "node-ws-compare": "Node.js `ws` client, compared build's gateway",
    "artillery": "Artillery (ws engine)",
    "lws-echo": "lws client + lws echo server (ceiling)",
}


def load_table(raws):
    groups = {}
    for r in raws:
        groups.setdefault((r["tool"], r["connections"]), []).append(r)
    out = []
    for (tool, n), rs in sorted(groups.items(),
                                key=lambda k: (k[0][1],
                                               TOOLS.index(k[0][0]))):
        row = {"tool": tool, "connections": n, "runs": len(rs),
               "ok_runs": sum(1 for r in rs if r.get("ok")),
               "errors": [r.get("error") for r in rs if r.get("error")]}
        for name, path in LOAD_FIGURES.items():
            vals = [get(r, path) for r in rs if r.get("ok")]
            if name.endswith("_mb"):
                vals = [v / 1024 for v in vals if v is not None]
            row[name] = spread(vals)
        rss = [get(r, "tool_rusage.maxrss_kb") for r in rs if r.get("ok")]
        row["tool_bytes_per_connection"] = spread(
            [v * 1024 / n for v in rss if v is not None])
        # While the connections are held: the peak with more than two
        # threads (wsrace's engine threads; its checks and reports run on
        # one thread after the connections are closed).
        held = [get(r, "tool_rusage.peak_rss_kb_threaded")
                for r in rs if r.get("ok")]
        row["tool_bytes_per_connection_held"] = spread(
            [v * 1024 / n for v in held if v])
        out.append(row)
    # Ratios to wsrace, per size, on the medians.
    base = {r["connections"]: r for r in out if r["tool"] == "wsrace"}
    for r in out:
        b = base.get(r["connections"])
        r["vs_wsrace"] = {}
        for f in ("handshakes_per_s", "gw_handshakes_per_s",
                  "messages_per_s", "gw_messages_per_s"):
            if b and b.get(f) and r.get(f) and b[f]["median"]:
                r["vs_wsrace"][f] = r[f]["median"] / b[f]["median"]
    return out


def repro_table(raws):
    rows = []
    for r in raws:
        cs = r["cases"]
        det = [c for c in cs if c["detected"]]
        rows.append({
            "scenario": r["scenario"], "file": r.get("file"),
            "bug": r.get("bug"), "mode": r["mode"], "runs": len(cs),
            "detected": len(det),
            "detection_rate": len(det) / len(cs) if cs else None,
            "first_fail_ms": spread([c["first_fail_ms"] for c in det]),
            "first_fail_p90_ms": pct(sorted(c["first_fail_ms"] for c in det
                                            if c["first_fail_ms"] is not None),
                                     0.9),
            "verdict_ms": spread([c["duration_ms"] for c in cs]),
            "verdict_after_up_ms": spread(
                [c["duration_ms"] - c["gateway_up_ms"] for c in cs
                 if c["duration_ms"] is not None
                 and c["gateway_up_ms"] is not None]),
            "gateway_up_ms": spread([c["gateway_up_ms"] for c in cs]),
            "wall_s": r["wall_ms"] / 1000,
            "same_as": r.get("same_as"),
            "evidence": evidence_kinds(cs),
        })
    return rows


def evidence_kinds(cases):
    """The distinct signatures of what detected the bug, most common
    first, each with its share of the runs."""
    counts = {}
    for c in cases:
        if c.get("detected") and c.get("evidence"):
            counts[c["evidence"]] = counts.get(c["evidence"], 0) + 1
    return [{"evidence": k, "runs": v} for k, v in
            sorted(counts.items(), key=lambda kv: -kv[1])]


def explore_table(meta, recs):
    """bench.json's `explore`: explore beside run per jobs, the two
    matrices, the exposed matrix's verdict times per fault."""
    if not meta or not meta.get("available"):
        return meta
    out = dict(meta)
    out["speed"] = []
    for j in sorted({r["jobs"] for r in recs if "mode" in r}):
        e, n = (next((r for r in recs if r.get("mode") == mode
                      and r["jobs"] == j), None) for mode in ("explore", "run"))
        out["speed"].append({
            "jobs": j, "explore": e, "run": n,
            "ratio": (e["per_s"] / n["per_s"] if e and n and e["per_s"]
                      and n["per_s"] else None)})
    out["matrix"] = [r for c in ("exposed", "exposed-early", "all")
                     for r in recs if r.get("cells") == c]
    exposed, early = (next((r for r in out["matrix"] if r["cells"] == c),
                           None) for c in ("exposed", "exposed-early"))
    out["verdict_ms"] = exposed["verdict_ms"] if exposed else []
    # The same rows with --early-verdict, joined by fault.
    by = {v["fault"]: v["ms"] for v in (early or {}).get("verdict_ms", [])}
    for v in out["verdict_ms"]:
        v["early_ms"] = by.get(v["fault"])
    return out


def fmt(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, dict):
        if v.get("median") is None:
            return "–"
        if v["n"] == 1:
            return fmt(v["median"], digits)
        return (f"{fmt(v['median'], digits)} "
                f"({fmt(v['min'], digits)}–{fmt(v['max'], digits)})")
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def report(bench_dir):
    raw = os.path.join(bench_dir, "raw")
    machine = json.load(open(os.path.join(raw, "machine.json")))
    loads = [json.load(open(p)) for p in
             sorted(glob.glob(os.path.join(raw, "load-*.json")))]
    repros = [json.load(open(p)) for p in
              sorted(glob.glob(os.path.join(raw, "repro-*.json")))]
    overhead = None
    if os.path.exists(os.path.join(raw, "overhead.json")):
        overhead = json.load(open(os.path.join(raw, "overhead.json")))
    history = None
    if os.path.exists(os.path.join(raw, "history-load.json")):
        history = json.load(open(os.path.join(raw, "history-load.json")))
    profiles = [json.load(open(p)) for p in
                sorted(glob.glob(os.path.join(raw, "profile-*.json")),
                       key=lambda p: int(re.sub(r"\D", "", os.path.basename(p))
                                         or 0))]
    explore = explore_table(
        read_json(os.path.join(raw, "explore.json")),
        [json.load(open(p)) for p in
         sorted(glob.glob(os.path.join(raw, "explore-*.json")))])
    load = load_table(loads)
    rep = repro_table(repros)
    targets = evaluate_targets(load, rep)
    bench = {"run_id": machine.get("run_id"), "machine": machine,
             "load": load, "budget": budgets(load, machine.get("nproc")),
             "repro": rep, "overhead": overhead,
             "history_load": history, "profiles": profiles,
             "explore": explore, "targets": targets}
    with open(os.path.join(bench_dir, "bench.json"), "w") as f:
        json.dump(bench, f, indent=1)
    with open(os.path.join(bench_dir, "bench.md"), "w") as f:
        f.write(markdown(bench))


def evaluate_targets(load, rep):
    out = []
    big = max((r["connections"] for r in load if r["tool"] == "wsrace"),
              default=None)
    w = next((r for r in load if r["tool"] == "wsrace"
              and r["connections"] == big), None)
    if w and w["tool_bytes_per_connection_held"]:
        kib = w["tool_bytes_per_connection_held"]["median"] / 1024
        out.append({"target": f"one harness process holds {big:,} "
                    "connections at <= 16 KiB each (peak RSS while the "
                    "connections are held / connections)",
                    "measured": f"{kib:.1f} KiB", "met": kib <= 16
                    and w["ok_runs"] == w["runs"]})
    if w and w["tool_bytes_per_connection"]:
        kib = w["tool_bytes_per_connection"]["median"] / 1024
        out.append({"target": f"... and for the whole case at {big:,} "
                    "(peak RSS of the process, history check and reports "
                    "included / connections)",
                    "measured": f"{kib:.1f} KiB", "met": kib <= 16
                    and w["ok_runs"] == w["runs"]})
    for n in sorted({r["connections"] for r in load}):
        ws_ = next((r for r in load if r["tool"] == "wsrace"
                    and r["connections"] == n), None)
        nd = next((r for r in load if r["tool"] == "node-ws"
                   and r["connections"] == n), None)
        if ws_ and nd and ws_["handshakes_per_s"] and nd["handshakes_per_s"]:
            x = (ws_["handshakes_per_s"]["median"]
                 / nd["handshakes_per_s"]["median"])
            out.append({"target": f">= 3x the Node ws client's handshake "
                        f"rate at {n:,} connections",
                        "measured": f"{x:.2f}x", "met": x >= 3})
        if ws_ and nd and ws_["tool_cpu_s"] and nd["tool_cpu_s"]:
            a = ws_["tool_cpu_s"]["median"] * 1e6 / n
            b = nd["tool_cpu_s"]["median"] * 1e6 / n
            out.append({"target": f"client CPU per connection at most the "
                        f"Node ws client's at {n:,} connections (wsrace's "
                        f"own, its gateway's left out)",
                        "measured": f"{a:,.0f} µs against {b:,.0f} µs",
                        "met": a <= b})
        ec = next((r for r in load if r["tool"] == "lws-echo"
                   and r["connections"] == n), None)
        if n == 1000 and ws_ and ec and ws_["handshakes_per_s"] and \
                ec["handshakes_per_s"]:
            x = (ws_["handshakes_per_s"]["median"]
                 / ec["handshakes_per_s"]["median"])
            out.append({"target": ">= 0.6x the lws echo pair's handshake "
                        "rate (the ceiling) at 1,000 connections",
                        "measured": f"{x:.2f}x", "met": x >= 0.6})
    for r in rep:
        if r["mode"] != "windows":
            continue
        ev = r["first_fail_ms"]["median"] if r["first_fail_ms"] else None
        vd = (r["verdict_after_up_ms"]["median"]
              if r["verdict_after_up_ms"] else None)
        every = r["detected"] == r["runs"]
        early = next((e for e in rep if e["mode"] == "early"
                      and e["scenario"] == r["scenario"]), None)
        full = f"verdict {fmt(vd)} ms"
        if early and early["verdict_after_up_ms"]:
            # The verdict as soon as it is decided (--early-verdict),
            # detected in every run as well.
            evd = early["verdict_after_up_ms"]["median"]
            full += (f", {fmt(evd)} ms with --early-verdict "
                     f"({early['detected']}/{early['runs']})")
            if early["detected"] == early["runs"]:
                vd = evd
        out.append({
            "target": f"{r['bug']} ({r['scenario']}): detected in every run "
                      "with race windows, median time to the failing verdict "
                      "< 100 ms after the gateway is up",
            "measured": f"{r['detected']}/{r['runs']}; first failing "
                        f"evidence {fmt(ev, 1)} ms, {full}",
            "met": every and ev is not None and ev < 100
                   and vd is not None and vd < 100,
            "met_evidence": every and ev is not None and ev < 100,
            "met_verdict": every and vd is not None and vd < 100})
    return out


def budgets(load, cores):
    """Per size: the CPU per handshake that 3x the Node client's rate
    leaves to wsrace and its gateway together on this machine's cores,
    beside what each spent per handshake inside the handshakes' window
    (medians): on the load (messages run among the handshakes) and on the
    handshakes alone."""
    out = []
    if not cores:
        return out
    for n in sorted({r["connections"] for r in load}):
        row = {r["tool"]: r for r in load if r["connections"] == n}
        ws_, hs, nd = row.get("wsrace"), row.get("wsrace-hs"), \
            row.get("node-ws")
        if not (ws_ and nd and nd["handshakes_per_s"]):
            continue

        def per(r, f):
            v = r.get(f) if r else None
            return v["median"] * 1e6 / n if v else None

        def both(r):
            a, b = per(r, "window_server_cpu_s"), per(r, "window_tool_cpu_s")
            return a + b if a is not None and b is not None else None

        def busy(r):
            w = r.get("window_s") if r else None
            c = both(r)
            return (c * n / 1e6 / (cores * w["median"])
                    if w and c is not None else None)
        need = 3 * nd["handshakes_per_s"]["median"]
        out.append({
            "connections": n, "cores": cores, "rate_needed": need,
            "budget_us": cores * 1e6 / need,
            "load": {"gateway_us": per(ws_, "window_server_cpu_s"),
                     "wsrace_us": per(ws_, "window_tool_cpu_s"),
                     "both_us": both(ws_), "busy": busy(ws_)},
            "handshakes_only": {
                "rate": hs["handshakes_per_s"]["median"]
                if hs and hs["handshakes_per_s"] else None,
                "gateway_us": per(hs, "window_server_cpu_s"),
                "wsrace_us": per(hs, "window_tool_cpu_s"),
                "both_us": both(hs), "busy": busy(hs)}})
    return out


def budget_markdown(bs):
    L = ["### CPU per handshake, against the budget of 3× Node\n",
         "At 3× the Node client's rate, N handshakes take N ÷ (3 × its "
         "rate) seconds, and the machine's cores give wsrace and its "
         "gateway together cores × that time: the *budget* per handshake. "
         "Beside it, what each spent per handshake inside the handshakes' "
         "window (the gateway's first `conn.open` → its last "
         "`welcome.sent`; CPU from samples of each process every 10 ms, "
         "medians), on the load (each client sends its message as soon as "
         "it is welcomed, so the messages run among the handshakes) and on "
         "the handshakes alone (no message). *busy*: that CPU ÷ (cores × "
         "window). When the handshakes alone are above the budget, no "
         "order of the work reaches 3× with this client and gateway on "
         "this machine; the cut needed is the last column.\n",
         "| connections | 3× Node, handshakes/s | budget µs / handshake "
         "| load: gateway µs | wsrace µs | both | busy | handshakes only: "
         "handshakes/s | gateway µs | wsrace µs | both | busy | within "
         "budget | cut needed (handshakes only) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def pc(x):
        return f"{100 * x:.0f}%" if x is not None else "–"
    for b in bs:
        ld, ho = b["load"], b["handshakes_only"]
        if ld["both_us"] is None:
            ok = "–"
        elif ld["both_us"] <= b["budget_us"]:
            ok = "yes"
        elif ho["both_us"] is not None and ho["both_us"] > b["budget_us"]:
            ok = "**no**, nor the handshakes alone"
        else:
            ok = "**no**"
        cut = ("–" if ho["both_us"] is None
               else "none" if ho["both_us"] <= b["budget_us"]
               else pc(1 - b["budget_us"] / ho["both_us"]))
        L.append(f"| {b['connections']:,} | {fmt(b['rate_needed'])} | "
                 f"{fmt(b['budget_us'])} | {fmt(ld['gateway_us'])} | "
                 f"{fmt(ld['wsrace_us'])} | {fmt(ld['both_us'])} | "
                 f"{pc(ld['busy'])} | {fmt(ho['rate'])} | "
                 f"{fmt(ho['gateway_us'])} | {fmt(ho['wsrace_us'])} | "
                 f"{fmt(ho['both_us'])} | {pc(ho['busy'])} | {ok} | {cut} |")
    L.append("")
    return L


BOTTLENECKS = [
    "**Read the profiles above.** Each size has one: the parts are "
    "wsrace's client engine (its service loops), wsrace's main thread "
    "(history, checks, reports, after the connections are closed), the "
    "gateway's service loops and its worker pool. Most of what is left is "
    "kernel time, by system call.",
    "**The gateway.** One service loop per core, each an lws context on "
    "its own epoll loop (lws's libev plugin on a loop of ours) with its "
    "own SO_REUSEPORT listener; no lws idle-ping timers. Its loops spend "
    "their time in send() (one per frame) and in lws's linear scan of its "
    "descriptor table at every socket insert and close (Debian builds lws "
    "with asserts; the table is as long as ulimit -n). Its worker pool "
    "traces about 27 events per connection, copied into the trace file "
    "through a shared mapping (no system call per event; the file is "
    "still complete up to a crash), and hands jobs over with futex().",
    "**The budget.** The table under the targets says, per size, how much "
    "CPU per handshake 3× the Node client's rate leaves to wsrace and its "
    "gateway together, and what each spent inside the handshakes' window, "
    "with the messages among the handshakes and without them. Where even "
    "the handshakes alone are above it, the cut needed is that of the "
    "handshake itself (lws's client and server, the kernel's TCP), not of "
    "the order of the work.",
    "**wsrace's engine.** Each service thread is an lws client context on "
    "its own epoll loop, 250 connections each (lws still keeps one "
    "linearly sorted list of the timeouts it sets during each handshake "
    "per context); its own timers are libev's. Events are recorded in the "
    "history's compact form, with no JSON text. What is left: send(), "
    "epoll_wait(), lws's read of /dev/urandom for each key and frame mask, "
    "close().",
    "**Memory of a case.** The history keeps about 25 bytes per event "
    "(strings interned once, events by shape) and rebuilds JSON lines on "
    "demand; the checkers read a flat view of every event, 240 bytes each, "
    "which is the case's peak (10,000 connections: about 100 MB of the "
    "process's 140). The HTML timeline reads history.jsonl into the same "
    "compact form.",
    "**Two cores, shared.** wsrace and the gateway share the same two "
    "cores, and other work ran on the machine during the run (see the "
    "load averages): treat single figures with care, the spreads are "
    "real. A handshake rate is bounded by the CPU of wsrace and its "
    "gateway together; the Node client's, by its one thread.",
]


def share_text(x):
    return f"{100 * x:.0f}%" if x >= 0.095 else f"{100 * x:.1f}%"


def lws_note(function):
    """What an unnamed lws function is, when we know it (Debian's
    libwebsockets17 4.1.6-3 has no symbols for its static functions)."""
    m = re.match(r"libwebsockets\.so\.17\+0x([0-9a-f]+)$", function)
    if m and 0x10700 <= int(m.group(1), 16) < 0x10740:
        return (function + " (lws's linear scan of its descriptor table, "
                "which Debian's build, asserts on, runs at every socket "
                "insert and close)")
    return function


def profile_markdown(prof):
    """The profile of one size: per part of each process, its CPU, its
    hottest functions, our functions and what the kernel did."""
    L = []
    p = L.append
    n = prof["connections"]
    p(f"#### Where the CPU went at {n:,} connections\n")
    p(f"One more wsrace run under `perf record -e cpu-clock --call-graph "
      f"dwarf` (not one of the timed runs): {prof['cpu_s']:.1f} s of CPU "
      "in all, wsrace's and its gateway's. *Self*: time in the function "
      "itself (through which function of ours); *ours*: time in our "
      "functions and what they called; *kernel*: the system call (or page "
      "fault) that kernel time came through.\n")
    for r in prof["roles"]:
        if r["share"] < 0.01:
            continue
        p(f"- **{r['role']}**: {r['cpu_s']:.2f} s, {share_text(r['share'])}")
        self_ = " · ".join(
            f"{lws_note(x['function'])} {share_text(x['share'])}"
            + (f" (via `{x['via']}`)" if x["via"] else "")
            for x in r["self"][:5])
        p(f"  - self: {self_}")
        if r["own"]:
            p("  - ours: " + " · ".join(
                f"`{x['function']}` {share_text(x['share'])}" for x in r["own"][:6]))
        if r.get("kernel"):
            p("  - kernel: " + " · ".join(
                f"{x['what']} {share_text(x['share'])}" for x in r["kernel"][:4]))
    top = prof["roles"][0] if prof["roles"] else None
    if top:
        user = [x for x in top["self"] if x["dso"] != "[kernel.kallsyms]"]
        kern = top.get("kernel") or []
        p(f"\nLargest part at {n:,}: *{top['role']}* "
          f"({share_text(top['share'])} of the CPU)"
          + (f"; its kernel time mostly {kern[0]['what']}" if kern else "")
          + (f"; its hottest function of its own, "
             f"{lws_note(user[0]['function'])} ({share_text(user[0]['share'])})"
             if user else "") + ".\n")
    return L


def speed_markdown(x):
    L = []
    p = L.append
    p(f"`wsrace explore` on `{x['scenario']}` (two clients racing a "
      "connect with one session id; nothing injected) for "
      f"{x['budget_s']} s, beside the old path: the same scenario as plain "
      "cases, `wsrace run --inject none --repeat N`, N as many as explore "
      "ran iterations (so about as long). Per second of each tool's own "
      "clock (summary.json). An iteration is a case whose sync points the "
      "runner schedules; a plain case leaves them to the OS.\n")
    p("| jobs | explore iterations | s | iterations/s | distinct "
      "interleavings | findings | run cases | s | cases/s | unexpected "
      "| explore ÷ run |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in x["speed"]:
        e, n = r["explore"] or {}, r["run"] or {}
        p(f"| {r['jobs']} | {fmt(e.get('count'))} | "
          f"{fmt(e.get('seconds'), 1)} | {fmt(e.get('per_s'), 1)} | "
          f"{fmt(e.get('distinct'))} | {fmt(e.get('unexpected'))} | "
          f"{fmt(n.get('count'))} | {fmt(n.get('seconds'), 1)} | "
          f"{fmt(n.get('per_s'), 1)} | {fmt(n.get('unexpected'))} | "
          f"{fmt(r['ratio'], 2)}× |")
    p("")
    return L


def matrix_markdown(x):
    L = []
    p = L.append
    out = x.get("cluster_left_out")
    cluster = (f"the cluster ones left out: {out}" if out else
               "the cluster ones included")
    p(f"`wsrace matrix --seeds 1 --jobs 4` over {x['matrix_scenarios']} "
      f"shipped scenarios ({cluster}): a fault row only for the scenarios "
      "that expose it (`--cells exposed`, the default) or for every "
      "scenario (`--cells all`). Wall time from outside the process.\n")
    p("| cells | cases | wall s | cases/s | missed | false alarms | errors "
      "| exit |")
    p("|---|---|---|---|---|---|---|---|")
    for m in x["matrix"]:
        rate_ = m["cases"] / m["wall_s"] if m["wall_s"] else None
        p(f"| {m['cells']} | {m['cases']} | {fmt(m['wall_s'], 1)} | "
          f"{fmt(rate_, 1)} | {fmt(m['missed'])} | "
          f"{fmt(m['false_alarms'])} | {fmt(m['errors'])} | {m['exit']} |")
    p("")
    for m in x["matrix"]:
        clean = m["missed"] == 0 and m["false_alarms"] == 0
        p(f"- `--cells {m['cells']}`: "
          + ("0 missed detections and 0 false alarms." if clean else
             f"**{m['missed']} missed detection(s), {m['false_alarms']} "
             "false alarm(s)**: "
             + "; ".join(f"{w['cell']} of {w['check']} in {w['scenario']} "
                         f"with {w['row']}" for w in m.get("wrong", []))
             + "."))
    p("")
    return L


def verdict_markdown(x):
    L = []
    p = L.append
    p("Time to a verdict in the exposed matrix: gateway up → the case's "
      "verdict (`duration_ms` − `gateway_up_ms`), over the cases that "
      "injected a fault, per fault row (one case per scenario that "
      "exposes it; *seed-bugs* injects the four seed bugs together); "
      "*early*: the same matrix with `--early-verdict`, each case ending "
      "at its first conclusive failure.\n")
    p("| fault | cases | median ms | max ms | early: median ms | early: "
      "max ms |\n|---|---|---|---|---|---|")
    for v in x["verdict_ms"]:
        ms, ems = v["ms"] or {}, v.get("early_ms") or {}
        p(f"| {v['fault']} | {ms.get('n', 0)} | {fmt(ms.get('median'))} | "
          f"{fmt(ms.get('max'))} | {fmt(ems.get('median'))} | "
          f"{fmt(ems.get('max'))} |")
    p("")
    return L


def explore_markdown(x):
    L = ["## 5. Exploration\n"]
    if not x or not x.get("available"):
        L.append(f"Not measured: {x.get('reason') if x else 'not run'}.\n")
        return L
    L.extend(speed_markdown(x))
    if x["matrix"]:
        L.extend(matrix_markdown(x))
    if x["verdict_ms"]:
        L.extend(verdict_markdown(x))
    return L


def markdown(b):
    m = b["machine"]
    L = []
    p = L.append
    p(f"# wsrace benchmark — {m.get('run_id')}\n")
    p("Generated by `scripts/bench` "
      f"(`{m.get('command')}`). The benchmark is not a test: nothing "
      "here is asserted, the figures are what this machine did.\n")
    p("## Machine\n")
    p("| | |\n|---|---|")
    for k, label in [("cpu_model", "CPU"), ("nproc", "cores (nproc)"),
                     ("mem_total", "memory"), ("kernel", "kernel"),
                     ("loadavg_before", "load average before"),
                     ("loadavg_after", "load average after"),
                     ("nofile", "descriptor limit (ulimit -n, raised)"),
                     ("lws", "libwebsockets"), ("node", "Node.js"),
                     ("ws", "ws (npm)"), ("artillery", "Artillery (npm)"),
                     ("valgrind", "valgrind"),
                     ("compare", "compared with (--compare)"),
                     ("runs", "runs per figure"),
                     ("seeds", "seeds per bug"), ("git", "git")]:
        p(f"| {label} | {m.get(k, '–')} |")
    p("\nEvery figure is the median of its runs with (min–max); the "
      "machine is shared (2 cores; other work was running: see the load "
      "averages), so spreads are wide.\n")
    p("## Targets\n")
    p("| target | measured | met |\n|---|---|---|")
    for t in b["targets"]:
        if "met_evidence" in t and t["met_evidence"] != t["met_verdict"]:
            met = (f"evidence {'yes' if t['met_evidence'] else '**no**'}, "
                   f"verdict {'yes' if t['met_verdict'] else '**no**'}")
        else:
            met = "yes" if t["met"] else "**no**"
        p(f"| {t['target']} | {t['measured']} | {met} |")
    if b.get("budget"):
        p("")
        L.extend(budget_markdown(b["budget"]))
    p("\n*Evidence*: gateway up → the first event that proves the bug. "
      "*Verdict*: gateway up → the case's verdict, which comes when the "
      "scenario has played out (its own sleeps, the 200 ms delay window of "
      "coordinator-gap, the 1 s ready bound of scope-loss-swallow) and the "
      "gateway is stopped and checked; with `--early-verdict` the case ends "
      "at its first conclusive failure, and the target counts that verdict "
      "when it, too, detected the bug in every run.\n")
    p("")
    p("## 1–2. Handshake load, wsrace and its peers\n")
    p("Workload per connection: HS256 token, full handshake, wait for the "
      "welcome, one `user_message`, its five events; all N connections are "
      "opened at once and stay open until every one is done. Same gateway "
      "(`wsrace-gateway`, correct, `--trace` on as under wsrace), a fresh "
      "one per run. *Handshake* = connect started → welcome received, on "
      "the client's clock; *gw* = conn.open → welcome.sent in the gateway's "
      "trace (one instrument for every client of the gateway). Memory and "
      "CPU are of the whole process (wsrace's include checking the "
      "history and writing the report; its CPU is its own: the gateway it "
      "starts and reaps is left out, see bench/analyze.py); "
      "*KiB / conn* = peak RSS / N, "
      "*held* = the peak while the process ran more than two threads, "
      "i.e. for wsrace while its engine holds the connections, before the "
      "single-threaded check and report of the case. The cluster row is "
      "wsrace driving the same workload at two gateway instances sharing a "
      "Redis registry (`bench/scenarios/load-cluster-*.yaml`, clients round "
      "robin): every registry operation is a round trip to Redis, so its "
      "× wsrace is the cluster's handshake rate beside a lone gateway's; "
      "its server columns are empty (two gateways and Redis, not one "
      "process), and so is its client CPU (theirs cannot be taken out of "
      "it). The *handshakes only* row is wsrace on the same connections "
      "with no message (`bench/scenarios/handshakes-10k.yaml`): what the "
      "handshakes cost without the messages that run among them.\n")
    for n in sorted({r["connections"] for r in b["load"]}):
        p(f"### {n:,} concurrent connections\n")
        p("| tool | runs ok | handshakes/s | × wsrace | p50 ms | p99 ms "
          "| msgs/s | gw handshakes/s | gw × wsrace | client peak RSS MB "
          "| client CPU s | KiB / conn | KiB / conn held | server peak RSS MB "
          "| server CPU s |")
        p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in b["load"]:
            if r["connections"] != n:
                continue
            v = r["vs_wsrace"]
            def kib(per):
                return ({k: (x / 1024 if isinstance(x, float) else x)
                         for k, x in per.items()} if per else None)
            p(f"| {TOOL_NAMES[r['tool']]} | {r['ok_runs']}/{r['runs']} | "
              f"{fmt(r['handshakes_per_s'])} | "
              f"{fmt(v.get('handshakes_per_s'), 2)} | "
              f"{fmt(r['handshake_p50_ms'])} | {fmt(r['handshake_p99_ms'])} "
              f"| {fmt(r['messages_per_s'])} | "
              f"{fmt(r['gw_handshakes_per_s'])} | "
              f"{fmt(v.get('gw_handshakes_per_s'), 2)} | "
              f"{fmt(r['tool_rss_mb'])} | {fmt(r['tool_cpu_s'], 2)} | "
              f"{fmt(kib(r['tool_bytes_per_connection']), 1)} | "
              f"{fmt(kib(r['tool_bytes_per_connection_held']), 1)} | "
              f"{fmt(r['server_rss_mb'])} | "
              f"{fmt(r['server_cpu_s'], 2)} |")
        p("")
        for r in b["load"]:
            if r["connections"] == n:
                for e in r["errors"][:2]:
                    p(f"> {r['tool']} at {n:,}: {e}\n")
        prof = next((x for x in b.get("profiles", [])
                     if x.get("connections") == n and x.get("available")),
                    None)
        if prof:
            L.extend(profile_markdown(prof))
    p("## 3. Time to a reproduction\n")
    p("Each seed bug, injected, over many seeds (`wsrace run --inject "
      "exposed --repeat N`). *With race windows*: the scenario as written; "
      "*naive stress*: the same clients with the scenario's gateway sync "
      "actions dropped (only random timing). *First failing evidence*: "
      "gateway up → the first event that proves the failure "
      "(`first_fail_ms`), over the runs that detected it; *verdict*: "
      "gateway up → verdict (`duration_ms` − `gateway_up_ms`: the "
      "scenario's own waits, gateway stop, checks); *`--early-verdict`*: "
      "the same runs ended at their first conclusive failure.\n")
    p("| bug | scenario | mode | detected | first failing evidence ms "
      "| p90 | verdict ms after gateway up | wall s |")
    p("|---|---|---|---|---|---|---|---|")
    for r in b["repro"]:
        mode = {"windows": "race windows", "naive": "naive stress",
                "early": "race windows, `--early-verdict`"}[r["mode"]]
        if r.get("same_as"):
            mode += " (no sync actions: same run)"
        p(f"| {r['bug']} | {r['scenario']} | {mode} | "
          f"{r['detected']}/{r['runs']} | {fmt(r['first_fail_ms'], 1)} | "
          f"{fmt(r['first_fail_p90_ms'], 1)} | "
          f"{fmt(r['verdict_after_up_ms'])} | "
          f"{fmt(r['wall_s'], 1)} |")
    p("")
    by = {}
    for r in b["repro"]:
        by.setdefault(r["scenario"], {})[r["mode"]] = r
    lines = []
    for s, modes in by.items():
        w, nv = modes.get("windows"), modes.get("naive")
        if not w or not nv or nv.get("same_as"):
            continue
        rw = w["detection_rate"] or 0
        rn = nv["detection_rate"] or 0
        lines.append(f"| {s} | {rw:.0%} | {rn:.0%} | "
                     + (f"{rw / rn:.1f}×" if rn else "∞ (naive never "
                        "detects it)") + " |")
    if lines:
        p("Race windows against naive stress (detection rate):\n")
        p("| scenario | with windows | naive | ratio |\n|---|---|---|---|")
        L.extend(lines)
        p("")
        p("What detected it (the failing check's summary, ids and numbers "
          "left out), with the runs that showed it:\n")
        p("| scenario | mode | evidence | runs |\n|---|---|---|---|")
        for sc, modes in by.items():
            nv = modes.get("naive")
            if not nv or nv.get("same_as"):
                continue
            for mode in ("windows", "naive"):
                r = modes.get(mode)
                for k in (r or {}).get("evidence", []):
                    p(f"| {sc} | {mode} | {k['evidence']} | "
                      f"{k['runs']}/{r['runs']} |")
        p("\nThe seed bugs are deterministic branches of the reference "
          "gateway, so naive stress trips a check as often as the windows "
          "do. The windows decide *which* failure shows: with "
          "`registry.check:rendezvous=5` the five registrations of "
          "duplicate-burst overlap and one key holds several live machines "
          "(the race of the original report); without it they arrive one "
          "after another and only the sequential symptom (a registration of "
          "a live key that succeeds) appears.\n")
    p("## 4. Tool overhead\n")
    o = b["overhead"]
    if not o or not o.get("available"):
        p(f"Not measured: {o.get('reason') if o else 'not run'}.\n")
    else:
        p(f"`meson test --suite integration --num-processes 2`, one run "
          f"each. The `{o['setup']}` setup runs fewer seeds with longer "
          f"timeouts ({o['setup_env'] or 'no env'}), so the ratio divides "
          "by a native run with that same env.\n")
        p("| run | seconds | exit |\n|---|---|---|")
        p(f"| native, the setup's env | {fmt(o['native_same_env_s'], 1)} | "
          f"{o['native_same_env_exit']} |")
        p(f"| under memcheck (`--setup {o['setup']}`) | "
          f"{fmt(o['memcheck_s'], 1)} | {o['memcheck_exit']} |")
        ratio = (o["memcheck_s"] / o["native_same_env_s"]
                 if o["native_same_env_s"] else None)
        p(f"\nOverhead of memcheck: **{fmt(ratio, 1)}×** the native run "
          "with the same env.\n")
    L.extend(explore_markdown(b.get("explore")))
    h = b.get("history_load")
    if h:
        p("## History loading\n")
        p(f"Reading a gateway trace of {h['events']:,} events into a "
          f"history and ordering it: {fmt(h['load_s'], 3)} s "
          f"(from the former timed unit test).\n")
    p("## Notes\n")
    for note in m.get("notes", []):
        p(f"- {note}")
    p("\n## Bottlenecks\n")
    p("What the code does about its costs, and where this run's profiles "
      "point (section 1–2).\n")
    for note in BOTTLENECKS:
        p(f"- {note}")
    p("\n## Rerun\n")
    p("```sh\nscripts/bench            # full: 1,000 / 5,000 / 10,000 "
      "connections, 3 runs each, 100 seeds per bug, profiles, 30 s "
      "explorations (about 25 min)\n"
      "scripts/bench --compare ../other/build   # and another build side "
      "by side\n"
      "scripts/bench --quick    # 1,000 connections, 2 runs, 10 seeds, "
      "10 s explorations (about 6 min)\n"
      "scripts/bench --runs 5 --seeds 100 --sizes '1000 10000'\n"
      "scripts/bench --no-load --no-overhead --no-explore   # time to a "
      "reproduction only\n"
      "scripts/bench --no-load --no-repro --no-overhead   # exploration "
      "speed only\n```\n")
    p("`scripts/bench --help` lists every option. It builds `build/` "
      "(or `$WSRACE_BUILD`) like `scripts/run`, installs Node.js/npm "
      "from Debian and `bench/peers` with `npm ci` when they are missing, "
      "and raises `ulimit -n` to its hard limit.\n")
    p("Raw per-run records are in `raw/` beside this file.\n")
    return "\n".join(L) + "\n"


def main(argv):
    if len(argv) >= 4 and argv[1] == "wsrace-load":
        print(json.dumps(wsrace_load(argv[2], int(argv[3]))))
    elif len(argv) >= 4 and argv[1] == "trace-load":
        print(json.dumps(trace_load(argv[2], int(argv[3]))))
    elif len(argv) >= 8 and argv[1] == "record":
        print(json.dumps(record(argv[2], int(argv[3]), int(argv[4]),
                                *argv[5:9])))
    elif len(argv) >= 6 and argv[1] == "repro":
        print(json.dumps(repro(*argv[2:7])))
    elif len(argv) >= 4 and argv[1] == "profile":
        print(json.dumps(profile(argv[2], int(argv[3]))))
    elif len(argv) >= 5 and argv[1] == "speed":
        print(json.dumps(speed(*argv[2:5])))
    elif len(argv) >= 7 and argv[1] == "matrix":
        print(json.dumps(matrix_speed(*argv[2:7])))
    elif len(argv) >= 3 and argv[1] == "report":
        report(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
