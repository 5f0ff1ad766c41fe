"""tap.py - the TAP output shared by the Python integration tests."""


def finish(results, tail=30):
    """Prints results ((good, name, detail) tuples) as TAP; returns the
    exit status: 0 when every one is good. The detail of each failure is
    printed as comments, its last `tail` lines. A failure whose name
    carries a "# TODO reason" directive is a known gap: reported, with its
    detail, and not counted (TAP's rule)."""
    print("1..%d" % len(results))
    bad = 0
    for i, (good, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if not good:
            bad += "# TODO" not in name
            for line in str(detail).splitlines()[-tail:]:
                print("#   " + line)
    return 1 if bad else 0
