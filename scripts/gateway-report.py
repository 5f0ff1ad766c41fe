#!/usr/bin/env python3
"""Writes the gateway reproduction report (report.md, summary.json) from a
Criterion JSON result of the end-to-end suite and the gateway traces it
kept (WSRACE_E2E_KEEP).

Usage: gateway-report.py RUN_DIR RUN_ID GATEWAY_BINARY COMMAND

RUN_DIR holds results.json, junit.xml and evidence/<test>-<n>.jsonl. Each
fault is judged on two kinds of test: those that assert its symptom with
the fault injected, and those that assert the symptom absent without it.
"""
import datetime
import glob
import json
import os
import subprocess
import sys

READY = ("PROCESSING_READY", "PROCESSING", "IDLE", "DEGRADED")

def where(pred):
    """Evidence: the events matching a predicate."""
    return lambda events: [e for e in events if pred(e)]


def second_live_machine(events):
    """A key gaining a machine while it already has one: the registration
    that made it live, then the one that should have been refused."""
    live, first, out = {}, {}, []
    for e in events:
        key, res = e.get("key"), e.get("result")
        if e["event"] in ("registry.register", "registry.rekey"):
            if res == "existing":
                out.append(e)
            elif res in ("created", "moved"):
                live[key] = live.get(key, 0) + 1
                if live[key] == 1:
                    first[key] = e
                else:
                    out += [first[key], e]
        if e["event"] == "registry.unregister" and res == "removed":
            live[key] = live.get(key, 1) - 1
        if e["event"] == "registry.rekey" and res == "moved":
            live[e["from"]] = live.get(e["from"], 1) - 1
    return out


def closed_but_registered(events):
    """A connection closed whose key was never unregistered."""
    removed = {(e.get("conn"), e.get("key")) for e in events
               if e["event"] == "registry.unregister"}
    return [e for e in events if e["event"] == "conn.closed" and
            not e["key"].startswith("pre-") and
            (e.get("conn"), e.get("key")) not in removed]


# fault -> tests proving it when injected, tests proving it absent when off
# (a test in both lists asserts both, on two gateways), and a function
# picking the trace events that are its evidence.
FAULTS = {
    "scope-loss": {
        "on": ["scope_loss_crash_kills_gateway_at_swap",
               "scope_loss_error_closes_1011_and_lives",
               "scope_loss_swallow_leaves_no_machine_under_key"],
        "off": ["scope_loss_off_swaps_cleanly"],
        "evidence": where(lambda e: (e["event"] == "swap.begin" and
                                     e.get("handle") == "out-of-scope") or
                          e["event"] in ("swap.error", "swap.swallowed")),
        "original": "test 6: state registry scope bug (100% failure)",
    },
    "fallback-ready": {
        "on": ["fallback_ready_reports_absent_key_ready"],
        "off": ["fallback_ready_reports_absent_key_ready"],
        "evidence": where(lambda e: e["event"] == "debug.ready" and
                          not e.get("registered") and e.get("ready")),
        "original": "test 5: readiness of a non-existent connection",
    },
    "coordinator-gap": {
        "on": ["coordinator_gap_processes_before_machine_ready"],
        "off": ["coordinator_gap_off_waits_for_machine"],
        "evidence": where(lambda e: (e["event"] == "coordinator.phase" and
                                     e.get("linked") is False) or
                          (e["event"] == "message.process" and
                           e.get("machine") not in READY)),
        "original": "test 4: coordinator ready with nothing registered",
    },
    "duplicate-registration": {
        "on": ["duplicate_registration_both_register_with_rendezvous"],
        "off": ["duplicate_registration_off_refuses_second_with_rendezvous"],
        "evidence": second_live_machine,
        "original": "test 1: duplicate and concurrent registration",
    },
    "early-welcome": {
        "on": ["early_welcome_claims_ready_before_machine"],
        "off": ["early_welcome_claims_ready_before_machine"],
        "evidence": where(lambda e: e["event"] == "welcome.sent" and
                          e.get("machine") not in READY),
        "original": "same code base",
    },
    "stuck-swap": {
        "on": ["stuck_swap_never_becomes_ready"],
        "off": ["stuck_swap_never_becomes_ready"],
        "evidence": where(lambda e: (e["event"] == "machine.transition" and
                                     e.get("result") == "refused") or
                          e["event"] == "ready.failed"),
        "original": "same code base",
    },
    "registry-leak": {
        "on": ["registry_leak_keeps_machine_after_close"],
        "off": ["registry_leak_keeps_machine_after_close"],
        "evidence": closed_but_registered,
        "original": "same code base",
    },
}


def load_traces(evdir, test):
    """Events of every gateway the test started, per gateway."""
    out = []
    for path in sorted(glob.glob(os.path.join(evdir, test + "-*.jsonl"))):
        events = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass  # a torn last line after a crash
        out.append((path, events))
    return out


