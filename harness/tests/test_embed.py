#!/usr/bin/python3
"""test_embed.py - scripts/embed-asset.py, the build step that turns the
HTML report's style sheet and script into C arrays, as TAP.

usage: test_embed.py EMBED_ASSET

Embeds texts and reads their bytes back out of the C it writes: the array
is the file's bytes then a NUL, the length leaves the NUL out, the header
is included when asked. Text that is not UTF-8, holds a NUL byte or would
end its inline element early (the element's end tag in any case, "<!--"
in a script) is refused, with its file and line, and no C is written.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import tap

EMBED = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="wsrace-embed-")
results = []


def ok(cond, name, detail=""):
    results.append((bool(cond), name, detail))


def embed(data, *opts, name="wr__asset_test"):
    """Runs the generator on data; returns (exit code, stderr, C text or
    None when it wrote none)."""
    src = os.path.join(TMP, "asset.txt")
    out = os.path.join(TMP, "asset.c")
    with open(src, "wb") as f:
        f.write(data)
    if os.path.exists(out):
        os.remove(out)
    r = subprocess.run([sys.executable, EMBED] + list(opts) + [src, out, name],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    c = None
    if os.path.exists(out):
        with open(out, encoding="ascii") as f:
            c = f.read()
    return r.returncode, r.stderr, c


def array(c, name="wr__asset_test"):
    """The bytes of the array and the length the C defines."""
    body = c[c.index("const char %s[" % name):c.index("};")]
    data = bytes(int(x, 16) for x in re.findall(r"'\\x([0-9a-f]{2})'", body))
    n = re.search(r"const size_t %s_len = (\d+);" % name, c)
    return data, int(n.group(1)) if n else None


def main():
    text = "a { color: red; }\n\u00e9\u2028\U0001f600 '\"\\ </b>\n".encode()
    rc, err, c = embed(text, "--header", "report/wr_report_assets.h")
    data, n = array(c) if c else (None, None)
    ok(rc == 0 and data == text + b"\0" and n == len(text),
       "the array is the file's bytes and a NUL; the length leaves it out",
       "%s %s\n%r\n%r" % (rc, err, data, n))
    ok(c and '#include "report/wr_report_assets.h"' in c,
       "--header includes the header that declares the array")

    rc, err, c = embed(b"")
    ok(rc == 0 and c and array(c) == (b"\0", 0),
       "an empty file gives a lone NUL and length 0", err)

    rc, err, c = embed(b"</script> <!-- in a style sheet", "--element",
                       "style")
    ok(rc == 0 and c, "a style sheet may hold another element's tags", err)

    refused = [
        (b"ok\n\xff\n", [], ":2: not UTF-8", "bytes that are not UTF-8"),
        (b"a\nb\0c", [], ":2: a NUL byte", "a NUL byte"),
        (b"x\ny\n/* </STYLE> */", ["--element", "style"], ":3: '</STYLE'",
         "the end tag of its style element, in any case"),
        (b"s = '</script>';", ["--element", "script"], ":1: '</script'",
         "the end tag of its script element"),
        (b"\n// <!-- x", ["--element", "script"], ":2: '<!--'",
         "an HTML comment opener in a script"),
    ]
    for data, opts, want, what in refused:
        rc, err, c = embed(data, *opts)
        ok(rc != 0 and want in err and c is None,
           "refuses %s, with file and line, writing nothing" % what,
           "rc %s, stderr %r, C written: %s" % (rc, err, c is not None))

    rc, err, c = embed(b"x", name="1-bad")
    ok(rc != 0 and c is None, "refuses a name that is not a C identifier",
       err)

    code = tap.finish(results)
    shutil.rmtree(TMP, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
