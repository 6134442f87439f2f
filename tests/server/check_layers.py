#!/usr/bin/env python3
"""check_layers.py: the server's includes only go down its layers, and no two of its modules
include each other.

Layers, top to bottom (docs/ARCHITECTURE.md, "Layers"):
    root    server/*.c|h       main, server start/stop, healthcheck
    http    server/http/       the libmicrohttpd adapter and the loop pump
    api     server/api/        router, admission, handlers
    engine  server/engine/     sessions, operations, jobs, chunks, pacer, registry, checkpoints
    base    server/base/       srv.h, requests/responses, config, log, metrics, faults
    events  server/events/     the event hub and subscriber queues (no server dependency)
A file may include files of its own layer or of a layer below. Quoted includes name the
layer ("engine/session.h") and must resolve to a file of server/ (or be a core/proto/pool
header: "spiked/...", "sk_pool.h"). A module is a .c/.h pair; a module that includes another
must not be included by it (includes of a module's files are counted together).

Usage: check_layers.py SERVER_DIR. Exit status 0 when every rule holds, else 1 with one line
per violation.
"""
import os
import re
import sys

LAYERS = ["root", "http", "api", "engine", "base", "events"]
EXTERNAL = re.compile(r"^(spiked/|sk_pool\.h$)")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    top = rel.split("/")[0] if "/" in rel else "root"
    return top if top in LAYERS else None


def main(server):
    errors = []
    files = []
    for root, _, names in os.walk(server):
        for n in names:
            if n.endswith((".c", ".h", ".def")):
                files.append(os.path.relpath(os.path.join(root, n), server))
    deps = {}  # module -> set of modules it includes
    for rel in sorted(files):
        lay = layer_of(rel)
        if lay is None:
            errors.append(f"{rel}: not in a layer ({', '.join(LAYERS)})")
            continue
        text = open(os.path.join(server, rel), encoding="utf-8").read()
        mod = os.path.splitext(rel)[0]
        for inc in INCLUDE.findall(text):
            if EXTERNAL.match(inc):
                continue
            if "/" in inc:
                target = os.path.normpath(inc)
            else:  # bare name: only for a file beside a root file
                target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
                if layer_of(target) != "root":
                    errors.append(f"{rel}: #include \"{inc}\": name the layer (\"{lay}/...\")")
                    continue
            if target.startswith("..") or not os.path.isfile(os.path.join(server, target)):
                errors.append(f"{rel}: #include \"{inc}\": not a file of server/")
                continue
            tl = layer_of(target)
            if LAYERS.index(tl) < LAYERS.index(lay):
                errors.append(f"{rel} ({lay}) includes {target} ({tl}): up the layers")
            tmod = os.path.splitext(target)[0]
            if tmod != mod and not target.endswith(".def"):
                deps.setdefault(mod, set()).add(tmod)
    for a in sorted(deps):
        for b in sorted(deps[a]):
            if a < b and a in deps.get(b, ()):
                errors.append(f"{a} and {b} include each other")
    for e in errors:
        print(e)
    if not errors:
        print(f"{len(files)} files of {server}: includes go down the layers {' > '.join(LAYERS)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "server"))