def injected(events, fault):
    start = next((e for e in events if e["event"] == "gateway.start"), {})
    return fault in (start.get("faults") or "").replace("=", ",").split(",")


def main(run_dir, run_id, gateway, command):
    res = json.load(open(os.path.join(run_dir, "results.json")))
    status = {}
    messages = {}
    for suite in res["test_suites"]:
        for t in suite["tests"]:
            status[t["name"]] = t["status"]
            messages[t["name"]] = t.get("messages", [])
    summaries = {}
    try:
        lines = subprocess.run([gateway, "--list-faults"], text=True,
                               capture_output=True, timeout=10).stdout
        for line in lines.splitlines():
            name, _, text = line.partition(" ")
            summaries[name] = text.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    evdir = os.path.join(run_dir, "evidence")
    cases = []
    for fault, spec in FAULTS.items():
        on_ok = all(status.get(t) == "PASSED" for t in spec["on"])
        off_ok = all(status.get(t) == "PASSED" for t in spec["off"])
        ev_on, ev_off = [], 0
        for t in sorted(set(spec["on"] + spec["off"])):
            for path, events in load_traces(evdir, t):
                hits = spec["evidence"](events)
                if injected(events, fault):
                    ev_on += [(os.path.relpath(path, run_dir), e)
                              for e in hits]
                else:
                    ev_off += len(hits)
        cases.append({
            "fault": fault,
            "summary": summaries.get(fault, ""),
            "original": spec["original"],
            "reproduced": on_ok,
            "absent_when_off": off_ok,
            "evidence_events_injected": len(ev_on),
            "evidence_events_off": ev_off,
            "evidence": [dict(e, trace=p) for p, e in ev_on[:4]],
            "tests": {t: status.get(t, "MISSING")
                      for t in sorted(set(spec["on"] + spec["off"]))},
            "failures": {t: messages[t] for t in spec["on"] + spec["off"]
                         if status.get(t) != "PASSED"},
            "replay": "build/target/tests/test-e2e --filter 'e2e/@(%s)'"
                      % "|".join(sorted(set(spec["on"] + spec["off"]))),
        })
    others = {t: s for t, s in status.items()
              if not any(t in c["tests"] for c in cases)}
    ok = all(c["reproduced"] and c["absent_when_off"] for c in cases) and \
        all(s == "PASSED" for s in others.values())
    summary = {
        "run": run_id,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "command": command,
        "cores": os.cpu_count(),
        "passed": ok,
        "faults": cases,
        "other_checks": others,
    }
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)

    md = []
    w = md.append
    n_rep = sum(c["reproduced"] and c["absent_when_off"] for c in cases)
    w("# wsrace gateway reproduction report\n")
    w(f"Run `{summary['run']}`, {summary['date']}, {summary['cores']} "
      f"cores. Command: `{command}`.\n")
    w(f"**{n_rep} of {len(cases)} faults reproduced when injected and "
      f"absent when not.** Each fault is injected into the reference "
      f"gateway (`wsrace-gateway --inject FAULT`), driven over real "
      f"WebSocket connections on loopback, and its symptom asserted; the "
      f"same scenario without the fault must not show it.\n")
    w("| fault | original report | reproduced (injected) | "
      "absent (not injected) | evidence events on / off |")
    w("|---|---|---|---|---|")
    for c in cases:
        w(f"| `{c['fault']}` | {c['original']} | "
          f"{'YES' if c['reproduced'] else 'NO'} | "
          f"{'YES' if c['absent_when_off'] else 'NO'} | "
          f"{c['evidence_events_injected']} / {c['evidence_events_off']} |")
    w("")
    for c in cases:
        w(f"## `{c['fault']}`\n")
        w(f"{c['summary']}.\n")
        for t, s in c["tests"].items():
            w(f"- `{t}`: {s}")
        for t, msgs in c["failures"].items():
            w(f"\n  Failure of `{t}`:\n")
            w("  ```\n  " + "\n  ".join(msgs) + "\n  ```")
        if c["evidence"]:
            w("\nEvidence (gateway trace, first events):\n")
            w("```")
            for e in c["evidence"]:
                w(json.dumps({k: v for k, v in e.items() if k != "trace"}))
            w("```")
            w(f"(from `{c['evidence'][0]['trace']}`)")
        w(f"\nReplay: `{c['replay']}`\n")
    w("## Other checks\n")
    for t, s in sorted(others.items()):
        w(f"- `{t}`: {s}")
    w("\nJUnit: `junit.xml`. Machine-readable: `summary.json`. Traces: "
      "`evidence/`.")
    with open(os.path.join(run_dir, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    for c in cases:
        print(f"  {c['fault']:<24} reproduced: "
              f"{'yes' if c['reproduced'] else 'NO ':<4} absent when off: "
              f"{'yes' if c['absent_when_off'] else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
