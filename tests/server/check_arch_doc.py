#!/usr/bin/env python3
"""check_arch_doc.py: every function and file docs/ARCHITECTURE.md names exists in the code.

Names are taken from inline code spans: `name()` must be defined (a line that starts a
definition: return type at column 0, then name and '(') in a .c file of core/, proto/ or
server/; a span with a '/' that looks like a path (server/..., core/..., docs/..., tests/...)
must exist in the repository. A name or path that is gone from the code makes this fail, so
the document cannot silently drift.

Usage: check_arch_doc.py REPO_ROOT. Exit status 0 when every name exists, else 1 with one
line per missing name.
"""
import os
import re
import sys


def main(root):
    doc = open(os.path.join(root, "docs", "ARCHITECTURE.md"), encoding="utf-8").read()
    spans = re.findall(r"`([^`\n]+)`", doc)
    funcs = sorted({m.group(1) for s in spans for m in [re.fullmatch(r"([A-Za-z_]\w*)\(\)", s)] if m})
    paths = sorted({s for s in spans if re.fullmatch(r"(server|core|proto|docs|tests)/[\w./-]+", s)})
    sources = []
    for top in ("core", "proto", "server"):
        for d, _, names in os.walk(os.path.join(root, top)):
            sources += [os.path.join(d, n) for n in names if n.endswith(".c")]
    text = "\n".join(open(p, encoding="utf-8").read() for p in sources)
    missing = []
    for f in funcs:
        if not re.search(r"^[A-Za-z_][\w \t*]*\b" + re.escape(f) + r"\(", text, re.M):
            missing.append(f"function {f}() is not defined in core/, proto/ or server/")
    for p in paths:
        if not os.path.exists(os.path.join(root, p)):
            missing.append(f"path {p} does not exist")
    for m in missing:
        print(m)
    if not missing:
        print(f"docs/ARCHITECTURE.md: {len(funcs)} functions and {len(paths)} paths, all present")
    return 1 if missing or not funcs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
