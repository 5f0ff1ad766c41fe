#!/usr/bin/env python3
"""embed-asset.py - turns a text file into a C source holding its bytes.

usage: embed-asset.py [--element style|script] [--header H] INPUT OUTPUT NAME

Writes OUTPUT, a C file that defines

    const char NAME[];        the bytes of INPUT, as they are, then a NUL
    const size_t NAME_len;    how many bytes INPUT has (the NUL not counted)

and includes H (a header declaring both) when given. meson runs it at build
time (harness/meson.build) for the style sheet and the script of the HTML
report, so that the page stays one self-contained file while its CSS and
JavaScript are real files that editors, linters and formatters can read.

It refuses (exit 1, "INPUT:LINE: why") an input that is not UTF-8 or holds
a NUL byte, and with --element E, text that would end the inline <E>
element it is written into, or change how the browser reads it: "</E" in
any case, and for a script "<!--" too (HTML's script data escape states).
Bytes are written as character constants ('\\xNN'), which convert to char
without an overflow warning whatever char's signedness.

Python 3 standard library only: meson needs Python 3, so it is always
there.
"""
import argparse
import os
import re
import sys

PER_LINE = 12  # character constants per line of OUTPUT


def fail(path, data, offset, why):
    line = data.count(b"\n", 0, offset) + 1
    sys.exit("%s:%d: %s" % (path, line, why))


def check(path, data, element):
    """Exits with a message when data cannot be embedded as it is."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(path, data, e.start, "not UTF-8 (%s)" % e.reason)
    if b"\0" in data:
        fail(path, data, data.index(b"\0"), "a NUL byte")
    if element is None:
        return
    bad = [b"</" + element.encode()]
    if element == "script":
        bad.append(b"<!--")
    for text in bad:
        m = re.search(re.escape(text), data, re.IGNORECASE)
        if m:
            fail(path, data, m.start(),
                 "%r would break the inline <%s> element it is embedded in"
                 % (m.group().decode(), element))


def c_source(data, name, header, source_name):
    """The text of the C file."""
    out = ["/* %s, embedded by scripts/embed-asset.py at build time:"
           " generated, do not edit. */\n" % source_name,
           "#include <stddef.h>\n"]
    if header:
        out.append('\n#include "%s"\n' % header)
    out.append("\nconst char %s[%d] = {\n" % (name, len(data) + 1))
    body = data + b"\0"
    for i in range(0, len(body), PER_LINE):
        chunk = body[i:i + PER_LINE]
        out.append("    " + ", ".join("'\\x%02x'" % b for b in chunk) + ",\n")
    out.append("};\n")
    out.append("const size_t %s_len = %d;\n" % (name, len(data)))
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(
        description="Turns a text file into a C array of its bytes.")
    ap.add_argument("--element", choices=("style", "script"),
                    help="the inline HTML element the text goes into")
    ap.add_argument("--header", help="header to include, declaring NAME")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("name", help="C name of the array")
    args = ap.parse_args()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.name):
        sys.exit("embed-asset.py: %r is not a C identifier" % args.name)
    with open(args.input, "rb") as f:
        data = f.read()
    check(args.input, data, args.element)
    text = c_source(data, args.name, args.header,
                    os.path.basename(args.input))
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write(text)


if __name__ == "__main__":
    main()
