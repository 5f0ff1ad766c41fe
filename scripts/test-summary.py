#!/usr/bin/env python3
"""Counts individual test cases in meson testlog.json files (one or more:
scripts/test adds the memcheck run's log to the native one).

TAP suites (the Criterion binaries) count one case per `ok`/`not ok` line;
other tests count as one case each. Prints "tests: N passed, N failed" and
exits 1 when a case failed or nothing ran.
"""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def main(paths):
    passed = failed = 0
    lines = []
    for path in paths:
        try:
            lines += open(path, encoding="utf-8").read().splitlines()
        except OSError as e:
            print(f"tests: cannot read {path}: {e}", file=sys.stderr)
            return 1
    for line in lines:
        rec = json.loads(line)
        cases = [TAP.match(l) for l in (rec.get("stdout") or "").splitlines()]
        cases = [m for m in cases if m]
        if cases:
            for m in cases:
                skipped = "# SKIP" in m.group(2)
                if m.group(1) == "ok" and not skipped:
                    passed += 1
                elif m.group(1) == "not ok":
                    failed += 1
            if rec.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and \
                    not any(m.group(1) == "not ok" for m in cases):
                failed += 1  # the binary failed beyond its cases
        elif rec.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif rec.get("result") != "SKIP":
            failed += 1
    print(f"tests: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
